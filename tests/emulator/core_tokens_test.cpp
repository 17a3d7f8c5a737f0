#include "tokens.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <regex>

#include "http_text.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "world.hpp"

namespace mailtrixy::emulator {
namespace {

TEST(EmulatorTokens, PkceS256MatchesRfc7636AppendixB) {
  EXPECT_EQ(pkce_s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  EXPECT_TRUE(pkce_verifies("S256", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
  EXPECT_FALSE(pkce_verifies("S256", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                             "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"));
}

TEST(EmulatorTokens, PkcePlainComparesTheVerifierItselfAndUnknownMethodsFail) {
  EXPECT_TRUE(pkce_verifies("plain", "same-value-same-value-same-value-same-value", "same-value-same-value-same-value-same-value"));
  EXPECT_FALSE(pkce_verifies("plain", "same-value-same-value-same-value-same-value", "other"));
  EXPECT_FALSE(pkce_verifies("s256", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                             "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
  EXPECT_FALSE(pkce_verifies("", "x", "x"));
}

TEST(EmulatorTokens, GuidsHaveTheCanonicalShape) {
  const std::regex guid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  const std::string a = new_guid();
  EXPECT_TRUE(std::regex_match(a, guid)) << a;
  EXPECT_NE(a, new_guid());
  EXPECT_TRUE(looks_like_guid(a));
  EXPECT_TRUE(looks_like_guid("6731DE76-14A6-49AE-97BC-6EBA6914391E"));
  EXPECT_FALSE(looks_like_guid("Qx48Q~tEsTsEcReT.vAlUe-0123456789abcdefXY"));
  EXPECT_FALSE(looks_like_guid("6731de76-14a6-49ae-97bc-6eba6914391"));
  EXPECT_FALSE(looks_like_guid("6731de76x14a6-49ae-97bc-6eba6914391e"));
}

TEST(EmulatorTokens, DerivedIdsAreStableAcrossRunsAndDistinct) {
  EXPECT_EQ(derived_guid("oid", "bob@contoso.onmicrosoft.com"), derived_guid("oid", "bob@contoso.onmicrosoft.com"));
  EXPECT_NE(derived_guid("oid", "bob@contoso.onmicrosoft.com"), derived_guid("tenant", "bob@contoso.onmicrosoft.com"));
  EXPECT_TRUE(looks_like_guid(derived_guid("oid", "x")));
  const std::string id = personal_account_id("Alice@Outlook.com");
  EXPECT_EQ(id, personal_account_id("alice@outlook.com"));
  EXPECT_NE(id, personal_account_id("alice2@outlook.com"));
  EXPECT_TRUE(std::regex_match(id, std::regex("^[1-9a-f][0-9a-f]{15}$"))) << id;
}

TEST(EmulatorTokens, UsersFollowTheAccountRule) {
  const User personal = make_user({"jane.doe@outlook.com", "pw"}, Locale::english);
  EXPECT_TRUE(personal.personal);
  EXPECT_EQ(personal.tid, kPersonalTenantId);
  EXPECT_EQ(personal.oid.size(), 16u);
  EXPECT_EQ(personal.token_oid(), "00000000-0000-0000-" + personal.oid.substr(0, 4) + "-" + personal.oid.substr(4));
  EXPECT_EQ(personal.display_name, "Jane Doe");
  EXPECT_EQ(personal.given_name, "Jane");
  EXPECT_EQ(personal.surname, "Doe");
  ASSERT_NE(personal.mailbox, nullptr);
  EXPECT_EQ(personal.mailbox->owner_address(), "jane.doe@outlook.com");

  const User work = make_user({"bob@Contoso.OnMicrosoft.com", "pw"}, Locale::english);
  EXPECT_FALSE(work.personal);
  EXPECT_TRUE(looks_like_guid(work.oid));
  EXPECT_TRUE(looks_like_guid(work.tid));
  EXPECT_EQ(work.token_oid(), work.oid);
  EXPECT_EQ(work.tid, make_user({"carol@contoso.onmicrosoft.com", "pw"}, Locale::english).tid);
  EXPECT_NE(work.tid, make_user({"carol@fabrikam.onmicrosoft.com", "pw"}, Locale::english).tid);
  // A bare "onmicrosoft.com" domain is not a tenant.
  EXPECT_TRUE(make_user({"x@onmicrosoft.com", "pw"}, Locale::english).personal);
}

TEST(EmulatorTokens, TimestampsUseMicrosoftsFormats) {
  // 2016-01-09 02:02:12.597 UTC
  const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1452304932)) +
                    std::chrono::milliseconds(597);
  EXPECT_EQ(identity_timestamp(when), "2016-01-09 02:02:12Z");
  EXPECT_EQ(precise_timestamp(when), "2016-01-09T02:02:12.5970000Z");
  EXPECT_EQ(graph_date(when), "2016-01-09T02:02:12");
  EXPECT_EQ(iso_seconds(when), "2016-01-09T02:02:12Z");
  EXPECT_EQ(unix_seconds(when), 1452304932);
}

TEST(EmulatorTokens, JwtsAreWellFormedRs256AndVerify) {
  auto signer = JwtSigner::generate();
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  const std::string jwt = signer->sign(R"({"aud":"app","ver":"2.0"})");
  const auto parts = split(jwt, '.');
  ASSERT_EQ(parts.size(), 3u);
  auto header = crypto::base64url_decode(parts[0]);
  ASSERT_TRUE(header.ok());
  rapidjson::Document parsed;
  parsed.Parse(header->c_str());
  ASSERT_FALSE(parsed.HasParseError());
  EXPECT_STREQ(parsed["alg"].GetString(), "RS256");
  EXPECT_STREQ(parsed["typ"].GetString(), "JWT");
  EXPECT_EQ(parsed["kid"].GetString(), signer->kid());
  EXPECT_EQ(*crypto::base64url_decode(parts[1]), R"({"aud":"app","ver":"2.0"})");
  EXPECT_EQ(crypto::base64url_decode(parts[2])->size(), 256u);  // RSA-2048
  EXPECT_TRUE(signer->verify(jwt));

  std::string tampered = jwt;
  tampered[parts[0].size() + 3] = tampered[parts[0].size() + 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(signer->verify(tampered));
  EXPECT_FALSE(signer->verify("not-a-jwt"));
  auto other = JwtSigner::generate();
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->verify(jwt));

  rapidjson::Document jwks;
  jwks.Parse(signer->jwks_json().c_str());
  ASSERT_FALSE(jwks.HasParseError());
  const auto& key = jwks["keys"][0];
  EXPECT_STREQ(key["kty"].GetString(), "RSA");
  EXPECT_EQ(key["kid"].GetString(), signer->kid());
  EXPECT_STREQ(key["e"].GetString(), "AQAB");
  EXPECT_EQ(crypto::base64url_decode(key["n"].GetString())->size(), 256u);
}

TEST(EmulatorHttpText, DecodesFormsAndQueries) {
  const FormFields fields = parse_form("a=1&b=x+y%20z&c&&d=%2Fpath%3Fq%3D1&bad=%zz&a=2");
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_EQ(form_value(fields, "a"), "1");
  EXPECT_EQ(form_value(fields, "b"), "x y z");
  EXPECT_EQ(form_value(fields, "c"), "");
  EXPECT_EQ(form_value(fields, "d"), "/path?q=1");
  EXPECT_EQ(form_value(fields, "bad"), "%zz");
  EXPECT_FALSE(form_value(fields, "A").has_value());
  EXPECT_EQ(percent_decode("a+b%2B", false), "a+b+");
  EXPECT_EQ(percent_decode("100%", true), "100%");
}

TEST(EmulatorHttpText, EncodesLikeTheLoginService) {
  EXPECT_EQ(form_encode_lower("AADSTS65004: User declined.\r\nTrace ID: x"),
            "AADSTS65004%3a+User+declined.%0d%0aTrace+ID%3a+x");
  EXPECT_EQ(url_encode("https://a/b c"), "https%3A%2F%2Fa%2Fb%20c");
  EXPECT_EQ(html_escape(R"(<a href="x">'&'</a>)"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_TRUE(iequals("Bearer", "bEARER"));
  EXPECT_FALSE(iequals("Bearer", "Bearer "));
}

}  // namespace
}  // namespace mailtrixy::emulator
