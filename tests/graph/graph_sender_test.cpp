// GraphSender: the MIME splitter on strings, and sending against the real mailtrixy-emulator
// (its /_emulator/users/{email}/sent record is the evidence of what Microsoft would have sent).

#include "mailtrixy/graph/graph_sender.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "graph_test_support.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/random.hpp"
#include "mailtrixy/mail/envelope.hpp"

namespace mailtrixy::graph {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorOptions;
using testing::SignedInEmulator;
using testing::TempDir;

std::string wrap76(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 76) out += text.substr(i, 76) + "\r\n";
  return out;
}

// A multipart message with a text body, an HTML alternative and one attachment of `bytes`.
std::string message_with_attachment(const std::string& message_id, const std::string& bytes,
                                    const std::string& to = "bob@example.com") {
  return "From: Alice <alice@outlook.com>\r\n"
         "To: " + to + "\r\n"
         "Subject: =?UTF-8?B?R3LDvMOfZQ==?= report\r\n"
         "Message-ID: " + message_id + "\r\n"
         "X-Custom: kept\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
         "\r\n"
         "preamble\r\n"
         "--outer\r\n"
         "Content-Type: multipart/alternative; boundary=inner\r\n"
         "\r\n"
         "--inner\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "\r\n"
         "Plain body\r\n"
         "--inner\r\n"
         "Content-Type: text/html; charset=iso-8859-1\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n"
         "\r\n"
         "<p>Gr=FC=DFe</p>\r\n"
         "--inner--\r\n"
         "--outer\r\n"
         "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
         "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "\r\n" +
         wrap76(crypto::base64_encode(bytes)) +
         "--outer--\r\n";
}

TEST(ParseDraftContent, SplitsBodyAttachmentsAndHeaders) {
  const std::string bytes = crypto::random_bytes(1000);
  auto content = parse_draft_content(message_with_attachment("<m1@outlook.com>", bytes,
                                                             "Bob <bob@example.com>, carol@example.com"));
  ASSERT_TRUE(content.ok()) << content.error().message;
  EXPECT_EQ(content->subject, "Grüße report");
  EXPECT_TRUE(content->html);
  EXPECT_EQ(content->body, "<p>Grüße</p>");
  EXPECT_EQ(content->internet_message_id, "<m1@outlook.com>");
  ASSERT_EQ(content->to.size(), 2u);
  EXPECT_EQ(content->to[0].name, "Bob");
  EXPECT_EQ(content->from.address, "alice@outlook.com");
  ASSERT_EQ(content->x_headers.size(), 1u);
  EXPECT_EQ(content->x_headers[0].second, "kept");
  ASSERT_EQ(content->attachments.size(), 1u);
  EXPECT_EQ(content->attachments[0].name, "data.bin");
  EXPECT_EQ(content->attachments[0].bytes, bytes);
}

TEST(ParseDraftContent, PlainMessagesAndBadInput) {
  auto plain = parse_draft_content("Subject: hi\nTo: a@b.c\n\nline one\nline two\n");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->html);
  EXPECT_EQ(plain->body, "line one\nline two\n");
  EXPECT_TRUE(plain->attachments.empty());
  EXPECT_FALSE(parse_draft_content("").ok());
  EXPECT_FALSE(parse_draft_content("no header here").ok());
  // A broken multipart never crashes; it just yields what can be found.
  auto broken = parse_draft_content("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n");
  EXPECT_TRUE(broken.ok());
}

TEST(ParseDraftContent, NeverCrashesOnHostileMime) {
  const std::vector<std::string> pieces = {
      "Content-Type: multipart/mixed; boundary=b\r\n", "Content-Type: multipart/alternative; boundary=\"c\"\r\n",
      "Content-Type: text/html; charset=iso-8859-1\r\n", "Content-Transfer-Encoding: base64\r\n",
      "Content-Transfer-Encoding: quoted-printable\r\n", "Content-Disposition: attachment; filename*0*=utf-8''a%\r\n",
      "Subject: =?UTF-8?B?", "?=", "=?iso-8859-1?q?=E9_", "\r\n", "\n", "--b\r\n", "--b--\r\n", "--c\r\n",
      "QUJD", "=4", "=\r\n", "x", "\"", ";", "To: a@b.c\r\n"};
  std::mt19937 random(11);
  for (int round = 0; round < 3000; ++round) {
    std::string mime = "From: a@b.c\r\n";
    const int count = static_cast<int>(random() % 30);
    for (int i = 0; i < count; ++i) mime += pieces[random() % pieces.size()];
    auto content = parse_draft_content(mime);
    EXPECT_TRUE(content.ok());
  }
}

TEST(OdataFilterLiteral, QuotesAndEncodes) {
  EXPECT_EQ(odata_filter_literal("<a'b@c>"), "%27%3Ca%27%27b%40c%3E%27");
}

class GraphSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(MAILTRIXY_EMULATOR)) GTEST_SKIP() << "no emulator binary at " << MAILTRIXY_EMULATOR;
  }
  void start(EmulatorOptions options = {}, std::chrono::milliseconds timeout = 60s) {
    env_ = std::make_unique<SignedInEmulator>(dir_.path(), options);
    GraphClientOptions client_options;
    client_options.graph_url = env_->emulator->url();
    client_options.mailbox_key = env_->account_key;
    client_options.backoff_initial = 50ms;
    client_options.backoff_max = 200ms;
    client_options.max_attempts = 3;
    client_options.request_timeout = timeout;
    auto client = GraphClient::create(*env_->http, token_source(*env_->tokens, env_->account_key), client_options);
    ASSERT_TRUE(client.ok()) << client.error().message;
    client_ = std::move(client).value();
    sender_ = std::make_unique<GraphSender>(*client_, *env_->http);
  }
  void TearDown() override {
    sender_.reset();
    client_.reset();
    env_.reset();
  }
  // The MIME of every message the emulator's alice sent.
  std::vector<std::string> sent() {
    auto document = env_->control("GET", std::string("users/") + testing::kUser + "/sent");
    std::vector<std::string> out;
    if (!document.IsArray()) return out;
    for (const auto& item : document.GetArray()) {
      auto mime = crypto::base64_decode(item["mime_base64"].GetString());
      if (mime) out.push_back(*mime);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<SignedInEmulator> env_;
  std::unique_ptr<GraphClient> client_;
  std::unique_ptr<GraphSender> sender_;
};

TEST_F(GraphSenderTest, SmallMessagesGoAsMimeAndAreFoundInSentItems) {
  start();
  const std::string mime =
      "From: alice@outlook.com\r\nTo: bob@example.com\r\nBcc: hidden@example.com\r\nSubject: small\r\n"
      "Message-ID: <small-1@outlook.com>\r\n\r\nHello\r\n";
  auto found = sender_->in_sent_items("<small-1@outlook.com>");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_FALSE(*found);
  GraphSender::Report report;
  auto result = sender_->send(mime, &report);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_FALSE(report.used_draft);
  const auto messages = sent();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("Hello"), std::string::npos);
  found = sender_->in_sent_items("<small-1@outlook.com>");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(*found);
}

TEST_F(GraphSenderTest, LargeAttachmentsGoThroughUploadSessionsIntact) {
  start();
  const std::string bytes = crypto::random_bytes(10 * 1024 * 1024 + 17);
  const std::string small = crypto::random_bytes(1000);
  std::string mime = message_with_attachment("<large-1@outlook.com>", bytes);
  // A second, small attachment goes inline (contentBytes) on the same draft.
  const auto end = mime.rfind("--outer--");
  mime.insert(end, "--outer\r\nContent-Type: text/csv; name=small.csv\r\nContent-Disposition: attachment; "
                   "filename=small.csv\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                       wrap76(crypto::base64_encode(small)));
  GraphSender::Report report;
  auto result = sender_->send(mime, &report);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(report.used_draft);
  const auto messages = sent();
  ASSERT_EQ(messages.size(), 1u);
  auto content = parse_draft_content(messages[0]);
  ASSERT_TRUE(content.ok());
  ASSERT_EQ(content->attachments.size(), 2u);
  EXPECT_EQ(content->attachments[0].name, "data.bin");
  EXPECT_TRUE(content->attachments[0].bytes == bytes) << "the 10 MB attachment changed on the way";
  EXPECT_TRUE(content->attachments[1].bytes == small);
  EXPECT_EQ(content->internet_message_id, "<large-1@outlook.com>");
  auto found = sender_->in_sent_items("<large-1@outlook.com>");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(*found);
  auto drafts = sender_->delete_drafts("<large-1@outlook.com>");
  ASSERT_TRUE(drafts.ok());
  EXPECT_EQ(*drafts, 0) << "the draft became the sent message";
}

TEST_F(GraphSenderTest, AFailedLargeSendLeavesNoDraftAndLeftoversAreDeleted) {
  start();
  env_->control("POST", "faults",
                R"({"route": "^POST /v1.0/me/messages/[^/]+/send$", "status": 400, "count": 1})");
  const std::string mime = message_with_attachment("<large-2@outlook.com>", crypto::random_bytes(4 * 1024 * 1024));
  GraphSender::Report report;
  auto result = sender_->send(mime, &report);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.code(), mail::ErrorCode::invalid);
  EXPECT_FALSE(report.may_have_been_sent);
  auto drafts = sender_->delete_drafts("<large-2@outlook.com>");
  ASSERT_TRUE(drafts.ok());
  EXPECT_EQ(*drafts, 0) << "the draft was already deleted after the failure";
  // A leftover draft (as after a crash) is found by its Message-ID and deleted.
  GraphRequest create;
  create.method = "POST";
  create.target = "/me/messages";
  create.content_type = "application/json";
  create.body = R"({"subject":"left over","internetMessageId":"<large-2@outlook.com>"})";
  auto created = client_->send(create);
  ASSERT_TRUE(created.ok() && created->status == 201);
  drafts = sender_->delete_drafts("<large-2@outlook.com>");
  ASSERT_TRUE(drafts.ok());
  EXPECT_EQ(*drafts, 1);
  EXPECT_TRUE(sent().empty());
}

TEST_F(GraphSenderTest, ServiceErrorsAreReportedAsNotSent) {
  start();
  env_->control("POST", "faults", R"({"route": "sendMail", "status": 503, "count": 10})");
  GraphSender::Report report;
  auto result = sender_->send("To: bob@example.com\r\nSubject: x\r\nMessage-ID: <e1@x>\r\n\r\nx\r\n", &report);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.code(), mail::ErrorCode::unavailable);
  EXPECT_FALSE(report.may_have_been_sent);
  env_->control("DELETE", "faults");
  env_->control("POST", "faults",
                R"({"route": "sendMail", "status": 403, "code": "ErrorSendAsDenied", "message": "no", "count": 1})");
  result = sender_->send("To: bob@example.com\r\nSubject: x\r\nMessage-ID: <e2@x>\r\n\r\nx\r\n", &report);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.code(), mail::ErrorCode::no_permission);
}

TEST_F(GraphSenderTest, ALostAnswerIsInDoubtAndSentItemsTellsTheTruth) {
  EmulatorOptions options;
  options.latency_ms = 1500;
  start(options, 500ms);
  GraphSender::Report report;
  auto result = sender_->send("To: bob@example.com\r\nSubject: x\r\nMessage-ID: <doubt@x>\r\n\r\nx\r\n", &report);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(report.may_have_been_sent);
  // A client with a normal timeout asks Sent Items: the emulator did send it.
  GraphClientOptions patient;
  patient.graph_url = env_->emulator->url();
  patient.mailbox_key = env_->account_key;
  auto client = GraphClient::create(*env_->http, token_source(*env_->tokens, env_->account_key), patient);
  ASSERT_TRUE(client.ok());
  GraphSender checker(**client, *env_->http);
  auto found = checker.in_sent_items("<doubt@x>");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_TRUE(*found);
  EXPECT_EQ(sent().size(), 1u);
}

}  // namespace
}  // namespace mailtrixy::graph
