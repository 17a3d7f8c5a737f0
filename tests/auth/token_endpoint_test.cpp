#include "mailtrixy/auth/token_endpoint.hpp"

#include <gtest/gtest.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "auth_test_support.hpp"
#include "mailtrixy/auth/sign_in_error.hpp"

namespace mailtrixy::auth {
namespace {

using namespace std::chrono_literals;
using testing::make_id_token;
using testing::read_file;

const auto kReceived = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

// The response body of the recording's entry whose URI contains `uri_part` (the recordings
// keep the body as a JSON value; re-serialised here as the service would send it).
struct Recorded {
  int status = 0;
  std::string body;
};
Recorded recorded_response(const std::string& file, const std::string& uri_part) {
  rapidjson::Document document;
  const std::string text = read_file(std::string(AUTH_TEST_DATA) + "/" + file);
  document.Parse(text.data(), text.size());
  EXPECT_FALSE(document.HasParseError()) << file;
  for (const auto& entry : document["Entries"].GetArray()) {
    const std::string uri = entry["RequestUri"].GetString();
    if (uri.find(uri_part) == std::string::npos) continue;
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    entry["ResponseBody"].Accept(writer);
    return {entry["StatusCode"].GetInt(), std::string(buffer.GetString(), buffer.GetSize())};
  }
  ADD_FAILURE() << "no entry with " << uri_part << " in " << file;
  return {};
}

TEST(TokenResponse, ParsesTheRecordedSuccessWithNumbersAndNoScope) {
  const Recorded recorded = recorded_response("token_success_client_credentials.json", "/oauth2/v2.0/token");
  ASSERT_EQ(recorded.status, 200);
  auto tokens = parse_token_response(recorded.body, kReceived);
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_EQ(tokens->access_token.reveal(), "access_token");
  EXPECT_EQ(tokens->expires_in, 86399s);
  EXPECT_EQ(tokens->expires_at, kReceived + 86399s);
  EXPECT_TRUE(tokens->refresh_token.empty());
  EXPECT_TRUE(tokens->scopes.empty());
}

TEST(TokenResponse, ParsesTheRealWorldShapeWithShortScopes) {
  const std::string body = R"({"token_type":"Bearer","scope":"Mail.ReadWrite Mail.Send User.Read profile openid email offline_access",
    "expires_in":3599,"ext_expires_in":3599,"access_token":"EwBAT","refresh_token":"M.C5_RT","id_token":"eyJ.x.y"})";
  auto tokens = parse_token_response(body, kReceived);
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_EQ(tokens->refresh_token.reveal(), "M.C5_RT");
  EXPECT_EQ(tokens->id_token.reveal(), "eyJ.x.y");
  EXPECT_EQ(tokens->scopes.size(), 7U);
  EXPECT_TRUE(has_scope(tokens->scopes, "offline_access"));
  EXPECT_TRUE(has_scope(tokens->scopes, "https://graph.microsoft.com/Mail.Send"));
  EXPECT_TRUE(has_scope(tokens->scopes, "mail.readwrite"));
  EXPECT_FALSE(has_scope(tokens->scopes, "Mail.Read"));
}

TEST(TokenResponse, AcceptsStringExpiryAndEncodedLongScopes) {
  const std::string body = R"({"token_type":"bearer","expires_in":"3600","ext_expires_in":"3600","access_token":"a",
    "scope":"https%3A%2F%2Fgraph.microsoft.com%2FMail.ReadWrite%20offline_access"})";
  auto tokens = parse_token_response(body, kReceived);
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_EQ(tokens->expires_in, 3600s);
  ASSERT_EQ(tokens->scopes.size(), 2U);
  EXPECT_EQ(tokens->scopes[0], "https://graph.microsoft.com/Mail.ReadWrite");
  EXPECT_TRUE(has_scope(tokens->scopes, "Mail.ReadWrite"));
  EXPECT_TRUE(has_scope(tokens->scopes, "offline_access"));
}

TEST(TokenResponse, RefusesWhatTheBridgeCannotUse) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not a JSON object"},
      {R"({"expires_in":3599})", "no access_token"},
      {R"({"access_token":"a"})", "no usable expires_in"},
      {R"({"access_token":"a","expires_in":"soon"})", "no usable expires_in"},
      {R"({"access_token":"a","expires_in":-5})", "implausible"},
      {R"({"access_token":"a","expires_in":3599,"token_type":"mac"})", "token_type"},
  };
  for (const auto& [body, expected] : cases) {
    auto tokens = parse_token_response(body, kReceived);
    ASSERT_FALSE(tokens.ok()) << body;
    EXPECT_NE(tokens.error().message.find(expected), std::string::npos) << tokens.error().message;
  }
  // The error never repeats a token value.
  auto bad = parse_token_response(R"({"access_token":"SECRET-AT","expires_in":"x"})", kReceived);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find("SECRET-AT"), std::string::npos);
}

TEST(TokenError, ParsesTheRecordedInvalidGrantAndKeepsOnlyTheFirstLine) {
  const Recorded recorded = recorded_response("token_error_invalid_grant_50034.json", "/oauth2/v2.0/token");
  ASSERT_EQ(recorded.status, 400);
  const TokenEndpointError error = parse_token_error(recorded.status, recorded.body);
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.error, "invalid_grant");
  ASSERT_EQ(error.error_codes.size(), 1U);
  EXPECT_EQ(error.error_codes[0], 50034);
  EXPECT_EQ(error.aadsts(), 50034);
  EXPECT_TRUE(error.description.starts_with("AADSTS50034: The user account user does not exist"));
  EXPECT_EQ(error.description.find("Trace ID"), std::string::npos);
  EXPECT_EQ(error.description.find('\r'), std::string::npos);
}

TEST(TokenError, ParsesTheRecordedInvalidTenant) {
  const Recorded recorded = recorded_response("error_invalid_tenant_90002.json", "openid-configuration");
  const TokenEndpointError error = parse_token_error(recorded.status, recorded.body);
  EXPECT_EQ(error.error, "invalid_tenant");
  EXPECT_EQ(error.aadsts(), 90002);
  EXPECT_EQ(error.description.find("Correlation ID"), std::string::npos);
  EXPECT_EQ(classify_sign_in_error(error).kind, SignInError::Kind::microsoft_error_other);
}

TEST(TokenError, SurvivesBodiesThatAreNotMicrosoftJson) {
  const TokenEndpointError html = parse_token_error(502, "<html><body>Bad gateway</body></html>");
  EXPECT_EQ(html.error, "");
  EXPECT_EQ(html.aadsts(), 0);
  EXPECT_NE(html.description.find("HTTP 502"), std::string::npos);
  const TokenEndpointError empty = parse_token_error(500, "");
  EXPECT_NE(empty.description.find("HTTP 500"), std::string::npos);
  // A code only in the description still counts.
  const TokenEndpointError no_codes =
      parse_token_error(401, R"({"error":"invalid_client","error_description":"AADSTS7000222: expired"})");
  EXPECT_EQ(no_codes.aadsts(), 7000222);
}

TEST(TokenError, FirstDescriptionLine) {
  EXPECT_EQ(first_description_line("AADSTS1: text.\r\nTrace ID: x\r\nCorrelation ID: y"), "AADSTS1: text.");
  EXPECT_EQ(first_description_line("AADSTS2: one line Trace ID: x"), "AADSTS2: one line");
  EXPECT_EQ(first_description_line("  plain  "), "plain");
  EXPECT_EQ(first_description_line(""), "");
}

TEST(RetryAfter, SecondsAndDates) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parse_retry_after("120", now), 120s);
  EXPECT_EQ(parse_retry_after(" 7 ", now), 7s);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now), 60s);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0s);
  EXPECT_FALSE(parse_retry_after("", now).has_value());
  EXPECT_FALSE(parse_retry_after("soon", now).has_value());
  EXPECT_FALSE(parse_retry_after("-3", now).has_value());
}

TEST(IdToken, DecodesTheClaimsTheBridgeNeeds) {
  const std::string token = make_id_token(
      R"({"aud":"app","oid":"00000000-0000-0000-1d0f-ddbd1dab94fe","tid":"9188040d-6c67-4c5b-b112-36a304b66dad",)"
      R"("preferred_username":"alice@outlook.com","email":"alice@outlook.com","name":"Alice"})");
  auto claims = decode_id_token_claims(token);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->oid, "00000000-0000-0000-1d0f-ddbd1dab94fe");
  EXPECT_EQ(claims->tid, "9188040d-6c67-4c5b-b112-36a304b66dad");
  EXPECT_EQ(claims->preferred_username, "alice@outlook.com");
  EXPECT_EQ(claims->name, "Alice");
  EXPECT_FALSE(decode_id_token_claims("no-dots").ok());
  EXPECT_FALSE(decode_id_token_claims("a.!!!.c").ok());
  EXPECT_FALSE(decode_id_token_claims("a." + testing::b64url("[1,2]") + ".c").ok());
}

}  // namespace
}  // namespace mailtrixy::auth
