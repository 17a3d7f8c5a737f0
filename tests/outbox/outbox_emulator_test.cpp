// The outbox with its real Graph channel against the real mailtrixy-emulator: what reaches
// /_emulator/users/{email}/sent, a 503 outage survived, a permanent refusal bounced into the Inbox.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "graph/graph_test_support.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/graph/graph_remote_mailbox.hpp"
#include "mailtrixy/mail/envelope.hpp"
#include "mailtrixy/outbox/graph_channel.hpp"
#include "mailtrixy/outbox/outbox.hpp"

namespace mailtrixy::outbox {
namespace {

using namespace std::chrono_literals;
namespace gt = graph::testing;

class OutboxEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(MAILTRIXY_EMULATOR)) GTEST_SKIP() << "no emulator binary at " << MAILTRIXY_EMULATOR;
    env_ = std::make_unique<gt::SignedInEmulator>(dir_.path(), gt::EmulatorOptions{});
    OutboxOptions options;
    options.backoff_initial = 100ms;
    options.backoff_max = 300ms;
    auto outbox = Outbox::open(*env_->store, options);
    ASSERT_TRUE(outbox.ok()) << outbox.error().message;
    outbox_ = std::move(outbox).value();
    graph::GraphClientOptions client_options;
    client_options.graph_url = env_->emulator->url();
    client_options.mailbox_key = env_->account_key;
    client_options.max_attempts = 2;
    client_options.backoff_initial = 50ms;
    client_options.backoff_max = 100ms;
    auto channel = GraphDeliveryChannel::create(*env_->http, graph::token_source(*env_->tokens, env_->account_key),
                                                client_options);
    ASSERT_TRUE(channel.ok()) << channel.error().message;
    outbox_->start_account(env_->account_key, std::move(channel).value());
  }
  void TearDown() override {
    if (outbox_) outbox_->stop();
    outbox_.reset();
    env_.reset();
  }

  mail::Submission submission(std::string mime, std::vector<std::string> recipients) {
    return mail::Submission{env_->account_key, gt::kUser, std::move(recipients), std::move(mime), "test"};
  }

  // (recipients, mime) of every message alice sent.
  std::vector<std::pair<std::vector<std::string>, std::string>> sent() {
    auto document = env_->control("GET", std::string("users/") + gt::kUser + "/sent");
    std::vector<std::pair<std::vector<std::string>, std::string>> out;
    if (!document.IsArray()) return out;
    for (const auto& item : document.GetArray()) {
      std::vector<std::string> recipients;
      for (const auto& recipient : item["recipients"].GetArray()) recipients.emplace_back(recipient.GetString());
      std::sort(recipients.begin(), recipients.end());
      out.emplace_back(recipients, crypto::base64_decode(item["mime_base64"].GetString()).value());
    }
    return out;
  }

  gt::TempDir dir_;
  std::unique_ptr<gt::SignedInEmulator> env_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(OutboxEmulatorTest, MicrosoftSendsToExactlyTheEnvelope) {
  const std::string mime = std::string("From: ") + gt::kUser +
                           "\r\nTo: Bob <bob@example.com>, outsider@example.com\r\nCc: carol@example.com\r\n"
                           "Subject: envelope\r\n\r\nhello\r\n";
  ASSERT_TRUE(outbox_->enqueue(submission(mime, {"bob@example.com", "carol@example.com", "dave@example.com"})).ok());
  ASSERT_TRUE(outbox_->wait_until_empty(20s));
  const auto messages = sent();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].first, (std::vector<std::string>{"bob@example.com", "carol@example.com", "dave@example.com"}));
  const auto fields = mail::parse_header_fields(messages[0].second);
  EXPECT_EQ(mail::find_header(fields, "To"), "Bob <bob@example.com>");
  EXPECT_EQ(mail::find_header(fields, "Bcc"), "dave@example.com");
  EXPECT_TRUE(mail::find_header(fields, "Message-ID").has_value());
}

TEST_F(OutboxEmulatorTest, AnOutageIsWaitedOutAndTheMessageSentOnce) {
  env_->control("POST", "faults", R"({"route": "sendMail", "status": 503, "count": 8, "retry_after": 0.1})");
  ASSERT_TRUE(outbox_->enqueue(submission("To: bob@example.com\r\nSubject: outage\r\n\r\nx\r\n", {"bob@example.com"})).ok());
  ASSERT_TRUE(outbox_->wait_until_empty(30s));
  EXPECT_EQ(sent().size(), 1u);
  EXPECT_GE(outbox_->stats().deferred, 3u);
  EXPECT_EQ(outbox_->stats().sent, 1u);
}

TEST_F(OutboxEmulatorTest, APermanentRefusalBouncesIntoTheInbox) {
  env_->control("POST", "faults",
                R"({"route": "sendMail", "status": 403, "count": 1, "code": "ErrorSendAsDenied", "message": "Not allowed to send as this address."})");
  ASSERT_TRUE(outbox_->enqueue(submission("To: bob@example.com\r\nSubject: doomed\r\n\r\nx\r\n", {"bob@example.com"})).ok());
  ASSERT_TRUE(outbox_->wait_until_empty(30s));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(outbox_->stats().bounced, 1u);

  graph::GraphClientOptions options;
  options.graph_url = env_->emulator->url();
  options.mailbox_key = env_->account_key;
  auto client = graph::GraphClient::create(*env_->http, graph::token_source(*env_->tokens, env_->account_key), options);
  ASSERT_TRUE(client.ok());
  graph::GraphRemoteMailbox mailbox(**client);
  std::vector<mail::RemoteMessage> inbox;
  std::string link;
  for (;;) {
    auto page = mailbox.message_delta(mail::FolderId("inbox"), link);
    ASSERT_TRUE(page.ok()) << page.error().message;
    for (auto& message : page->changed) inbox.push_back(message);
    if (page->last_page()) break;
    link = page->next_link;
  }
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].envelope.subject, "Undelivered Mail Returned to Sender");
  EXPECT_FALSE(inbox[0].flags.has(mail::SystemFlag::seen));
  EXPECT_FALSE(inbox[0].flags.has(mail::SystemFlag::draft));
}

}  // namespace
}  // namespace mailtrixy::outbox
