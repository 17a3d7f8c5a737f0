// The lenient Graph parsers and the Retry-After reader, against payload shapes from graph-facts
// (documented samples and the recorded oddities of part G).

#include <gtest/gtest.h>

#include "mailtrixy/graph/graph_client.hpp"
#include "mailtrixy/graph/graph_remote_mailbox.hpp"

namespace mailtrixy::graph {
namespace {

using namespace std::chrono_literals;

TEST(GraphRetryAfterTest, ReadsWholeAndFractionalSecondsRoundingUp) {
  EXPECT_EQ(parse_retry_after("1"), 1000ms);
  EXPECT_EQ(parse_retry_after("2.128"), 2128ms);
  EXPECT_EQ(parse_retry_after(" 0.249 "), 249ms);
  EXPECT_EQ(parse_retry_after("0.0001"), 1ms);  // never earlier than asked
  EXPECT_EQ(parse_retry_after("0"), 0ms);
  EXPECT_FALSE(parse_retry_after(""));
  EXPECT_FALSE(parse_retry_after("soon"));
  EXPECT_FALSE(parse_retry_after("-1"));
  EXPECT_FALSE(parse_retry_after("1."));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
}

TEST(GraphResponseTest, DecodesErrorBodiesLeniently) {
  GraphResponse response;
  response.status = 404;
  response.body = R"json({"error":{"code":"ErrorItemNotFound","message":"The specified object was not found in the store.","innerError":{"date":"2021-07-23T10:07:16"}}})json";
  EXPECT_EQ(response.error().code, "ErrorItemNotFound");
  EXPECT_EQ(response.describe(), "Graph answered 404 ErrorItemNotFound: The specified object was not found in the store.");
  response.body = "<html>Bad gateway</html>";
  EXPECT_EQ(response.error().code, "");
  EXPECT_EQ(response.describe(), "Graph answered 404");
  response.headers = {{"retry-after", "3"}};
  EXPECT_EQ(response.header("Retry-After"), "3");
}

TEST(GraphParseMessageTest, MapsFlagsEnvelopeAndToleratesNullsAndUnknownFields) {
  const auto message = parse_message(R"json({
    "@odata.etag":"W/\"CQAAABYAAAC4\"","id":"AAkALgAAA=","changeKey":"CQAAABYAAAC4",
    "categories":["Red category","Projekt"],"receivedDateTime":"2018-09-09T03:15:08Z",
    "sentDateTime":"2018-09-09T03:15:06Z","internetMessageId":"<MWH@prod.outlook.com>",
    "subject":"9/9/2018: concert","parentFolderId":"AQMkADYAAAIBDAAAAA==","isRead":true,"isDraft":false,
    "isDeliveryReceiptRequested":null,"someFutureField":{"x":1},
    "sender":{"emailAddress":{"name":"Adele Vance","address":"adelev@contoso.com"}},
    "from":null,
    "toRecipients":[{"emailAddress":{"name":"Alex Wilber","address":"AlexW@contoso.com"}}],
    "ccRecipients":[],"replyTo":[],"flag":{"flagStatus":"flagged"},
    "singleValueExtendedProperties":[{"id":"Integer 0x1081","value":"102"}]})json");
  ASSERT_TRUE(message.ok()) << message.error().message;
  EXPECT_EQ(message->id.value(), "AAkALgAAA=");
  EXPECT_EQ(message->folder_id.value(), "AQMkADYAAAIBDAAAAA==");
  EXPECT_TRUE(message->flags.has(mail::SystemFlag::seen));
  EXPECT_TRUE(message->flags.has(mail::SystemFlag::flagged));
  EXPECT_TRUE(message->flags.has(mail::SystemFlag::answered));
  EXPECT_FALSE(message->flags.has(mail::SystemFlag::draft));
  EXPECT_TRUE(message->flags.has_keyword("Red_category"));
  EXPECT_TRUE(message->flags.has_keyword("Projekt"));
  EXPECT_EQ(message->received, std::chrono::sys_days(std::chrono::year(2018) / 9 / 9) + 3h + 15min + 8s);
  EXPECT_EQ(message->envelope.subject, "9/9/2018: concert");
  EXPECT_TRUE(message->envelope.from.empty());
  ASSERT_EQ(message->envelope.sender.size(), 1U);
  EXPECT_EQ(message->envelope.sender[0].address, "adelev@contoso.com");
  ASSERT_EQ(message->envelope.to.size(), 1U);
  EXPECT_EQ(message->envelope.to[0].name, "Alex Wilber");
  EXPECT_EQ(message->envelope.message_id, "<MWH@prod.outlook.com>");
  EXPECT_FALSE(message->size.has_value());
}

TEST(GraphParseMessageTest, ReadsTheNormalisedVerbIdAndForwarded) {
  const auto message = parse_message(
      R"json({"id":"x","singleValueExtendedProperties":[{"id":"integer 0X1081","value":"104"}],"isRead":"true"})json");
  ASSERT_TRUE(message.ok());
  EXPECT_TRUE(message->flags.has(mail::SystemFlag::forwarded));
  EXPECT_FALSE(message->flags.has(mail::SystemFlag::answered));
  EXPECT_TRUE(message->flags.has(mail::SystemFlag::seen));  // the doc sample's string boolean
}

TEST(GraphParseMessageTest, RefusesWhatIsNotAMessage) {
  EXPECT_EQ(parse_message("{\"subject\":\"no id\"}").code(), mail::ErrorCode::invalid);
  EXPECT_EQ(parse_message("{\"id\":").code(), mail::ErrorCode::unavailable);
  EXPECT_EQ(parse_message("[]").code(), mail::ErrorCode::unavailable);
}

TEST(GraphParseFolderTest, ReadsCountsHiddenAndSearchFolders) {
  const auto folder = parse_folder(R"json({"@odata.type":"#microsoft.graph.mailSearchFolder","id":"AAMkADYRAAAZg1yTAAA=",
      "displayName":"Weekly digests","parentFolderId":"AQMkADYAAAIBDAAAAA==","childFolderCount":0,
      "unreadItemCount":4,"totalItemCount":5,"isHidden":false,"sizeInBytes":1234,"isSupported":true})json");
  ASSERT_TRUE(folder.ok());
  EXPECT_TRUE(folder->search_folder);
  EXPECT_EQ(folder->display_name, "Weekly digests");
  EXPECT_EQ(folder->unread_count, 4U);
  EXPECT_EQ(folder->total_count, 5U);
  const auto hidden = parse_folder(R"json({"id":"a","displayName":"Sync Issues","isHidden":true,"childFolderCount":3})json");
  ASSERT_TRUE(hidden.ok());
  EXPECT_TRUE(hidden->hidden);
  EXPECT_FALSE(hidden->search_folder);
  EXPECT_EQ(hidden->child_folder_count, 3U);
}

TEST(GraphParseDeltaTest, SplitsChangedAndRemovedAndKeepsTheLinks) {
  const auto page = parse_delta_page(R"json({
    "@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(message)",
    "@odata.deltaLink":"https://graph.microsoft.com/v1.0/me/mailfolders('AQMkADNkNAAAgEMAAAA')/messages/delta?$deltatoken=GwcBoTmPuoGNlgXgF1nyUNMXY",
    "value":[
      {"@odata.type":"#microsoft.graph.message","id":"AAMkADk0MGFkODE3=","@removed":{"reason":"deleted"}},
      {"@odata.type":"#microsoft.graph.message","subject":"Holiday hours update","isRead":true,
       "sender":{"emailAddress":{"name":"Dana Swope","address":"danas@contoso.onmicrosoft.com"}},"id":"AAMkADNkNAAASq35xAAA="},
      {"subject":"an entry without an id is skipped"}]})json");
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_TRUE(page->last_page());
  EXPECT_EQ(page->next_link, "");
  ASSERT_EQ(page->removed.size(), 1U);
  EXPECT_EQ(page->removed[0].value(), "AAMkADk0MGFkODE3=");
  ASSERT_EQ(page->changed.size(), 1U);
  EXPECT_EQ(page->changed[0].envelope.subject, "Holiday hours update");

  const auto next = parse_delta_page(R"json({"@odata.nextLink":"https://g/v1.0/me/x?$skiptoken=1","value":[]})json");
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->last_page());
  EXPECT_EQ(next->next_link, "https://g/v1.0/me/x?$skiptoken=1");

  EXPECT_EQ(parse_delta_page(R"json({"value":[]})json").code(), mail::ErrorCode::unavailable);
  EXPECT_EQ(parse_delta_page(R"json({"@odata.deltaLink":"x"})json").code(), mail::ErrorCode::unavailable);
}

TEST(GraphEncodeIdTest, PercentEncodesEverythingButUnreserved) {
  EXPECT_EQ(encode_id("AAMk/AD+x=="), "AAMk%2FAD%2Bx%3D%3D");
  EXPECT_EQ(encode_id("inbox"), "inbox");
}

}  // namespace
}  // namespace mailtrixy::graph
