// The Graph-mail routes in process: handle_mail_request() called the way the router calls it
// (auth and throttling are the core's and are tested there), plus the upload URLs and the
// expire-delta control action.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <memory>
#include <string>

#include "graph_call.hpp"
#include "mailbox_state.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mime_message.hpp"
#include "world.hpp"

namespace mailtrixy::emulator {
namespace {

constexpr const char* kOwner = "owner@example.com";
constexpr const char* kFriend = "friend@example.com";

std::string sample_mime(int n) {
  return "From: Sender " + std::to_string(n) + " <sender" + std::to_string(n) +
         "@example.org>\r\nTo: owner@example.com\r\nSubject: Message " + std::to_string(n) +
         "\r\nDate: Tue, 16 Nov 2023 05:" + (n < 10 ? "0" : "") + std::to_string(n % 60) +
         ":00 +0000\r\nMessage-ID: <m" + std::to_string(n) + "@example.org>\r\n\r\nBody " +
         std::to_string(n) + "\r\n";
}

std::string header(const net::HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (mime::iequals(key, name)) return value;
  }
  return {};
}

rapidjson::Document json(const net::HttpResponse& response) {
  rapidjson::Document document;
  document.Parse(response.body.c_str(), response.body.size());
  EXPECT_FALSE(document.HasParseError()) << response.body;
  return document;
}

std::string error_code(const net::HttpResponse& response) {
  const auto document = json(response);
  if (!document.IsObject() || !document.HasMember("error")) return "(no error)";
  return document["error"]["code"].GetString();
}

class MailRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    EmulatorOptions options;
    options.users = {{kOwner, "pw"}, {kFriend, "pw"}};
    world_ = std::make_unique<World>(options);
    world_->set_base_url("https://127.0.0.1:4443");
  }

  net::HttpResponse call(std::string method, std::string target, std::string body = {},
                         net::HttpHeaders headers = {}, const char* user = kOwner) {
    net::HttpRequest request;
    request.method = std::move(method);
    request.target = "/v1.0/me" + target;
    const auto question = request.target.find('?');
    request.path = request.target.substr(0, question);
    request.query = question == std::string::npos ? std::string() : request.target.substr(question + 1);
    bool immutable = false;
    bool has_type = false;
    for (const auto& [name, value] : headers) {
      if (mime::iequals(name, "Prefer") && value.find("ImmutableId") != std::string::npos) immutable = true;
      if (mime::iequals(name, "Content-Type")) has_type = true;
    }
    if (!body.empty() && !has_type) headers.emplace_back("Content-Type", "application/json");
    request.headers = std::move(headers);
    request.body = std::move(body);
    User* target_user = world_->find_user_by_address(user);
    const std::string_view resource = std::string_view(request.path).substr(8);
    GraphCall graph{request, *world_, *target_user, resource, "me", immutable, "test-request-id"};
    return handle_mail_request(graph);
  }

  Mailbox& mailbox(const char* user = kOwner) { return *world_->find_user_by_address(user)->mailbox; }

  std::string first_inbox_id() {
    const auto response = call("GET", "/mailFolders/inbox/messages?$select=id&$top=1");
    EXPECT_EQ(response.status, 200) << response.body;
    return json(response)["value"][0]["id"].GetString();
  }

  std::unique_ptr<World> world_;
};

TEST_F(MailRoutes, FolderListHidesHiddenFoldersAndAcceptsAliases) {
  auto response = call("GET", "/mailFolders?$top=50");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(header(response, "Content-Type").rfind("application/json;odata.metadata=minimal", 0), 0u);
  auto document = json(response);
  EXPECT_EQ(document["value"].Size(), 8u);
  EXPECT_NE(std::string(document["@odata.context"].GetString()).find("/v1.0/$metadata#users('"),
            std::string::npos);
  const auto& first = document["value"][0];
  for (const char* key : {"id", "displayName", "parentFolderId", "childFolderCount", "unreadItemCount",
                          "totalItemCount", "sizeInBytes", "isHidden"}) {
    EXPECT_TRUE(first.HasMember(key)) << key;
  }
  response = call("GET", "/mailFolders?includeHiddenFolders=true&$top=50");
  EXPECT_EQ(json(response)["value"].Size(), 9u);

  const auto root = json(call("GET", "/mailFolders/msgfolderroot"));
  EXPECT_EQ(root["childFolderCount"].GetUint(), 9u) << "hidden children are counted (graph-facts G2)";

  const auto inbox = json(call("GET", "/mailFolders/INBOX"));
  const auto inbox_by_key = json(call("GET", "/mailFolders('inbox')"));
  EXPECT_STREQ(inbox["id"].GetString(), inbox_by_key["id"].GetString());
  EXPECT_STREQ(inbox["displayName"].GetString(), "Inbox");
  EXPECT_EQ(call("GET", "/mailFolders/bogus").status, 400);
  EXPECT_EQ(error_code(call("GET", "/mailFolders/bogus")), "ErrorInvalidIdMalformed");
  EXPECT_EQ(call("GET", "/mailFolders/clutter").status, 404);

  response = call("GET", "/mailFolders?$top=3");
  document = json(response);
  EXPECT_EQ(document["value"].Size(), 3u);
  ASSERT_TRUE(document.HasMember("@odata.nextLink"));
  EXPECT_NE(std::string(document["@odata.nextLink"].GetString()).find("%24skip=3"), std::string::npos);
  EXPECT_EQ(error_code(call("GET", "/mailFolders?$select=isRead")), "RequestBroker--ParseUri");
}

TEST_F(MailRoutes, FolderCreateConflictRenameAndDelete) {
  auto created = call("POST", "/mailFolders", R"({"displayName":"Projects"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json(created)["id"].GetString();
  auto duplicate = call("POST", "/mailFolders", R"({"displayName":"projects"})");
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(error_code(duplicate), "ErrorFolderExists");
  EXPECT_EQ(call("POST", "/mailFolders", R"({"displayName":""})").status, 400);
  EXPECT_EQ(call("POST", "/mailFolders", R"({"displayName":"x","color":"red"})").status, 400);
  EXPECT_EQ(call("POST", "/mailFolders", "not json").status, 400);

  auto child =
      call("POST", "/mailFolders/" + id + "/childFolders", R"({"displayName":"Hidden one","isHidden":true})");
  ASSERT_EQ(child.status, 201) << child.body;
  EXPECT_TRUE(json(child)["isHidden"].GetBool());
  EXPECT_EQ(json(call("GET", "/mailFolders/" + id + "/childFolders"))["value"].Size(), 0u);
  EXPECT_EQ(json(call("GET", "/mailFolders/" + id))["childFolderCount"].GetUint(), 1u);

  auto renamed = call("PATCH", "/mailFolders/" + id, R"({"displayName":"Renamed"})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_STREQ(json(renamed)["displayName"].GetString(), "Renamed");
  EXPECT_EQ(call("PATCH", "/mailFolders/" + id, R"({"isHidden":true})").status, 400);

  EXPECT_EQ(call("DELETE", "/mailFolders/" + id).status, 204);
  const auto in_trash = json(call("GET", "/mailFolders/deleteditems/childFolders"));
  ASSERT_EQ(in_trash["value"].Size(), 1u) << "deleted folders land in Deleted Items";
  EXPECT_EQ(call("DELETE", "/mailFolders/" + id).status, 204);
  EXPECT_EQ(call("GET", "/mailFolders/" + id).status, 404);
  EXPECT_EQ(error_code(call("DELETE", "/mailFolders/inbox")), "ErrorDeleteDistinguishedFolder");
}

TEST_F(MailRoutes, MessageListsPageSelectAndValidate) {
  for (int i = 1; i <= 25; ++i) mailbox().deliver(sample_mime(i));
  auto response = call("GET", "/mailFolders/inbox/messages?$select=subject,isRead&$top=10");
  ASSERT_EQ(response.status, 200) << response.body;
  auto document = json(response);
  ASSERT_EQ(document["value"].Size(), 10u);
  const auto& first = document["value"][0];
  EXPECT_TRUE(first.HasMember("@odata.etag"));
  EXPECT_TRUE(first.HasMember("id"));
  EXPECT_TRUE(first.HasMember("subject"));
  EXPECT_FALSE(first.HasMember("body"));
  EXPECT_NE(std::string(document["@odata.context"].GetString())
                .find("/mailFolders('inbox')/messages(subject,isRead)"),
            std::string::npos);
  const std::string next = document["@odata.nextLink"].GetString();
  EXPECT_NE(next.find("https://127.0.0.1:4443/v1.0/me/mailFolders/inbox/messages?"), std::string::npos);
  EXPECT_NE(next.find("%24skip=10"), std::string::npos);
  const auto last = json(call("GET", "/mailFolders/inbox/messages?$select=subject&$top=10&$skip=20"));
  EXPECT_EQ(last["value"].Size(), 5u);
  EXPECT_FALSE(last.HasMember("@odata.nextLink"));
  const auto whole = json(call("GET", "/messages"));
  EXPECT_EQ(whole["value"].Size(), 10u) << "default page size";

  EXPECT_EQ(error_code(call("GET", "/mailFolders/inbox/messages?$top=0")), "BadRequest");
  EXPECT_EQ(call("GET", "/mailFolders/inbox/messages?$top=1001").status, 400);
  EXPECT_EQ(error_code(call("GET", "/messages?$select=isJunk")), "RequestBroker--ParseUri");
  EXPECT_EQ(error_code(call("GET", "/messages?$filter=isRead%20eq%20false&$orderby=receivedDateTime")),
            "InefficientFilter");
  EXPECT_EQ(error_code(call("GET", "/messages?$filter=isRead%20eq")), "BadRequest");
  const auto filtered = call("GET",
                             "/mailFolders/inbox/"
                             "messages?$filter=sentDateTime%20ge%202023-11-16T05:20:00Z&$orderby="
                             "sentDateTime%20asc&$top=100&$select=subject");
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  const auto filtered_doc = json(filtered);
  ASSERT_EQ(filtered_doc["value"].Size(), 6u);
  EXPECT_STREQ(filtered_doc["value"][0]["subject"].GetString(), "Message 20");
}

TEST_F(MailRoutes, ValueReturnsTheStoredBytes) {
  const std::string mime_text = "Subject: exact\nX-Odd:   spaces  \n\n\xc3\xa4 body\n";
  mailbox().deliver(mime_text);
  const auto response = call("GET", "/messages/" + first_inbox_id() + "/$value");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.body, mime_text);
  EXPECT_EQ(header(response, "Content-Type"), "text/plain");
  EXPECT_EQ(call("GET", "/messages/AAMkADbogus/$value").status, 400);
}

TEST_F(MailRoutes, PatchFlagsCategoriesAndExtendedProperties) {
  mailbox().deliver(sample_mime(1));
  const std::string id = first_inbox_id();
  const auto before = json(call("GET", "/messages/" + id + "?$select=changeKey"));
  const std::string key = before["changeKey"].GetString();

  auto read = call("PATCH", "/messages/" + id, R"({"isRead":true})");
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(json(read)["changeKey"].GetString(), key) << "marking read keeps the change key (graph-facts G7)";

  auto flagged =
      call("PATCH", "/messages/" + id,
           R"({"flag":{"flagStatus":"flagged"},"categories":["Red category"],"importance":"High"})");
  ASSERT_EQ(flagged.status, 200) << flagged.body;
  const auto flagged_doc = json(flagged);
  EXPECT_STRNE(flagged_doc["changeKey"].GetString(), key.c_str());
  EXPECT_STREQ(flagged_doc["flag"]["flagStatus"].GetString(), "flagged");
  EXPECT_STREQ(flagged_doc["importance"].GetString(), "high");
  EXPECT_STREQ(flagged_doc["categories"][0].GetString(), "Red category");
  EXPECT_EQ(std::string(flagged_doc["@odata.etag"].GetString()),
            "W/\"" + std::string(flagged_doc["changeKey"].GetString()) + "\"");

  auto answered = call("PATCH", "/messages/" + id,
                       R"({"singleValueExtendedProperties":[{"id":"Integer 0x1081","value":"102"},)"
                       R"({"id":"integer 0x01080","value":"261"},{"id":"Integer 0x0E07","value":"8"}]})");
  ASSERT_EQ(answered.status, 200) << answered.body;
  EXPECT_FALSE(json(answered).HasMember("singleValueExtendedProperties"));
  const auto expanded =
      json(call("GET", "/messages/" + id +
                           "?$select=isDraft&$expand=singleValueExtendedProperties($filter=id%20eq%20'"
                           "Integer%200x1081'%20or%20"
                           "id%20eq%20'Integer%200x1080'%20or%20id%20eq%20'Integer%200x0E07')"));
  const auto& properties = expanded["singleValueExtendedProperties"];
  ASSERT_EQ(properties.Size(), 3u);
  EXPECT_STREQ(properties[0]["id"].GetString(), "Integer 0x1081");
  EXPECT_STREQ(properties[0]["value"].GetString(), "102");
  EXPECT_STREQ(properties[1]["id"].GetString(), "Integer 0x1080");
  EXPECT_STREQ(properties[2]["id"].GetString(), "Integer 0xe07");
  EXPECT_STREQ(properties[2]["value"].GetString(), "1")
      << "read, not a draft: the PATCH of 0x0E07 was ignored";
  EXPECT_FALSE(expanded["isDraft"].GetBool());

  const auto filtered = json(call(
      "GET",
      "/messages?$select=id&$filter=singleValueExtendedProperties/Any(ep:%20ep/id%20eq%20'Integer%200x1081'"
      "%20and%20cast(ep/value,%20Edm.Int32)%20eq%20102)"));
  EXPECT_EQ(filtered["value"].Size(), 1u);

  EXPECT_EQ(error_code(call("PATCH", "/messages/" + id, R"({"flag":{"flagStatus":"maybe"}})")),
            "RequestBodyRead");
  EXPECT_EQ(error_code(call("PATCH", "/messages/" + id, R"({"isJunk":true})")), "RequestBodyRead");
  EXPECT_EQ(error_code(call("PATCH", "/messages/" + id, R"({"subject":"changed"})")),
            "ErrorInvalidPropertyUpdateSentMessage");
  EXPECT_EQ(error_code(call("PATCH", "/messages/" + id,
                            R"({"singleValueExtendedProperties":[{"id":"Integer 0x1081","value":"abc"}]})")),
            "ErrorInvalidExtendedPropertyValue");
}

TEST_F(MailRoutes, MoveChangesRegularIdsButNotImmutableOnes) {
  mailbox().deliver(sample_mime(1));
  const std::string id = first_inbox_id();
  auto moved = call("POST", "/messages/" + id + "/move", R"({"DestinationId":"Archive"})");
  ASSERT_EQ(moved.status, 201) << moved.body;
  const std::string new_id = json(moved)["id"].GetString();
  EXPECT_NE(new_id, id);
  EXPECT_EQ(call("GET", "/messages/" + id).status, 404);
  EXPECT_EQ(error_code(call("GET", "/messages/" + id)), "ErrorItemNotFound");

  const net::HttpHeaders immutable = {{"Prefer", "IdType=\"ImmutableId\""}};
  const auto listed = json(call("GET", "/mailFolders/archive/messages?$select=id", "", immutable));
  const std::string immutable_id = listed["value"][0]["id"].GetString();
  auto moved_back =
      call("POST", "/messages/" + immutable_id + "/move", R"({"destinationId":"inbox"})", immutable);
  ASSERT_EQ(moved_back.status, 201);
  EXPECT_EQ(json(moved_back)["id"].GetString(), immutable_id);

  auto copied =
      call("POST", "/messages/" + immutable_id + "/copy", R"({"destinationId":"drafts"})", immutable);
  ASSERT_EQ(copied.status, 201);
  EXPECT_STRNE(json(copied)["id"].GetString(), immutable_id.c_str());
  EXPECT_EQ(call("POST", "/messages/" + immutable_id + "/move", R"({"destinationId":"nowhere"})").status,
            400);
  EXPECT_EQ(call("POST", "/messages/" + immutable_id + "/move", "{}").status, 400);

  EXPECT_EQ(call("DELETE", "/messages/" + immutable_id, "", immutable).status, 204);
  EXPECT_EQ(json(call("GET", "/mailFolders/inbox"))["totalItemCount"].GetUint(), 0u);
  EXPECT_EQ(call("GET", "/messages/" + immutable_id, "", immutable).status, 200)
      << "soft-deleted, still there";
  EXPECT_EQ(call("POST", "/messages/" + immutable_id + "/permanentDelete", "", immutable).status, 204);
  EXPECT_EQ(call("GET", "/messages/" + immutable_id, "", immutable).status, 404);
}

TEST_F(MailRoutes, DeltaPagesTombstonesAndExpiry) {
  for (int i = 1; i <= 5; ++i) mailbox().deliver(sample_mime(i));
  const net::HttpHeaders prefer = {{"Prefer", "odata.maxpagesize=2"}};
  auto page = call("GET", "/mailFolders/inbox/messages/delta?$select=subject,isRead", "", prefer);
  ASSERT_EQ(page.status, 200) << page.body;
  int seen = 0;
  std::string delta_link;
  for (int guard = 0; guard < 10; ++guard) {
    const auto document = json(page);
    seen += static_cast<int>(document["value"].Size());
    if (document.HasMember("@odata.deltaLink")) {
      delta_link = document["@odata.deltaLink"].GetString();
      break;
    }
    const std::string next = document["@odata.nextLink"].GetString();
    EXPECT_NE(next.find("$skiptoken="), std::string::npos);
    page = call("GET", next.substr(next.find("/mailFolders")), "", prefer);
    ASSERT_EQ(page.status, 200) << page.body;
  }
  EXPECT_EQ(seen, 5);
  ASSERT_FALSE(delta_link.empty());
  EXPECT_NE(delta_link.find("/mailFolders('AQMkAD"), std::string::npos);

  const std::string id = first_inbox_id();
  ASSERT_EQ(call("POST", "/messages/" + id + "/move", R"({"destinationId":"archive"})").status, 201);
  mailbox().deliver(sample_mime(6));
  const auto changes = json(call("GET", delta_link.substr(delta_link.find("/mailFolders"))));
  ASSERT_EQ(changes["value"].Size(), 2u);
  int removed = 0;
  for (const auto& item : changes["value"].GetArray()) {
    EXPECT_STREQ(item["@odata.type"].GetString(), "#microsoft.graph.message");
    if (item.HasMember("@removed")) {
      ++removed;
      EXPECT_STREQ(item["id"].GetString(), id.c_str());
      EXPECT_STREQ(item["@removed"]["reason"].GetString(), "deleted");
    } else {
      EXPECT_STREQ(item["subject"].GetString(), "Message 6");
      EXPECT_FALSE(item.HasMember("body")) << "the first request's $select is kept in the token";
    }
  }
  EXPECT_EQ(removed, 1);
  const std::string next_link = changes["@odata.deltaLink"].GetString();

  const net::HttpRequest control_request{};
  const auto expired = handle_mail_control(*world_, *world_->find_user_by_address(kOwner), "expire-delta",
                                           net::HttpRequest{"POST", "/", "/", "", 11, {}, "", "", 0, true});
  EXPECT_EQ(expired.status, 200);
  const auto gone = call("GET", next_link.substr(next_link.find("/mailFolders")));
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(error_code(gone), "SyncStateNotFound");
  EXPECT_FALSE(header(gone, "Location").empty());
  EXPECT_EQ(call("GET", "/mailFolders/inbox/messages/delta?$deltatoken=garbage").status, 400);
  EXPECT_EQ(
      handle_mail_control(*world_, *world_->find_user_by_address(kOwner), "nonsense", control_request).status,
      404);
}

TEST_F(MailRoutes, FolderDeltaReportsNewAndRemovedFolders) {
  auto first = json(call("GET", "/mailFolders/delta", "", {{"Prefer", "odata.maxpagesize=100"}}));
  ASSERT_TRUE(first.HasMember("@odata.deltaLink"));
  EXPECT_GE(first["value"].Size(), 8u);
  const std::string link = first["@odata.deltaLink"].GetString();
  const auto created = json(call("POST", "/mailFolders", R"({"displayName":"New"})"));
  const std::string id = created["id"].GetString();
  ASSERT_EQ(call("POST", "/mailFolders/" + id + "/permanentDelete").status, 204);
  const auto changes = json(call("GET", link.substr(link.find("/mailFolders"))));
  bool removed = false;
  for (const auto& item : changes["value"].GetArray()) {
    if (item.HasMember("@removed") && std::string(item["id"].GetString()) == id) removed = true;
  }
  EXPECT_TRUE(removed);
}

TEST_F(MailRoutes, CreatedMessagesFollowExchangesDraftRules) {
  auto draft = call("POST", "/messages",
                    R"({"subject":"Draft","body":{"contentType":"HTML","content":"<b>hi</b>"},)"
                    R"("toRecipients":[{"emailAddress":{"address":"friend@example.com"}}]})");
  ASSERT_EQ(draft.status, 201) << draft.body;
  auto document = json(draft);
  EXPECT_TRUE(document["isDraft"].GetBool());
  EXPECT_TRUE(document["isRead"].GetBool());
  EXPECT_STREQ(document["body"]["contentType"].GetString(), "html");
  const auto drafts = json(call("GET", "/mailFolders/drafts"));
  EXPECT_STREQ(document["parentFolderId"].GetString(), drafts["id"].GetString());
  EXPECT_EQ(
      call("PATCH", std::string("/messages/") + document["id"].GetString(), R"({"isDraft":false})").status,
      200);
  EXPECT_TRUE(json(call("GET", std::string("/messages/") + document["id"].GetString()))["isDraft"].GetBool())
      << "isDraft cannot be changed";

  auto imported =
      call("POST", "/mailFolders/inbox/messages",
           R"({"subject":"Imported","singleValueExtendedProperties":[{"id":"Integer 0x0E07","value":"0"},)"
           R"({"id":"SystemTime 0x0E06","value":"2020-01-02T03:04:05Z"}]})");
  ASSERT_EQ(imported.status, 201) << imported.body;
  document = json(imported);
  EXPECT_FALSE(document["isDraft"].GetBool());
  EXPECT_FALSE(document["isRead"].GetBool());
  EXPECT_STREQ(document["receivedDateTime"].GetString(), "2020-01-02T03:04:05Z");

  const std::string mime_text =
      "From: a@example.com\r\nSubject: MIME\r\nDate: Sun, 28 Feb 2021 07:15:00 +0000\r\n\r\nHi\r\n";
  auto created = call("POST", "/mailFolders/inbox/messages", crypto::base64_encode(mime_text),
                      {{"Content-Type", "text/plain"}});
  ASSERT_EQ(created.status, 201) << created.body;
  document = json(created);
  EXPECT_TRUE(document["isDraft"].GetBool()) << "MIME creates are drafts";
  EXPECT_STREQ(document["sentDateTime"].GetString(), "2021-02-28T07:15:00Z");
  EXPECT_TRUE(document["isDeliveryReceiptRequested"].IsNull());
  EXPECT_EQ(call("GET", std::string("/messages/") + document["id"].GetString() + "/$value").body, mime_text);

  auto bad = call("POST", "/messages", "not base64!!", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(error_code(bad), "ErrorMimeContentInvalidBase64String");
  EXPECT_EQ(
      error_code(call("POST", "/messages", R"({"internetMessageHeaders":[{"name":"Custom","value":"x"}]})")),
      "InvalidInternetMessageHeader");
}

TEST_F(MailRoutes, SendMailDeliversRecordsAndSavesACopy) {
  const auto sent =
      call("POST", "/sendMail",
           R"({"message":{"subject":"Lunch?","body":{"contentType":"Text","content":"Cafeteria"},)"
           R"("toRecipients":[{"emailAddress":{"address":"FRIEND@example.com"}}],)"
           R"("bccRecipients":[{"emailAddress":{"address":"hidden@elsewhere.org"}}]}})");
  ASSERT_EQ(sent.status, 202) << sent.body;
  EXPECT_TRUE(sent.body.empty());
  EXPECT_TRUE(header(sent, "Content-Type").empty());
  const auto records = mailbox().sent();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].recipients, (std::vector<std::string>{"FRIEND@example.com", "hidden@elsewhere.org"}));
  EXPECT_NE(records[0].mime.find("hidden@elsewhere.org"), std::string::npos) << "the stored copy keeps Bcc";
  const auto sent_items =
      json(call("GET", "/mailFolders/sentitems/messages?$select=subject,isRead,bccRecipients"));
  ASSERT_EQ(sent_items["value"].Size(), 1u);
  EXPECT_STREQ(sent_items["value"][0]["subject"].GetString(), "Lunch?");
  const auto received =
      json(call("GET", "/mailFolders/inbox/messages?$select=subject,isRead,bccRecipients", "", {}, kFriend));
  ASSERT_EQ(received["value"].Size(), 1u);
  EXPECT_FALSE(received["value"][0]["isRead"].GetBool());
  EXPECT_EQ(received["value"][0]["bccRecipients"].Size(), 0u) << "Bcc is not handed to recipients";

  ASSERT_EQ(
      call(
          "POST", "/sendMail",
          R"({"message":{"subject":"no copy","toRecipients":[{"emailAddress":{"address":"x@y.org"}}]},"saveToSentItems":"false"})")
          .status,
      202);
  EXPECT_EQ(json(call("GET", "/mailFolders/sentitems"))["totalItemCount"].GetUint(), 1u);
  EXPECT_EQ(error_code(call("POST", "/sendMail", R"({"message":{"subject":"nobody"}})")),
            "ErrorInvalidRecipients");
  EXPECT_EQ(error_code(call("POST", "/sendMail",
                            R"({"message":{"from":{"emailAddress":{"address":"ceo@example.com"}},)"
                            R"("toRecipients":[{"emailAddress":{"address":"x@y.org"}}]}})")),
            "ErrorSendAsDenied");

  const std::string mime_text =
      "To: friend@example.com\r\nCc: cc@example.net\r\nBcc: b@example.net\r\nSubject: raw\r\n\r\nraw "
      "body\r\n";
  const auto raw =
      call("POST", "/sendMail", crypto::base64_encode(mime_text), {{"Content-Type", "text/plain"}});
  ASSERT_EQ(raw.status, 202) << raw.body;
  const auto all = mailbox().sent();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].recipients,
            (std::vector<std::string>{"friend@example.com", "cc@example.net", "b@example.net"}));
  EXPECT_NE(all[2].mime.find("From: "), std::string::npos) << "Exchange adds the sender";

  const std::string huge(4 * 1024 * 1024 + 1, 'A');
  const auto too_big = call("POST", "/sendMail", huge, {{"Content-Type", "text/plain"}});
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(error_code(too_big), "ErrorMessageSizeExceeded");
}

TEST_F(MailRoutes, UploadSessionAttachesALargeFileToADraftThenSends) {
  auto draft =
      json(call("POST", "/messages",
                R"({"subject":"Big","toRecipients":[{"emailAddress":{"address":"friend@example.com"}}]})"));
  const std::string id = draft["id"].GetString();
  EXPECT_EQ(
      error_code(call("POST", "/messages/" + id + "/attachments/createUploadSession",
                      R"({"AttachmentItem":{"attachmentType":"file","name":"small.bin","size":1000}})")),
      "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize");
  const std::size_t size = 5 * 1024 * 1024 + 7;
  auto session = call(
      "POST", "/messages/" + id + "/attachments/createUploadSession",
      R"({"AttachmentItem":{"attachmentType":"file","name":"big.bin","size":)" + std::to_string(size) + "}}");
  ASSERT_EQ(session.status, 201) << session.body;
  const auto session_doc = json(session);
  EXPECT_STREQ(session_doc["nextExpectedRanges"][0].GetString(), "0-");
  const std::string url = session_doc["uploadUrl"].GetString();
  ASSERT_EQ(url.rfind("https://127.0.0.1:4443/_upload/", 0), 0u);
  const std::string target = url.substr(std::string("https://127.0.0.1:4443").size());

  std::string content(size, '\0');
  for (std::size_t i = 0; i < size; ++i) content[i] = static_cast<char>(i * 7);
  const auto put = [&](std::size_t first, std::size_t length, std::string token_target) {
    net::HttpRequest request;
    request.method = "PUT";
    request.target = token_target;
    request.path = token_target.substr(0, token_target.find('?'));
    request.query = token_target.substr(token_target.find('?') + 1);
    request.headers = {{"Content-Range", "bytes " + std::to_string(first) + "-" +
                                             std::to_string(first + length - 1) + "/" +
                                             std::to_string(size)}};
    request.body = content.substr(first, length);
    return handle_upload_request(*world_, request);
  };
  const std::size_t chunk = 4 * 1024 * 1024;
  EXPECT_EQ(put(10, 100, target).status, 416) << "out of order";
  EXPECT_EQ(put(0, 100, target.substr(0, target.find("authtoken=") + 10) + "wrong").status, 401);
  auto partial = put(0, chunk, target);
  ASSERT_EQ(partial.status, 200) << partial.body;
  EXPECT_STREQ(json(partial)["NextExpectedRanges"][0].GetString(), std::to_string(chunk).c_str());
  auto done = put(chunk, size - chunk, target);
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_NE(header(done, "Location").find("/Attachments('"), std::string::npos);
  EXPECT_EQ(put(0, 100, target).status, 404) << "the session is finished";

  const auto attachments = json(call("GET", "/messages/" + id + "/attachments"));
  ASSERT_EQ(attachments["value"].Size(), 1u);
  EXPECT_EQ(attachments["value"][0]["size"].GetUint64(), size);

  ASSERT_EQ(call("POST", "/messages/" + id + "/send").status, 202);
  EXPECT_EQ(call("POST", "/messages/" + id + "/send").status, 404) << "the draft moved to Sent Items: new id";
  const auto received = mailbox(kFriend).sent();
  EXPECT_TRUE(received.empty());
  const auto inbox =
      json(call("GET", "/mailFolders/inbox/messages?$select=id,hasAttachments", "", {}, kFriend));
  ASSERT_EQ(inbox["value"].Size(), 1u);
  EXPECT_TRUE(inbox["value"][0]["hasAttachments"].GetBool());
  const std::string delivered_id = inbox["value"][0]["id"].GetString();
  const auto value = call("GET", "/messages/" + delivered_id + "/$value", "", {}, kFriend);
  const auto content_read = mime::extract_content(value.body);
  ASSERT_EQ(content_read.attachments.size(), 1u);
  EXPECT_EQ(content_read.attachments[0].bytes, content);
  const auto records = mailbox().sent();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].recipients, std::vector<std::string>{"friend@example.com"});
}

TEST_F(MailRoutes, HostileInputsGetClearErrorsNeverCrashes) {
  mailbox().deliver(sample_mime(1));
  const std::string id = first_inbox_id();
  const std::vector<std::pair<std::string, std::string>> targets = {
      {"GET", "/mailFolders/%00"},
      {"GET", "/mailFolders('"},
      {"GET", "/mailFolders()/messages"},
      {"GET", "/mailFolders/inbox/messages/%2F..%2F/$value"},
      {"GET", "/messages/" + id + "/attachments/" + id},
      {"GET", "/messages/" + id + "/attachments/x/$value"},
      {"GET", "/messages?$filter=" + std::string(5000, '(')},
      {"GET", "/messages?$expand=singleValueExtendedProperties($filter=id%20eq%20'"},
      {"GET", "/messages?$orderby=%20desc"},
      {"GET", "/messages?$skip=99999999999999999999"},
      {"GET", "/messages?$search=%22%22"},
      {"GET", "/mailFolders/inbox/messages/delta?$skiptoken="},
      {"GET", "/mailFolders/inbox/messages/delta?$deltatoken=%FF"},
      {"GET", "/mailFolders/delta?$skiptoken=AAAA"},
      {"POST", "/messages/" + id + "/move"},
      {"POST", "/sendMail"},
      {"PATCH", "/messages/" + id},
  };
  for (const auto& [method, target] : targets) {
    const auto response = call(method, target);
    EXPECT_GE(response.status, 400) << method << " " << target;
    EXPECT_LT(response.status, 500) << method << " " << target;
    EXPECT_NE(error_code(response), "(no error)") << target;
  }
  // Odd but acceptable: answered normally, with valid JSON.
  for (const std::string target : {"/messages?$filter=subject%20eq%20'%FF%FE'", "/messages?$select=,,,"}) {
    const auto response = call("GET", target);
    EXPECT_EQ(response.status, 200) << target;
    EXPECT_TRUE(json(response).IsObject());
  }
  const std::vector<std::string> bodies = {
      "[]",
      "null",
      "{\"flag\": 5}",
      "{\"categories\": [1]}",
      "{\"singleValueExtendedProperties\": {}}",
      "{\"singleValueExtendedProperties\": [{\"id\": 5}]}",
      "{\"toRecipients\": [{}]}",
      "{\"isRead\": \"yes\"}",
      "{\"body\": 3}",
      "\xff\xfe{",
      std::string(1000, '['),
  };
  for (const auto& body : bodies) {
    EXPECT_EQ(call("PATCH", "/messages/" + id, body).status, 400) << body;
    const auto created = call("POST", "/messages", body);
    EXPECT_EQ(created.status, 400) << body;
    EXPECT_EQ(call("POST", "/sendMail", "{\"message\": " + body + "}").status, 400) << body;
  }
  // The message is untouched by all of that.
  const auto message = json(call("GET", "/messages/" + id + "?$select=subject,isRead,categories"));
  EXPECT_STREQ(message["subject"].GetString(), "Message 1");
  EXPECT_FALSE(message["isRead"].GetBool());
  EXPECT_EQ(message["categories"].Size(), 0u);
}

TEST_F(MailRoutes, UnknownSegmentsAndMethods) {
  EXPECT_EQ(call("GET", "/calendars").status, 400);
  EXPECT_EQ(error_code(call("GET", "/calendars")), "BadRequest");
  EXPECT_EQ(call("GET", "/messages/delta").status, 400);
  EXPECT_EQ(call("PUT", "/mailFolders/inbox").status, 405);
}

}  // namespace
}  // namespace mailtrixy::emulator
