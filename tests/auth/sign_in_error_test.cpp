#include "mailtrixy/auth/sign_in_error.hpp"

#include <gtest/gtest.h>

#include <set>

namespace mailtrixy::auth {
namespace {

using Kind = SignInError::Kind;

TokenEndpointError token_error(int status, std::string error, std::int64_t code, std::string description = "") {
  TokenEndpointError out;
  out.http_status = status;
  out.error = std::move(error);
  if (code != 0) out.error_codes.push_back(code);
  out.description = description.empty() && code != 0 ? "AADSTS" + std::to_string(code) + ": text" : description;
  return out;
}

TEST(SignInErrorClassification, EveryMicrosoftCaseHasItsKind) {
  struct Case {
    TokenEndpointError error;
    Kind kind;
  };
  const std::vector<Case> cases = {
      {token_error(401, "invalid_client", 7000215), Kind::invalid_client_secret},
      {token_error(401, "invalid_client", 7000218), Kind::invalid_client_secret},
      {token_error(401, "invalid_client", 0, "no code at all"), Kind::invalid_client_secret},
      {token_error(401, "invalid_client", 7000222), Kind::expired_client_secret},
      {token_error(400, "invalid_request", 50011), Kind::redirect_uri_mismatch},
      {token_error(400, "invalid_grant", 54005), Kind::code_already_redeemed},
      {token_error(400, "invalid_grant", 50148), Kind::pkce_mismatch},
      {token_error(400, "invalid_grant", 501481), Kind::pkce_mismatch},
      {token_error(400, "invalid_request", 50147), Kind::pkce_mismatch},
      {token_error(400, "invalid_request", 50149), Kind::pkce_mismatch},
      {token_error(400, "invalid_grant", 70008), Kind::invalid_grant_other},
      {token_error(400, "invalid_grant", 700005), Kind::invalid_grant_other},
      {token_error(0, "access_denied", 65004), Kind::consent_declined},
      {token_error(0, "access_denied", 0, "the user canceled the authentication"), Kind::consent_declined},
      {token_error(400, "invalid_scope", 70011), Kind::microsoft_error_other},
      {token_error(400, "unauthorized_client", 700016), Kind::microsoft_error_other},
      {token_error(0, "login_required", 50058), Kind::microsoft_error_other},
      {token_error(503, "temporarily_unavailable", 0, "busy"), Kind::server_error},
      {token_error(500, "server_error", 0, "oops"), Kind::server_error},
      {token_error(502, "", 0, "Microsoft answered HTTP 502 without its usual JSON error"), Kind::server_error},
      {token_error(404, "", 0, "Microsoft answered HTTP 404 without its usual JSON error"), Kind::malformed_response},
  };
  for (const Case& item : cases) {
    const SignInError classified = classify_sign_in_error(item.error, {"https://bridge.example/email-oauth/microsoft/callback", ""});
    EXPECT_EQ(classified.kind, item.kind) << item.error.error << " " << item.error.description << " → "
                                          << to_string(classified.kind);
    EXPECT_EQ(classified.error, item.error.error);
    EXPECT_EQ(classified.description, item.error.description);
    EXPECT_FALSE(classified.title.empty());
    EXPECT_FALSE(classified.explanation.empty());
    EXPECT_FALSE(classified.fix.empty());
  }
}

TEST(SignInErrorTexts, SayWhatTheSpecRequires) {
  const SignInErrorContext context{"https://bridge.example:8443/email-oauth/microsoft/callback", ""};
  const SignInError invalid = make_sign_in_error(Kind::invalid_client_secret, context);
  EXPECT_NE(invalid.explanation.find("the Client Secret doesn't match Azure; most common cause: the Secret ID was "
                                     "pasted instead of the Value"),
            std::string::npos);
  EXPECT_TRUE(invalid.admin_action);

  const SignInError expired = make_sign_in_error(Kind::expired_client_secret, context);
  EXPECT_NE(expired.fix.find("Certificates & secrets → New client secret"), std::string::npos);
  EXPECT_NE(expired.fix.find("Existing connections keep working"), std::string::npos);
  EXPECT_NE(expired.explanation.find("AADSTS7000222"), std::string::npos);

  const SignInError declined = make_sign_in_error(Kind::consent_declined, context);
  EXPECT_NE(declined.explanation.find("consent was declined"), std::string::npos);

  const SignInError offline = make_sign_in_error(Kind::missing_offline_access, context);
  EXPECT_NE(offline.explanation.find("offline_access"), std::string::npos);
  EXPECT_NE(offline.explanation.find("about an hour"), std::string::npos);

  const SignInError redirect = make_sign_in_error(Kind::redirect_uri_mismatch, context);
  EXPECT_NE(redirect.fix.find("https://bridge.example:8443/email-oauth/microsoft/callback"), std::string::npos);
  EXPECT_NE(redirect.fix.find("Redirect URIs"), std::string::npos);

  const SignInError network = make_sign_in_error(Kind::network, {"", "connection refused"});
  EXPECT_NE(network.explanation.find("connection refused"), std::string::npos);
}

TEST(SignInErrorTexts, EveryKindHasItsOwnNameAndTitle) {
  std::set<std::string> names;
  std::set<std::string> titles;
  for (int k = static_cast<int>(Kind::integration_not_configured); k <= static_cast<int>(Kind::internal_error); ++k) {
    const auto kind = static_cast<Kind>(k);
    const SignInError error = make_sign_in_error(kind);
    EXPECT_TRUE(names.insert(std::string(to_string(kind))).second) << to_string(kind);
    EXPECT_TRUE(titles.insert(error.title).second) << error.title;
    EXPECT_NE(to_string(kind), "unknown");
  }
  EXPECT_EQ(names.size(), 16U);
}

}  // namespace
}  // namespace mailtrixy::auth
