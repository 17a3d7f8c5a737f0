// The Graph pipeline of the core: bearer tokens, /me, mailbox resolution, scopes, the
// 4-per-mailbox concurrency limit, injected faults, latency and the stats behind them.

#include <cctype>
#include <regex>
#include <thread>

#include "core_test_support.hpp"

namespace mailtrixy::emulator::testing {
namespace {

using EmulatorGraph = CoreTest;

void expect_graph_error(const net::HttpResponse& response, int status, const char* code, const char* message) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(header(response, "Content-Type"), "application/json");
  const std::string request_id = header(response, "request-id");
  EXPECT_TRUE(looks_like_guid(request_id)) << request_id;
  rapidjson::Document json = parse_json(response.body);
  if (!json.IsObject()) return;
  EXPECT_STREQ(json["error"]["code"].GetString(), code);
  if (message) {
    EXPECT_STREQ(json["error"]["message"].GetString(), message);
  }
  if (json["error"].HasMember("innerError")) {
    const auto& inner = json["error"]["innerError"];
    EXPECT_EQ(inner["request-id"].GetString(), request_id);
    EXPECT_EQ(inner["client-request-id"].GetString(), header(response, "client-request-id"));
    EXPECT_TRUE(std::regex_match(std::string(inner["date"].GetString()),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)")));
  }
}

TEST_F(EmulatorGraph, MissingUnknownAndExpiredTokensAre401WithBothChallenges) {
  const net::HttpResponse missing = send("GET", "/v1.0/me");
  expect_graph_error(missing, 401, "InvalidAuthenticationToken", "Access token is empty.");
  ASSERT_EQ(header_count(missing, "WWW-Authenticate"), 2);
  std::vector<std::string> challenges;
  for (const auto& [name, value] : missing.headers) {
    if (name == "WWW-Authenticate") challenges.push_back(value);
  }
  EXPECT_EQ(challenges[0], "Bearer realm=\"\", authorization_uri=\"https://127.0.0.1:4443/common/oauth2/authorize\", "
                           "client_id=\"00000003-0000-0000-c000-000000000000\"");
  EXPECT_EQ(challenges[1].rfind("PoP realm=\"\", authorization_uri=", 0), 0u);
  EXPECT_NE(challenges[1].find(", nonce=\""), std::string::npos);

  expect_graph_error(graph("GET", "/me", "EwBnot-a-token"), 401, "InvalidAuthenticationToken",
                     "CompactToken parsing failed with error code: 80049217");

  const std::string token = access_token_for();
  EXPECT_EQ(graph("GET", "/me", token).status, 200);
  advance(std::chrono::seconds(3599));
  expect_graph_error(graph("GET", "/me", token), 401, "InvalidAuthenticationToken",
                     "Access token has expired or is not yet valid.");
}

TEST_F(EmulatorGraph, MeOfAPersonalAccountHasNullMailAndHexId) {
  const net::HttpResponse response = graph("GET", "/me", access_token_for(), {},
                                           {{"client-request-id", "7f2c6a47-0d6b-4a8e-9b51-2b3a8f0e7c11"}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(header(response, "Content-Type"),
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8");
  EXPECT_EQ(header(response, "OData-Version"), "4.0");
  EXPECT_EQ(header(response, "client-request-id"), "7f2c6a47-0d6b-4a8e-9b51-2b3a8f0e7c11");
  EXPECT_TRUE(looks_like_guid(header(response, "request-id")));
  rapidjson::Document json = parse_json(response.body);
  const User* alice = world_->find_user_by_address(kPersonal);
  EXPECT_STREQ(json["@odata.context"].GetString(), "https://127.0.0.1:4443/v1.0/$metadata#users/$entity");
  EXPECT_TRUE(json["mail"].IsNull());
  EXPECT_STREQ(json["userPrincipalName"].GetString(), kPersonal);
  EXPECT_EQ(json["id"].GetString(), alice->oid);
  EXPECT_TRUE(std::regex_match(std::string(json["id"].GetString()), std::regex("[0-9a-f]{16}")));
  EXPECT_STREQ(json["displayName"].GetString(), "Alice Smith");
  EXPECT_TRUE(json["businessPhones"].IsArray());
  EXPECT_TRUE(json["preferredLanguage"].IsNull());
  // Field order of the recorded personal-account response.
  EXPECT_EQ(response.body.find(R"("displayName")") < response.body.find(R"("id")"), true);
}

TEST_F(EmulatorGraph, MeOfAWorkAccountHasMailAndGuidId) {
  rapidjson::Document json = parse_json(graph("GET", "/me", access_token_for(kWork)).body);
  EXPECT_STREQ(json["mail"].GetString(), kWork);
  EXPECT_STREQ(json["userPrincipalName"].GetString(), kWork);
  EXPECT_TRUE(looks_like_guid(json["id"].GetString()));
}

TEST_F(EmulatorGraph, MeHonoursSelect) {
  const std::string token = access_token_for();
  const net::HttpResponse response = graph("GET", "/me?$select=id,mail,userPrincipalName", token);
  ASSERT_EQ(response.status, 200);
  rapidjson::Document json = parse_json(response.body);
  EXPECT_STREQ(json["@odata.context"].GetString(),
               "https://127.0.0.1:4443/v1.0/$metadata#users(id,mail,userPrincipalName)/$entity");
  EXPECT_EQ(json.MemberCount(), 4u);
  EXPECT_TRUE(json["mail"].IsNull());
  expect_graph_error(graph("GET", "/me?%24select=nosuch", token), 400, "Request_BadRequest",
                     "Could not find a property named 'nosuch' on type 'microsoft.graph.user'.");
}

TEST_F(EmulatorGraph, UsersPathAddressesOnlyTheSignedInUser) {
  const std::string token = access_token_for();
  const User* alice = world_->find_user_by_address(kPersonal);
  EXPECT_EQ(graph("GET", "/users/" + alice->oid, token).status, 200);
  EXPECT_EQ(graph("GET", "/users/alice.smith%40outlook.com", token).status, 200);
  expect_graph_error(graph("GET", "/users/" + std::string(kWork), token), 403, "Authorization_RequestDenied", nullptr);
  expect_graph_error(graph("GET", "/users/" + std::string(kWork) + "/messages", token), 403, "ErrorAccessDenied",
                     "Access is denied. Check credentials and try again.");
  expect_graph_error(graph("GET", "/users/nobody@outlook.com", token), 404, "Request_ResourceNotFound", nullptr);
  expect_graph_error(graph("GET", "/users/nobody@outlook.com/messages", token), 404, "ErrorInvalidUser",
                     "The requested user 'nobody@outlook.com' is invalid.");
  expect_graph_error(graph("GET", "/nonsense", token), 400, "BadRequest", "Resource not found for the segment 'nonsense'.");

  // Object ids are matched case-insensitively.
  const std::string work_token = access_token_for(kWork);
  const std::string work_id = world_->find_user_by_address(kWork)->oid;
  std::string upper = work_id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_NE(upper, work_id);
  net::HttpResponse by_upper_id = graph("GET", "/users/" + upper, work_token);
  EXPECT_EQ(by_upper_id.status, 200);
  by_upper_id.on_answered();
}

TEST_F(EmulatorGraph, DelegatedScopesAreEnforced) {
  const std::string read_only = access_token_for(kPersonal, "openid Mail.Read");
  expect_graph_error(graph("GET", "/me", read_only), 403, "Authorization_RequestDenied", nullptr);
  expect_graph_error(graph("PATCH", "/me/messages/x", read_only, R"({"isRead":true})"), 403, "ErrorAccessDenied",
                     nullptr);
  expect_graph_error(graph("POST", "/me/sendMail", read_only, "{}"), 403, "ErrorAccessDenied", nullptr);
}

TEST_F(EmulatorGraph, FifthConcurrentRequestOnAMailboxIsThrottled) {
  const std::string token = access_token_for();
  std::vector<net::HttpResponse> in_flight;
  for (int i = 0; i < 4; ++i) {
    in_flight.push_back(graph("GET", "/me", token));
    ASSERT_EQ(in_flight.back().status, 200);
    ASSERT_TRUE(in_flight.back().on_answered);  // the slot is held until the response is out
  }
  const net::HttpResponse throttled = graph("GET", "/me", token);
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(header(throttled, "Retry-After"), "1");
  EXPECT_EQ(throttled.body,
            R"({"error":{"code":"ApplicationThrottled","message":"Application is over its MailboxConcurrency limit."}})");
  // Another mailbox is not affected.
  const std::string work_token = access_token_for(kWork);
  net::HttpResponse other = graph("GET", "/me", work_token);
  EXPECT_EQ(other.status, 200);
  other.on_answered();

  in_flight[0].on_answered();
  net::HttpResponse again = graph("GET", "/me", token);
  EXPECT_EQ(again.status, 200);
  again.on_answered();
  for (std::size_t i = 1; i < in_flight.size(); ++i) in_flight[i].on_answered();

  rapidjson::Document stats = parse_json(send("GET", "/_emulator/stats").body);
  EXPECT_EQ(stats["throttled"].GetUint64(), 1u);
  EXPECT_EQ(stats["max_in_flight"][kPersonal].GetInt(), 4);
  EXPECT_EQ(stats["in_flight"][kPersonal].GetInt(), 0);
}

TEST_F(EmulatorGraph, LatencyIsAddedToGraphResponsesOnly) {
  build([](EmulatorOptions& options) { options.latency = std::chrono::milliseconds(250); });
  const std::string token = access_token_for();
  net::HttpResponse response = graph("GET", "/me", token);
  EXPECT_EQ(response.delay, std::chrono::milliseconds(250));
  response.on_answered();
  EXPECT_EQ(graph("GET", "/me", "bad").delay, std::chrono::milliseconds(250));
  EXPECT_EQ(token_request("grant_type=x").delay, std::chrono::milliseconds(0));
  EXPECT_EQ(send("GET", "/_emulator/stats").delay, std::chrono::milliseconds(0));
}

TEST_F(EmulatorGraph, InjectedStatusFaultsHitTheNextNMatchingRequests) {
  const std::string token = access_token_for();
  const net::HttpResponse added =
      send("POST", "/_emulator/faults", R"({"route": "^GET /v1.0/me$", "status": 503, "count": 2, "retry_after": 3})");
  ASSERT_EQ(added.status, 200) << added.body;
  for (int i = 0; i < 2; ++i) {
    const net::HttpResponse failed = graph("GET", "/me", token);
    expect_graph_error(failed, 503, "serviceNotAvailable", nullptr);
    EXPECT_EQ(header(failed, "Retry-After"), "3");
  }
  net::HttpResponse ok = graph("GET", "/me", token);
  EXPECT_EQ(ok.status, 200);
  ok.on_answered();

  ASSERT_EQ(send("POST", "/_emulator/faults", R"([{"route": "mailFolders/inbox", "status": 429, "retry_after": 2.5}])")
                .status,
            200);
  EXPECT_EQ(graph("GET", "/me", token).status, 200);  // does not match
  const net::HttpResponse throttled = graph("GET", "/me/mailFolders/inbox/messages?$top=5", token);
  expect_graph_error(throttled, 429, "TooManyRequests", "Please retry again later.");
  EXPECT_EQ(header(throttled, "Retry-After"), "2.5");

  ASSERT_EQ(send("POST", "/_emulator/faults",
                 R"({"route": "me", "status": 504, "code": "ErrorTimeoutExpired", "message": "slow"})")
                .status,
            200);
  expect_graph_error(graph("GET", "/me", token), 504, "ErrorTimeoutExpired", "slow");

  rapidjson::Document stats = parse_json(send("GET", "/_emulator/stats").body);
  EXPECT_EQ(stats["faults_injected"].GetUint64(), 4u);
}

TEST_F(EmulatorGraph, ATimedFaultHitsEveryMatchingRequestUntilItsTimeIsUp) {
  const std::string token = access_token_for();
  ASSERT_EQ(send("POST", "/_emulator/faults", R"({"route": "^GET /v1.0/me$", "status": 503, "seconds": 0.6})").status,
            200);
  for (int i = 0; i < 5; ++i) expect_graph_error(graph("GET", "/me", token), 503, "serviceNotAvailable", nullptr);
  rapidjson::Document listed = parse_json(send("GET", "/_emulator/faults").body);
  ASSERT_EQ(listed.Size(), 1u);
  EXPECT_TRUE(listed[0].HasMember("seconds_left"));
  EXPECT_FALSE(listed[0].HasMember("count"));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  net::HttpResponse ok = graph("GET", "/me", token);
  EXPECT_EQ(ok.status, 200);
  ok.on_answered();
  EXPECT_EQ(parse_json(send("GET", "/_emulator/faults").body).Size(), 0u);
  EXPECT_EQ(send("POST", "/_emulator/faults", R"({"route": "me", "seconds": -1})").status, 400);
}

TEST_F(EmulatorGraph, MalformedTruncatedAndResetFaults) {
  const std::string token = access_token_for();
  ASSERT_EQ(send("POST", "/_emulator/faults", R"({"route": "GET /v1.0/me", "kind": "malformed"})").status, 200);
  const net::HttpResponse malformed = graph("GET", "/me", token);
  EXPECT_EQ(malformed.status, 200);
  rapidjson::Document broken;
  EXPECT_TRUE(broken.Parse(malformed.body.c_str()).HasParseError());

  ASSERT_EQ(send("POST", "/_emulator/faults", R"({"route": "GET /v1.0/me", "kind": "truncated"})").status, 200);
  net::HttpResponse truncated = graph("GET", "/me", token);
  EXPECT_EQ(truncated.status, 200);
  EXPECT_TRUE(broken.Parse(truncated.body.c_str()).HasParseError());
  truncated.on_answered();

  ASSERT_EQ(send("POST", "/_emulator/faults", R"({"route": "GET /v1.0/me", "kind": "reset", "status": 502})").status,
            200);
  const net::HttpResponse reset = graph("GET", "/me", token);
  EXPECT_EQ(reset.status, 502);
  EXPECT_EQ(header(reset, "Connection"), "close");
  EXPECT_TRUE(reset.body.empty());
}

TEST_F(EmulatorGraph, TokenEndpointFaultsUseTheIdentityErrorShape) {
  ASSERT_EQ(send("POST", "/_emulator/faults", R"({"route": "oauth2/v2.0/token", "status": 503, "retry_after": 1})")
                .status,
            200);
  const net::HttpResponse response = token_request("grant_type=refresh_token");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(header(response, "Retry-After"), "1");
  rapidjson::Document json = parse_json(response.body);
  EXPECT_STREQ(json["error"].GetString(), "temporarily_unavailable");
  EXPECT_EQ(json["error_codes"][0].GetInt(), 90033);
}

TEST_F(EmulatorGraph, BadFaultDescriptionsAreRejectedWithAReason) {
  const auto error_of = [&](const std::string& body) {
    const net::HttpResponse response = send("POST", "/_emulator/faults", body);
    EXPECT_EQ(response.status, 400) << body;
    rapidjson::Document json = parse_json(response.body);
    return json.IsObject() && json.HasMember("error") ? std::string(json["error"].GetString()) : std::string();
  };
  EXPECT_NE(error_of("not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"status": 503})").find("needs \"route\""), std::string::npos);
  EXPECT_NE(error_of(R"({"route": "(", "status": 503})").find("not a valid regular expression"), std::string::npos);
  EXPECT_NE(error_of(R"({"route": "x", "status": 99})").find("\"status\""), std::string::npos);
  EXPECT_NE(error_of(R"({"route": "x", "count": 0})").find("\"count\""), std::string::npos);
  EXPECT_NE(error_of(R"({"route": "x", "kind": "explode"})").find("\"kind\""), std::string::npos);
  EXPECT_NE(error_of(R"({"route": "x", "colour": "red"})").find("unknown fault field \"colour\""), std::string::npos);
  EXPECT_TRUE(parse_json(send("GET", "/_emulator/faults").body).Empty());
}

TEST_F(EmulatorGraph, StatsCountRequestsByRoute) {
  const std::string token = access_token_for();
  ASSERT_EQ(send("POST", "/_emulator/stats/reset").status, 200);
  graph("GET", "/me", token).on_answered();
  graph("GET", "/me?$select=id", token).on_answered();
  graph("GET", "/me", "bad");
  rapidjson::Document stats = parse_json(send("GET", "/_emulator/stats").body);
  EXPECT_EQ(stats["graph_requests"].GetUint64(), 3u);
  EXPECT_EQ(stats["token_requests"].GetUint64(), 0u);
  EXPECT_EQ(stats["by_route"]["GET /me"].GetUint64(), 3u);
  token_request("grant_type=refresh_token");
  stats = parse_json(send("GET", "/_emulator/stats").body);
  EXPECT_EQ(stats["token_requests"].GetUint64(), 1u);
  EXPECT_EQ(stats["by_route"]["POST /{tenant}/oauth2/v2.0/token"].GetUint64(), 1u);
}

TEST(EmulatorRoutes, IdsAreReplacedInRoutePatterns) {
  EXPECT_EQ(route_pattern("GET", "/me/mailFolders/inbox/messages"), "GET /me/mailFolders/{id}/messages");
  EXPECT_EQ(route_pattern("GET", "/me/mailFolders/AAMk-x_y=/messages/delta"),
            "GET /me/mailFolders/{id}/messages/delta");
  EXPECT_EQ(route_pattern("GET", "/me/messages/AAMkAD%2F1/$value"), "GET /me/messages/{id}/$value");
  EXPECT_EQ(route_pattern("POST", "/users/bob@x.com/messages/abc/move"), "POST /users/{id}/messages/{id}/move");
  EXPECT_EQ(route_pattern("GET", "/me/mailFolders/delta"), "GET /me/mailFolders/delta");
  EXPECT_EQ(route_pattern("GET", "/me"), "GET /me");
  EXPECT_EQ(route_pattern("POST", "/$batch"), "POST /$batch");
}

TEST_F(EmulatorGraph, ControlApiReportsUnknownRoutesAndUsers) {
  EXPECT_EQ(send("GET", "/_emulator/nothing").status, 404);
  EXPECT_EQ(send("POST", "/_emulator/users/nobody@x.com/revoke").status, 404);
  EXPECT_EQ(send("POST", "/_emulator/clients/nope/expire-secret").status, 404);
  EXPECT_EQ(send("GET", "/_emulator/users/" + std::string(kPersonal) + "/revoke").status, 405);
  EXPECT_EQ(send("POST", "/_emulator/users/" + std::string(kPersonal) + "/deliver").status, 400);
  rapidjson::Document users = parse_json(send("GET", "/_emulator/users").body);
  ASSERT_EQ(users.Size(), 2u);
  EXPECT_STREQ(users[0]["address"].GetString(), kPersonal);
  EXPECT_TRUE(users[0]["personal"].GetBool());
}

TEST_F(EmulatorGraph, TokenListingHasEveryIssuedToken) {
  rapidjson::Document first = tokens_for();
  rapidjson::Document listing = parse_json(send("GET", "/_emulator/tokens").body);
  ASSERT_EQ(listing["access_tokens"].Size(), 1u);
  ASSERT_EQ(listing["refresh_tokens"].Size(), 1u);
  EXPECT_STREQ(listing["access_tokens"][0]["token"].GetString(), first["access_token"].GetString());
  EXPECT_STREQ(listing["refresh_tokens"][0]["token"].GetString(), first["refresh_token"].GetString());
  EXPECT_STREQ(listing["access_tokens"][0]["user"].GetString(), kPersonal);
  EXPECT_FALSE(listing["refresh_tokens"][0]["revoked"].GetBool());
}

}  // namespace
}  // namespace mailtrixy::emulator::testing
