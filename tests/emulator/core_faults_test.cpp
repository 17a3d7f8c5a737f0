// The fault additions used by the chaos suite (docs/chaos.md): the `hang` fault kind (a Graph
// call that never answers within the client's timeout) and expiring a user's access tokens on
// demand.

#include "core_test_support.hpp"

namespace mailtrixy::emulator::testing {
namespace {

using EmulatorFaults = CoreTest;

TEST_F(EmulatorFaults, AHangIsHeldForItsHoldThenClosedWithoutABody) {
  const std::string token = access_token_for();
  ASSERT_EQ(send("POST", "/_emulator/faults", R"({"route": "^GET /v1.0/me$", "kind": "hang", "hold": 2.5})").status,
            200);
  rapidjson::Document listed = parse_json(send("GET", "/_emulator/faults").body);
  ASSERT_EQ(listed.Size(), 1u);
  EXPECT_STREQ(listed[0]["kind"].GetString(), "hang");
  EXPECT_DOUBLE_EQ(listed[0]["hold"].GetDouble(), 2.5);
  EXPECT_EQ(listed[0]["status"].GetInt(), 504);

  const net::HttpResponse hung = graph("GET", "/me", token);
  EXPECT_EQ(hung.delay, std::chrono::milliseconds(2500));
  EXPECT_EQ(hung.status, 504);
  EXPECT_EQ(header(hung, "Connection"), "close");
  EXPECT_TRUE(hung.body.empty());

  // count 1: the next call is served normally, without the hold.
  const net::HttpResponse next = graph("GET", "/me", token);
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.delay, std::chrono::milliseconds(0));
}

TEST_F(EmulatorFaults, AHangHoldsTwoMinutesByDefaultAndAddsToTheLatency) {
  build([](EmulatorOptions& options) { options.latency = std::chrono::milliseconds(300); });
  const std::string token = access_token_for();
  ASSERT_EQ(send("POST", "/_emulator/faults", R"({"route": "GET /v1.0/me", "kind": "hang", "status": 503})").status,
            200);
  const net::HttpResponse hung = graph("GET", "/me", token);
  EXPECT_EQ(hung.delay, std::chrono::milliseconds(120300));
  EXPECT_EQ(hung.status, 503);
}

TEST_F(EmulatorFaults, AHungBatchItemLeavesTheWholeBatchUnanswered) {
  const std::string token = access_token_for();
  ASSERT_EQ(send("POST", "/_emulator/faults", R"({"route": "GET /v1.0/me/mailFolders", "kind": "hang", "hold": 7})")
                .status,
            200);
  const net::HttpResponse batch =
      graph("POST", "/$batch", token,
            R"({"requests": [{"id": "1", "method": "GET", "url": "/me"},
                             {"id": "2", "method": "GET", "url": "/me/mailFolders"}]})");
  EXPECT_EQ(batch.delay, std::chrono::milliseconds(7000));
  EXPECT_EQ(header(batch, "Connection"), "close");
  EXPECT_TRUE(batch.body.empty());
}

TEST_F(EmulatorFaults, AHangOnTheTokenEndpointIsHeldToo) {
  ASSERT_EQ(send("POST", "/_emulator/faults", R"({"route": "oauth2/v2.0/token", "kind": "hang", "hold": 1})").status,
            200);
  const net::HttpResponse hung = token_request("grant_type=refresh_token");
  EXPECT_EQ(hung.delay, std::chrono::milliseconds(1000));
  EXPECT_EQ(header(hung, "Connection"), "close");
  EXPECT_TRUE(hung.body.empty());
}

TEST_F(EmulatorFaults, BadHoldsAreRejectedWithAReason) {
  const auto error_of = [&](const std::string& body) {
    const net::HttpResponse response = send("POST", "/_emulator/faults", body);
    EXPECT_EQ(response.status, 400) << body;
    rapidjson::Document json = parse_json(response.body);
    return std::string(json.IsObject() && json.HasMember("error") ? json["error"].GetString() : "");
  };
  EXPECT_NE(error_of(R"({"route": "me", "kind": "hang", "hold": 0})").find("\"hold\" must be"), std::string::npos);
  EXPECT_NE(error_of(R"({"route": "me", "kind": "hang", "hold": 4000})").find("between 0 and 3600"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"route": "me", "kind": "hang", "hold": "long"})").find("\"hold\" must be"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"route": "me", "kind": "reset", "hold": 5})").find("only to faults of kind \"hang\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"route": "me", "kind": "sleep"})").find("\"hang\""), std::string::npos);
  EXPECT_TRUE(parse_json(send("GET", "/_emulator/faults").body).Empty());
}

TEST_F(EmulatorFaults, ExpiringAccessTokensMakesTheNextCallA401ForThatUserOnly) {
  const std::string alice_first = access_token_for();
  const std::string alice_second = access_token_for();
  const std::string bob = access_token_for(kWork);
  ASSERT_EQ(graph("GET", "/me", alice_first).status, 200);

  const net::HttpResponse expired = send("POST", std::string("/_emulator/users/") + kPersonal + "/expire-access-tokens");
  ASSERT_EQ(expired.status, 200) << expired.body;
  rapidjson::Document answer = parse_json(expired.body);
  EXPECT_TRUE(answer["ok"].GetBool());
  EXPECT_EQ(answer["expired"].GetInt(), 2);

  for (const std::string& token : {alice_first, alice_second}) {
    const net::HttpResponse refused = graph("GET", "/me", token);
    EXPECT_EQ(refused.status, 401);
    rapidjson::Document error = parse_json(refused.body);
    EXPECT_STREQ(error["error"]["code"].GetString(), "InvalidAuthenticationToken");
    EXPECT_STREQ(error["error"]["message"].GetString(), "Access token has expired or is not yet valid.");
  }
  EXPECT_EQ(graph("GET", "/me", bob).status, 200);
  rapidjson::Document tokens = parse_json(send("GET", "/_emulator/tokens").body);
  for (const auto& token : tokens["access_tokens"].GetArray()) {
    EXPECT_EQ(token["expired"].GetBool(), std::string(token["user"].GetString()) == kPersonal);
  }

  // A token issued afterwards is not affected; nothing left to expire counts zero.
  EXPECT_EQ(graph("GET", "/me", access_token_for()).status, 200);
  EXPECT_EQ(parse_json(send("POST", std::string("/_emulator/users/") + kWork + "/expire-access-tokens").body)["expired"]
                .GetInt(),
            1);
  EXPECT_EQ(parse_json(send("POST", std::string("/_emulator/users/") + kWork + "/expire-access-tokens").body)["expired"]
                .GetInt(),
            0);
}

TEST_F(EmulatorFaults, ExpireAccessTokensNeedsPostAndAKnownUser) {
  EXPECT_EQ(send("GET", std::string("/_emulator/users/") + kPersonal + "/expire-access-tokens").status, 405);
  const net::HttpResponse unknown = send("POST", "/_emulator/users/nobody@example.com/expire-access-tokens");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("no emulator user"), std::string::npos);
}

}  // namespace
}  // namespace mailtrixy::emulator::testing
