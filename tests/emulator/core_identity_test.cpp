// The identity platform, driven through the real handler: the sign-in form, every error the
// bridge's troubleshooting relies on, and the token endpoint's JSON shapes (graph-facts A).

#include <regex>

#include "core_test_support.hpp"

namespace mailtrixy::emulator::testing {
namespace {

using EmulatorIdentity = CoreTest;

// Checks the complete token-endpoint error shape and returns the error_description.
std::string expect_token_error(const net::HttpResponse& response, int status, const char* error, int code) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(header(response, "Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(header(response, "Cache-Control"), "no-store, no-cache");
  rapidjson::Document json = parse_json(response.body);
  if (!json.IsObject()) return {};
  EXPECT_STREQ(json["error"].GetString(), error);
  EXPECT_EQ(json["error_codes"].Size(), 1u);
  EXPECT_EQ(json["error_codes"][0].GetInt(), code);
  const std::string description = json["error_description"].GetString();
  const std::string timestamp = json["timestamp"].GetString();
  const std::string trace = json["trace_id"].GetString();
  const std::string correlation = json["correlation_id"].GetString();
  EXPECT_TRUE(std::regex_match(timestamp, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)"))) << timestamp;
  EXPECT_TRUE(looks_like_guid(trace));
  EXPECT_TRUE(looks_like_guid(correlation));
  EXPECT_NE(trace, correlation);
  const std::string prefix = "AADSTS" + std::to_string(code) + ": ";
  EXPECT_EQ(description.rfind(prefix, 0), 0u) << description;
  const std::string suffix = "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + correlation +
                             "\r\nTimestamp: " + timestamp;
  EXPECT_TRUE(description.ends_with(suffix)) << description;
  EXPECT_EQ(std::string(json["error_uri"].GetString()),
            "https://127.0.0.1:4443/error?code=" + std::to_string(code));
  return description.substr(prefix.size(), description.size() - prefix.size() - suffix.size());
}

TEST_F(EmulatorIdentity, AuthorizeGetRendersTheSignInFormPostingBackToTheSameUrl) {
  const std::string target = authorize_target(kFullScope, "&login_hint=" + url_encode(kPersonal));
  const net::HttpResponse response = send("GET", target);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(header(response, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(response.body.find("<form method=\"POST\" action=\"" + html_escape(target) + "\">"), std::string::npos);
  EXPECT_NE(response.body.find("name=\"login\""), std::string::npos);
  EXPECT_NE(response.body.find("name=\"password\""), std::string::npos);
  EXPECT_NE(response.body.find("name=\"consent\" value=\"accept\""), std::string::npos);
  EXPECT_NE(response.body.find("name=\"consent\" value=\"decline\""), std::string::npos);
  EXPECT_NE(response.body.find("value=\"" + std::string(kPersonal) + "\""), std::string::npos);
  EXPECT_NE(response.body.find("<label for=\"password\">"), std::string::npos);
}

TEST_F(EmulatorIdentity, AcceptRedirectsWithCodeAndStateInTheQuery) {
  const net::HttpResponse response = send("POST", authorize_target(),
                                          "login=" + url_encode(kPersonal) + "&password=" + url_encode(kPassword) +
                                              "&consent=accept",
                                          {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(response.status, 302);
  const std::string location = header(response, "Location");
  EXPECT_EQ(location.rfind(std::string(kRedirectUri) + "?code=", 0), 0u) << location;
  const FormFields params = location_params(location);
  EXPECT_EQ(form_value(params, "state"), "st4te");
  EXPECT_GT(form_value(params, "code").value_or("").size(), 40u);
}

TEST_F(EmulatorIdentity, FormPostDeliversTheCodeInAnAutoSubmittingForm) {
  const net::HttpResponse response =
      send("POST", authorize_target(kFullScope, "&response_mode=form_post"),
           "login=" + url_encode(kPersonal) + "&password=" + url_encode(kPassword) + "&consent=accept");
  ASSERT_EQ(response.status, 200);
  EXPECT_TRUE(header(response, "Location").empty());
  EXPECT_NE(response.body.find("action=\"" + std::string(kRedirectUri) + "\""), std::string::npos);
  EXPECT_NE(response.body.find("name=\"code\" value=\""), std::string::npos);
  EXPECT_NE(response.body.find("name=\"state\" value=\"st4te\""), std::string::npos);
}

TEST_F(EmulatorIdentity, WrongPasswordRerendersTheFormWithoutRedirecting) {
  const net::HttpResponse response = send("POST", authorize_target(),
                                          "login=" + url_encode(kPersonal) + "&password=wrong&consent=accept");
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(header(response, "Location").empty());
  EXPECT_NE(response.body.find("Your account or password is incorrect."), std::string::npos);
  EXPECT_NE(response.body.find("<form method=\"POST\""), std::string::npos);
  // Unknown users get the same answer (no account enumeration).
  const net::HttpResponse unknown =
      send("POST", authorize_target(), "login=nobody%40outlook.com&password=x&consent=accept");
  EXPECT_EQ(unknown.status, 200);
  EXPECT_NE(unknown.body.find("Your account or password is incorrect."), std::string::npos);
}

TEST_F(EmulatorIdentity, DeclinedConsentRedirectsWithAccessDenied) {
  const net::HttpResponse response = send("POST", authorize_target(),
                                          "login=" + url_encode(kPersonal) + "&password=" + url_encode(kPassword) +
                                              "&consent=decline");
  ASSERT_EQ(response.status, 302);
  const std::string location = header(response, "Location");
  EXPECT_NE(location.find("error=access_denied&error_description=AADSTS65004%3a+User+declined+to+consent+to+access+"
                          "the+app.%0d%0aTrace+ID%3a+"),
            std::string::npos)
      << location;
  const FormFields params = location_params(location);
  EXPECT_EQ(form_value(params, "state"), "st4te");
  EXPECT_EQ(form_value(params, "error_uri"), "https://127.0.0.1:4443/error?code=65004");
  EXPECT_FALSE(form_value(params, "code").has_value());
}

TEST_F(EmulatorIdentity, UnregisteredRedirectUriIsAnErrorPageNotARedirect) {
  const std::string target = "/common/oauth2/v2.0/authorize?client_id=" + std::string(kClientId) +
                             "&response_type=code&scope=openid&redirect_uri=" +
                             url_encode("https://localhost:8443/email-oauth/microsoft/callback/");
  const net::HttpResponse response = send("GET", target);
  EXPECT_EQ(response.status, 400);
  EXPECT_TRUE(header(response, "Location").empty());
  EXPECT_NE(response.body.find(
                "AADSTS50011: The redirect URI &#39;https://localhost:8443/email-oauth/microsoft/callback/&#39; "
                "specified in the request does not match the redirect URIs configured for the application &#39;" +
                std::string(kClientId) +
                "&#39;. Make sure the redirect URI sent in the request matches one added to your application in the "
                "Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix "
                "this."),
            std::string::npos)
      << response.body;
  // Case matters too.
  EXPECT_EQ(send("GET", "/common/oauth2/v2.0/authorize?client_id=" + std::string(kClientId) +
                            "&response_type=code&scope=openid&redirect_uri=" +
                            url_encode("https://LOCALHOST:8443/email-oauth/microsoft/callback"))
                .status,
            400);
}

TEST_F(EmulatorIdentity, UnknownClientIsAnErrorPage) {
  const net::HttpResponse response = send(
      "GET", "/common/oauth2/v2.0/authorize?client_id=11112222-bbbb-3333-cccc-4444dddd5555&response_type=code&"
             "scope=openid&redirect_uri=" + url_encode(kRedirectUri));
  EXPECT_EQ(response.status, 400);
  EXPECT_TRUE(header(response, "Location").empty());
  EXPECT_NE(response.body.find("AADSTS700016: Application with identifier &#39;11112222-bbbb-3333-cccc-4444dddd5555"
                               "&#39; was not found in the directory &#39;common&#39;."),
            std::string::npos);
}

TEST_F(EmulatorIdentity, UnknownTenantIsAnErrorPage) {
  const net::HttpResponse response = send("GET", authorize_target(kFullScope, "", "nosuchtenant.example"));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("AADSTS90002: Tenant &#39;nosuchtenant.example&#39; not found."), std::string::npos);
}

TEST_F(EmulatorIdentity, ErrorsAfterTheRedirectUriIsTrustedGoBackToTheApp) {
  const auto error_of = [&](const std::string& target) {
    const net::HttpResponse response = send("GET", target);
    EXPECT_EQ(response.status, 302) << response.body;
    const FormFields params = location_params(header(response, "Location"));
    const std::string description = form_value(params, "error_description").value_or("");
    return form_value(params, "error").value_or("") + " " + description.substr(0, description.find(':'));
  };
  const std::string base = "/common/oauth2/v2.0/authorize?client_id=" + std::string(kClientId) +
                           "&redirect_uri=" + url_encode(kRedirectUri) + "&state=s";
  EXPECT_EQ(error_of(base + "&scope=openid"), "invalid_request AADSTS900144");
  EXPECT_EQ(error_of(base + "&response_type=token&scope=openid"), "unsupported_response_type AADSTS700054");
  EXPECT_EQ(error_of(base + "&response_type=code"), "invalid_request AADSTS900144");
  EXPECT_EQ(error_of(base + "&response_type=code&scope=https%3A%2F%2Fother.example%2Fread"),
            "invalid_scope AADSTS70011");
  EXPECT_EQ(error_of(base + "&response_type=code&scope=openid&code_challenge=" + kChallenge +
                     "&code_challenge_method=S512"),
            "invalid_request AADSTS50149");
  EXPECT_EQ(error_of(base + "&response_type=code&scope=openid&code_challenge=short&code_challenge_method=S256"),
            "invalid_request AADSTS501491");
  EXPECT_EQ(error_of(base + "&response_type=code&scope=openid&prompt=none"), "login_required AADSTS50058");
}

TEST_F(EmulatorIdentity, TokenSuccessHasMicrosoftsShapeAndAValidIdToken) {
  const net::HttpResponse response = token_request(redeem_form(sign_in()) + "&client_info=1");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(header(response, "Cache-Control"), "no-store, no-cache");
  // Field order as the service emits it.
  EXPECT_EQ(response.body.rfind(R"({"token_type":"Bearer","scope":")", 0), 0u) << response.body;
  rapidjson::Document json = parse_json(response.body);
  EXPECT_STREQ(json["scope"].GetString(), "Mail.ReadWrite Mail.Send User.Read profile openid email offline_access");
  EXPECT_EQ(json["expires_in"].GetInt(), 3599);
  EXPECT_EQ(json["ext_expires_in"].GetInt(), 3599);
  EXPECT_TRUE(json["access_token"].IsString());
  EXPECT_TRUE(json["refresh_token"].IsString());
  const std::string id_token = json["id_token"].GetString();
  EXPECT_TRUE(signer().verify(id_token));
  const auto parts = split(id_token, '.');
  ASSERT_EQ(parts.size(), 3u);
  rapidjson::Document claims = parse_json(*crypto::base64url_decode(parts[1]));
  const User* alice = world_->find_user_by_address(kPersonal);
  EXPECT_STREQ(claims["aud"].GetString(), kClientId);
  EXPECT_EQ(std::string(claims["iss"].GetString()),
            "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0");
  EXPECT_EQ(claims["tid"].GetString(), alice->tid);
  EXPECT_EQ(claims["oid"].GetString(), alice->token_oid());
  EXPECT_STREQ(claims["preferred_username"].GetString(), kPersonal);
  EXPECT_STREQ(claims["name"].GetString(), "Alice Smith");
  EXPECT_STREQ(claims["email"].GetString(), kPersonal);
  EXPECT_STREQ(claims["ver"].GetString(), "2.0");
  EXPECT_EQ(claims["exp"].GetInt64() - claims["iat"].GetInt64(), 3600);
  EXPECT_EQ(claims["nbf"].GetInt64(), claims["iat"].GetInt64());
  EXPECT_TRUE(claims["sub"].IsString());
  rapidjson::Document client_info = parse_json(*crypto::base64url_decode(json["client_info"].GetString()));
  EXPECT_EQ(client_info["uid"].GetString(), alice->token_oid());
  EXPECT_EQ(client_info["utid"].GetString(), alice->tid);
}

TEST_F(EmulatorIdentity, WorkAccountsGetTheirTenantAndGuidOid) {
  rapidjson::Document json = tokens_for(kWork);
  const auto parts = split(json["id_token"].GetString(), '.');
  rapidjson::Document claims = parse_json(*crypto::base64url_decode(parts[1]));
  const User* bob = world_->find_user_by_address(kWork);
  EXPECT_EQ(claims["oid"].GetString(), bob->oid);
  EXPECT_EQ(std::string(claims["iss"].GetString()), "https://login.microsoftonline.com/" + bob->tid + "/v2.0");
}

TEST_F(EmulatorIdentity, WithoutOfflineAccessThereIsNoRefreshToken) {
  rapidjson::Document json = tokens_for(kPersonal, "openid profile Mail.ReadWrite User.Read");
  EXPECT_FALSE(json.HasMember("refresh_token"));
  EXPECT_STREQ(json["scope"].GetString(), "Mail.ReadWrite User.Read profile openid");
  // And without openid, no id_token.
  rapidjson::Document no_openid = tokens_for(kPersonal, "Mail.Read");
  EXPECT_FALSE(no_openid.HasMember("id_token"));
  EXPECT_STREQ(no_openid["scope"].GetString(), "Mail.Read");
}

TEST_F(EmulatorIdentity, CodesAreSingleUse) {
  const std::string code = sign_in();
  EXPECT_EQ(token_request(redeem_form(code)).status, 200);
  const std::string text = expect_token_error(token_request(redeem_form(code)), 400, "invalid_grant", 54005);
  EXPECT_EQ(text,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing "
            "refresh token.");
}

TEST_F(EmulatorIdentity, CodesExpireAfterTenMinutes) {
  const std::string code = sign_in();
  advance(std::chrono::seconds(601));
  expect_token_error(token_request(redeem_form(code)), 400, "invalid_grant", 70008);
}

TEST_F(EmulatorIdentity, CodesAreBoundToRedirectUriClientAndTenant) {
  const std::string code = sign_in();
  expect_token_error(token_request(redeem_form(code + "x")), 400, "invalid_grant", 70000);  // unknown code
  std::string form = redeem_form(code);
  form.replace(form.find("callback"), 8, "other");
  EXPECT_NE(expect_token_error(token_request(form), 400, "invalid_grant", 500112).find("does not match the reply"),
            std::string::npos);
  const net::HttpResponse wrong_tenant = send("POST", "/consumers/oauth2/v2.0/token", redeem_form(code),
                                               {{"Content-Type", "application/x-www-form-urlencoded"}});
  expect_token_error(wrong_tenant, 400, "invalid_grant", 700005);
  // None of the failed attempts used the code up.
  EXPECT_EQ(token_request(redeem_form(code)).status, 200);
}

TEST_F(EmulatorIdentity, PkceS256AndPlainAreChecked) {
  const std::string s256 = "&code_challenge=" + std::string(kChallenge) + "&code_challenge_method=S256";
  std::string code = sign_in(kPersonal, kFullScope, s256);
  EXPECT_EQ(expect_token_error(token_request(redeem_form(code, "&code_verifier=wrong-verifier")), 400, "invalid_grant",
                               50148),
            "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.");
  expect_token_error(token_request(redeem_form(code)), 400, "invalid_grant", 50148);  // verifier missing
  EXPECT_EQ(token_request(redeem_form(code, "&code_verifier=" + std::string(kVerifier))).status, 200);

  const std::string plain_verifier = "plain-verifier-plain-verifier-plain-verifier-0123";
  const std::string plain = "&code_challenge=" + plain_verifier + "&code_challenge_method=plain";
  code = sign_in(kPersonal, kFullScope, plain);
  expect_token_error(token_request(redeem_form(code, "&code_verifier=" + std::string(kVerifier))), 400,
                     "invalid_grant", 50148);
  EXPECT_EQ(token_request(redeem_form(code, "&code_verifier=" + plain_verifier)).status, 200);

  // A challenge without a method is plain.
  code = sign_in(kPersonal, kFullScope, "&code_challenge=" + plain_verifier);
  EXPECT_EQ(token_request(redeem_form(code, "&code_verifier=" + plain_verifier)).status, 200);
}

TEST_F(EmulatorIdentity, ClientSecretErrorsAreInvalidClient401) {
  const std::string code = sign_in();
  const std::string rest = "&grant_type=authorization_code&code=" + url_encode(code) +
                           "&redirect_uri=" + url_encode(kRedirectUri);
  const std::string client = "client_id=" + std::string(kClientId);
  // The classic mistake: the Secret ID (a GUID) pasted instead of the secret Value.
  EXPECT_EQ(expect_token_error(token_request(client + "&client_secret=2a4c5e2d-1b7e-4c4c-9a55-0c3c2f1d9e8b" + rest), 401,
                               "invalid_client", 7000215),
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
            "not the client secret ID, for a secret added to app '" + std::string(kClientId) + "'.");
  expect_token_error(token_request(client + rest), 401, "invalid_client", 7000218);

  EXPECT_EQ(send("POST", "/_emulator/clients/" + std::string(kClientId) + "/expire-secret").status, 200);
  EXPECT_EQ(expect_token_error(token_request(redeem_form(code)), 401, "invalid_client", 7000222),
            "The provided client secret keys for app '" + std::string(kClientId) +
                "' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, "
                "or consider using certificate credentials for added security: https://aka.ms/certCreds.");
  // A wrong secret is still "invalid", not "expired".
  expect_token_error(token_request(client + "&client_secret=wrong" + rest), 401, "invalid_client", 7000215);
}

TEST_F(EmulatorIdentity, HttpBasicClientAuthenticationIsAccepted) {
  const std::string code = sign_in();
  const std::string form = "grant_type=authorization_code&code=" + url_encode(code) +
                           "&redirect_uri=" + url_encode(kRedirectUri);
  const std::string credentials = crypto::base64_encode(std::string(kClientId) + ":" + url_encode(kSecret));
  const net::HttpResponse response = send("POST", "/common/oauth2/v2.0/token", form,
                                          {{"Content-Type", "application/x-www-form-urlencoded"},
                                           {"Authorization", "Basic " + credentials}});
  EXPECT_EQ(response.status, 200) << response.body;
}

TEST_F(EmulatorIdentity, TokenEndpointRejectsMalformedRequests) {
  expect_token_error(send("GET", "/common/oauth2/v2.0/token"), 400, "invalid_request", 900561);
  expect_token_error(token_request("grant_type=authorization_code"), 400, "invalid_request", 900144);
  EXPECT_EQ(expect_token_error(token_request("client_id=" + std::string(kClientId)), 400, "invalid_request", 900144),
            "The request body must contain the following parameter: 'grant_type'.");
  expect_token_error(token_request("client_id=nope&grant_type=authorization_code"), 400, "unauthorized_client", 700016);
  expect_token_error(token_request("client_id=" + std::string(kClientId) + "&grant_type=password"), 400,
                     "unsupported_grant_type", 70003);
  // A JSON body is not a form.
  expect_token_error(send("POST", "/common/oauth2/v2.0/token", R"({"grant_type":"refresh_token"})",
                          {{"Content-Type", "application/json"}}),
                     400, "invalid_request", 900144);
}

TEST_F(EmulatorIdentity, RefreshRotatesAndOldRefreshTokensStayValid) {
  rapidjson::Document first = tokens_for();
  const std::string rt1 = first["refresh_token"].GetString();
  const std::string refresh_form = "client_id=" + std::string(kClientId) + "&client_secret=" + url_encode(kSecret) +
                                   "&grant_type=refresh_token&refresh_token=";
  const net::HttpResponse second = token_request(refresh_form + url_encode(rt1));
  ASSERT_EQ(second.status, 200) << second.body;
  rapidjson::Document json = parse_json(second.body);
  const std::string rt2 = json["refresh_token"].GetString();
  EXPECT_NE(rt2, rt1);
  EXPECT_NE(std::string(json["access_token"].GetString()), std::string(first["access_token"].GetString()));
  EXPECT_STREQ(json["scope"].GetString(), "Mail.ReadWrite Mail.Send User.Read profile openid email offline_access");
  EXPECT_EQ(token_request(refresh_form + url_encode(rt1)).status, 200);  // the old one still works

  // Narrowing scopes is allowed; widening is consent_required.
  const net::HttpResponse narrowed = token_request(refresh_form + url_encode(rt2) + "&scope=Mail.ReadWrite");
  ASSERT_EQ(narrowed.status, 200);
  EXPECT_STREQ(parse_json(narrowed.body)["scope"].GetString(), "Mail.ReadWrite offline_access");
  const net::HttpResponse widened = token_request(refresh_form + url_encode(rt2) + "&scope=Calendars.Read");
  expect_token_error(widened, 400, "invalid_grant", 65001);
  EXPECT_STREQ(parse_json(widened.body)["suberror"].GetString(), "consent_required");

  expect_token_error(token_request(refresh_form + "garbage"), 400, "invalid_grant", 9002313);
}

TEST_F(EmulatorIdentity, RevokedRefreshTokensFailWith50173) {
  const std::string rt = tokens_for()["refresh_token"].GetString();
  advance(std::chrono::seconds(5));
  ASSERT_EQ(send("POST", "/_emulator/users/" + std::string(kPersonal) + "/revoke").status, 200);
  const std::string refresh_form = "client_id=" + std::string(kClientId) + "&client_secret=" + url_encode(kSecret) +
                                   "&grant_type=refresh_token&refresh_token=";
  const std::string text = expect_token_error(token_request(refresh_form + url_encode(rt)), 400, "invalid_grant", 50173);
  EXPECT_TRUE(std::regex_match(
      text, std::regex(R"(The provided grant has expired due to it being revoked, a fresh auth token is needed\. The user )"
                       R"(might have changed or reset their password\. The grant was issued on '\d{4}-\d\d-\d\dT\d\d:)"
                       R"(\d\d:\d\d\.\d{7}Z' and the TokensValidFrom date \(before which tokens are not valid\) for )"
                       R"(this user is '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z'\.)")))
      << text;
  // A new sign-in works again; the other user is untouched.
  advance(std::chrono::seconds(1));
  const std::string fresh = tokens_for()["refresh_token"].GetString();
  EXPECT_EQ(token_request(refresh_form + url_encode(fresh)).status, 200);
}

TEST_F(EmulatorIdentity, InactiveRefreshTokensFailWith700082) {
  const std::string rt = tokens_for()["refresh_token"].GetString();
  const net::HttpResponse expired = send("POST", "/_emulator/users/" + std::string(kPersonal) + "/expire-refresh-tokens");
  ASSERT_EQ(expired.status, 200);
  EXPECT_EQ(parse_json(expired.body)["expired"].GetInt(), 1);
  const std::string refresh_form = "client_id=" + std::string(kClientId) + "&client_secret=" + url_encode(kSecret) +
                                   "&grant_type=refresh_token&refresh_token=";
  const net::HttpResponse response = token_request(refresh_form + url_encode(rt));
  const std::string text = expect_token_error(response, 400, "invalid_grant", 700082);
  EXPECT_TRUE(std::regex_match(text, std::regex(R"(The refresh token has expired due to inactivity\. The token was )"
                                                R"(issued on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z and was inactive )"
                                                R"(for 90\.00:00:00\.)")))
      << text;
}

TEST_F(EmulatorIdentity, TenantPathsRestrictAccountTypes) {
  const auto post = [&](const std::string& tenant, const std::string& user) {
    return send("POST", authorize_target(kFullScope, "", tenant),
                "login=" + url_encode(user) + "&password=" + url_encode(kPassword) + "&consent=accept");
  };
  EXPECT_EQ(post("organizations", kPersonal).status, 200);  // form again, with an error
  EXPECT_NE(post("organizations", kPersonal).body.find("personal account"), std::string::npos);
  EXPECT_EQ(post("organizations", kWork).status, 302);
  EXPECT_EQ(post("consumers", kWork).status, 200);
  EXPECT_EQ(post("consumers", kPersonal).status, 302);
  EXPECT_EQ(post("contoso.onmicrosoft.com", kWork).status, 302);
  EXPECT_EQ(post(world_->find_user_by_address(kWork)->tid, kWork).status, 302);
}

TEST_F(EmulatorIdentity, DiscoveryDocumentsPointAtTheEmulator) {
  const net::HttpResponse config = send("GET", "/common/v2.0/.well-known/openid-configuration");
  ASSERT_EQ(config.status, 200);
  rapidjson::Document json = parse_json(config.body);
  EXPECT_STREQ(json["token_endpoint"].GetString(), "https://127.0.0.1:4443/common/oauth2/v2.0/token");
  EXPECT_STREQ(json["authorization_endpoint"].GetString(), "https://127.0.0.1:4443/common/oauth2/v2.0/authorize");
  const net::HttpResponse keys = send("GET", "/common/discovery/v2.0/keys");
  ASSERT_EQ(keys.status, 200);
  EXPECT_EQ(parse_json(keys.body)["keys"][0]["kid"].GetString(), signer().kid());
}

}  // namespace
}  // namespace mailtrixy::emulator::testing
