// JSON batching (graph-facts B13): limits, dependsOn ordering, per-item status, and that each
// item goes through the same pipeline as a request off the wire.

#include <map>

#include "core_test_support.hpp"

namespace mailtrixy::emulator::testing {
namespace {

using EmulatorBatch = CoreTest;

// The batch responses by id.
std::map<std::string, const rapidjson::Value*> by_id(const rapidjson::Document& json) {
  std::map<std::string, const rapidjson::Value*> out;
  for (const auto& item : json["responses"].GetArray()) out[item["id"].GetString()] = &item;
  return out;
}

TEST_F(EmulatorBatch, ItemsRunThroughTheGraphPipelineAndComeBackById) {
  const std::string token = access_token_for();
  const net::HttpResponse response = graph("POST", "/$batch", token, R"({"requests": [
      {"id": "1", "method": "GET", "url": "/me?$select=id"},
      {"id": "2", "method": "get", "url": "me"},
      {"id": "3", "method": "GET", "url": "/users/nobody@outlook.com"}]})");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(header(response, "OData-Version"), "4.0");
  rapidjson::Document json = parse_json(response.body);
  auto items = by_id(json);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ((*items["1"])["status"].GetInt(), 200);
  EXPECT_TRUE((*items["1"])["body"].IsObject());
  EXPECT_EQ((*items["1"])["body"]["id"].GetString(), world_->find_user_by_address(kPersonal)->oid);
  EXPECT_TRUE((*items["1"])["headers"]["Content-Type"].IsString());
  EXPECT_EQ((*items["2"])["status"].GetInt(), 200);
  EXPECT_EQ((*items["3"])["status"].GetInt(), 404);
  EXPECT_STREQ((*items["3"])["body"]["error"]["code"].GetString(), "Request_ResourceNotFound");

  rapidjson::Document stats = parse_json(send("GET", "/_emulator/stats").body);
  EXPECT_EQ(stats["batch_items"].GetUint64(), 3u);
  EXPECT_EQ(stats["by_route"]["POST /$batch"].GetUint64(), 1u);
  EXPECT_EQ(stats["in_flight"][kPersonal].GetInt(), 0);  // item slots are released at once
}

TEST_F(EmulatorBatch, DependsOnRunsDependenciesFirstAndFailedOnesGive424) {
  const std::string token = access_token_for();
  // "b" is listed first but depends on "a"; a one-shot fault on "a"'s URL proves the order: if
  // "b" ran first it would not fail, and "c" (depending on the failed "a") gets 424.
  ASSERT_EQ(send("POST", "/_emulator/faults", R"({"route": "select=displayName", "status": 500})").status, 200);
  const net::HttpResponse response = graph("POST", "/$batch", token, R"({"requests": [
      {"id": "b", "method": "GET", "url": "/me?$select=id", "dependsOn": ["a"]},
      {"id": "a", "method": "GET", "url": "/me?$select=displayName"},
      {"id": "c", "method": "GET", "url": "/me", "dependsOn": ["a"]}]})");
  ASSERT_EQ(response.status, 200) << response.body;
  rapidjson::Document json = parse_json(response.body);
  auto items = by_id(json);
  EXPECT_EQ((*items["a"])["status"].GetInt(), 500);
  EXPECT_EQ((*items["b"])["status"].GetInt(), 424);
  EXPECT_EQ((*items["c"])["status"].GetInt(), 424);
  EXPECT_STREQ((*items["c"])["body"]["error"]["code"].GetString(), "FailedDependency");
}

TEST_F(EmulatorBatch, MalformedBatchesAre400) {
  const std::string token = access_token_for();
  const auto status_of = [&](const std::string& body) { return graph("POST", "/$batch", token, body).status; };
  std::string twenty_one = R"({"requests": [)";
  for (int i = 1; i <= 21; ++i) {
    if (i > 1) twenty_one += ',';
    twenty_one += R"({"id": ")" + std::to_string(i) + R"(", "method": "GET", "url": "/me"})";
  }
  twenty_one += "]}";
  EXPECT_EQ(status_of(twenty_one), 400);
  const net::HttpResponse too_many = graph("POST", "/$batch", token, twenty_one);
  EXPECT_STREQ(parse_json(too_many.body)["error"]["code"].GetString(), "BadRequest");
  EXPECT_EQ(status_of("nope"), 400);
  EXPECT_EQ(status_of(R"({"requests": []})"), 400);
  EXPECT_EQ(status_of(R"({"requests": [{"method": "GET", "url": "/me"}]})"), 400);
  EXPECT_EQ(status_of(R"({"requests": [{"id": "1", "method": "GET", "url": "/me"},
                                       {"id": "1", "method": "GET", "url": "/me"}]})"),
            400);
  EXPECT_EQ(status_of(R"({"requests": [{"id": "1", "method": "GET", "url": "/me", "dependsOn": ["9"]}]})"), 400);
  EXPECT_EQ(status_of(R"({"requests": [{"id": "1", "method": "GET", "url": "/me", "dependsOn": ["2"]},
                                       {"id": "2", "method": "GET", "url": "/me", "dependsOn": ["1"]}]})"),
            400);
  EXPECT_EQ(status_of(R"({"requests": [{"id": "1", "method": "PATCH", "url": "/me/messages/x",
                                        "body": {"isRead": true}}]})"),
            400);  // a body needs a Content-Type header
  EXPECT_EQ(status_of(R"({"requests": [{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/me"}]})"),
            400);
  // Twenty is fine.
  std::string twenty = twenty_one;
  twenty.replace(twenty.find(R"(,{"id": "21")"), std::string(R"(,{"id": "21", "method": "GET", "url": "/me"})").size(),
                 "");
  EXPECT_EQ(status_of(twenty), 200);
}

TEST_F(EmulatorBatch, TheBatchItselfNeedsAToken) {
  EXPECT_EQ(send("POST", "/v1.0/$batch", R"({"requests": []})").status, 401);
  const std::string token = access_token_for();
  EXPECT_EQ(graph("GET", "/$batch", token).status, 405);
  const net::HttpResponse nested = graph("POST", "/$batch", token,
                                         R"({"requests": [{"id": "1", "method": "POST", "url": "/$batch",
                                            "body": {"requests": []}, "headers": {"Content-Type": "application/json"}}]})");
  ASSERT_EQ(nested.status, 200);
  EXPECT_EQ(parse_json(nested.body)["responses"][0]["status"].GetInt(), 400);
}

TEST_F(EmulatorBatch, ItemsAreThrottledIndividuallyWithRetryAfterInTheirHeaders) {
  const std::string token = access_token_for();
  std::vector<net::HttpResponse> in_flight;
  for (int i = 0; i < 4; ++i) in_flight.push_back(graph("GET", "/me", token));
  const net::HttpResponse response = graph("POST", "/$batch", token, R"({"requests": [
      {"id": "1", "method": "GET", "url": "/me"}]})");
  ASSERT_EQ(response.status, 200);
  rapidjson::Document json = parse_json(response.body);
  EXPECT_EQ(json["responses"][0]["status"].GetInt(), 429);
  EXPECT_STREQ(json["responses"][0]["headers"]["Retry-After"].GetString(), "1");
  EXPECT_STREQ(json["responses"][0]["body"]["error"]["code"].GetString(), "ApplicationThrottled");
  for (auto& held : in_flight) held.on_answered();
}

}  // namespace
}  // namespace mailtrixy::emulator::testing
