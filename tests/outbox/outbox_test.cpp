#include "mailtrixy/outbox/outbox.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "mailtrixy/crypto/aead.hpp"
#include "mailtrixy/mail/envelope.hpp"
#include "mailtrixy/outbox/message_rewrite.hpp"
#include "support/temp_dir.hpp"

namespace mailtrixy::outbox {
namespace {

using namespace std::chrono_literals;

// A scripted Microsoft: send() pops the next scripted outcome (success when none is left) and
// records what was accepted; already_sent() answers from what was accepted.
class FakeChannel : public DeliveryChannel {
 public:
  struct Outcome {
    bool accepted = false;       // Microsoft took the message (even if the caller hears otherwise)
    std::optional<mail::MailError> error;
    bool may_have_been_sent = false;
    bool crash = false;          // the process "dies" right after Microsoft answered
  };

  mail::MailResult<void> send(std::string_view mime, bool* may_have_been_sent) override {
    Outcome outcome{true, std::nullopt, false, false};
    {
      std::lock_guard lock(mutex_);
      ++send_calls;
      if (!script.empty()) {
        outcome = script.front();
        script.pop_front();
      }
      if (outcome.accepted) {
        sent.emplace_back(mime);
        if (auto id = message_id_of(mime)) sent_ids.insert(*id);
      }
    }
    if (outcome.crash) throw std::runtime_error("simulated crash after Microsoft accepted the message");
    *may_have_been_sent = outcome.may_have_been_sent;
    if (outcome.error) return *outcome.error;
    return {};
  }
  mail::MailResult<bool> already_sent(std::string_view message_id) override {
    std::lock_guard lock(mutex_);
    ++lookups;
    return sent_ids.contains(std::string(message_id));
  }
  mail::MailResult<void> deliver_bounce(std::string_view mime) override {
    std::lock_guard lock(mutex_);
    if (bounce_failures > 0) {
      --bounce_failures;
      return mail::make_mail_error(mail::ErrorCode::unavailable, "Inbox unreachable.");
    }
    bounces.emplace_back(mime);
    return {};
  }

  std::mutex mutex_;
  std::deque<Outcome> script;
  std::vector<std::string> sent;
  std::set<std::string> sent_ids;
  std::vector<std::string> bounces;
  int bounce_failures = 0;
  int send_calls = 0;
  int lookups = 0;
};

mail::Submission submission(std::string mime = "From: alice@outlook.com\r\nTo: bob@example.com\r\n"
                                               "Subject: Hello\r\n\r\nHi Bob\r\n") {
  mail::Submission s;
  s.account_key = "account-1";
  s.envelope_from = "alice@outlook.com";
  s.recipients = {"bob@example.com", "hidden@example.com"};
  s.mime = std::move(mime);
  s.client = "127.0.0.1:5000";
  return s;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { open_store(); }

  void open_store() {
    auto opened = store::Store::open(store::OpenOptions{dir_.path(), key_, false, {}});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }

  std::unique_ptr<Outbox> make_outbox(OutboxOptions options = fast()) {
    auto outbox = Outbox::open(*store_, std::move(options));
    EXPECT_TRUE(outbox.ok()) << outbox.error().message;
    return std::move(outbox).value();
  }

  static OutboxOptions fast() {
    OutboxOptions options;
    options.backoff_initial = 10ms;
    options.backoff_max = 40ms;
    options.retry_for = 60s;
    options.parallel_sends = 2;
    return options;
  }

  mailtrixy::testing::TempDir dir_{"mailtrixy-outbox"};
  crypto::Key key_ = crypto::Key::generate();
  std::unique_ptr<store::Store> store_;
};

TEST_F(OutboxTest, EnqueueIsDurableAndAddsAMessageId) {
  std::string id;
  {
    auto outbox = make_outbox();
    auto queued = outbox->enqueue(submission());
    ASSERT_TRUE(queued.ok()) << queued.error().message;
    id = *queued;
    EXPECT_TRUE(id.starts_with("q"));
    EXPECT_EQ(id.find(' '), std::string::npos);
    auto stored = store_->get_encrypted(store::Family::outbox, mime_key(id));
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_TRUE(message_id_of(**stored).has_value());
    EXPECT_NE((*stored)->find("Hi Bob"), std::string::npos);
  }
  store_.reset();
  open_store();
  auto reopened = make_outbox();
  const auto entries = reopened->list();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, id);
  EXPECT_EQ(entries[0].state, EntryState::queued);
  EXPECT_EQ(entries[0].recipients, (std::vector<std::string>{"bob@example.com", "hidden@example.com"}));
  auto listed = Outbox::list(*store_);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(OutboxTest, EnqueueKeepsTheClientsMessageId) {
  auto outbox = make_outbox();
  auto queued = outbox->enqueue(submission("Message-ID: <mine@client>\r\nTo: bob@example.com\r\n\r\nx\r\n"));
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(outbox->list().at(0).message_id, "<mine@client>");
}

TEST_F(OutboxTest, EnqueueRejectsBadSubmissions) {
  OutboxOptions options = fast();
  options.max_message_bytes = 100;
  auto outbox = make_outbox(options);
  auto no_recipients = submission();
  no_recipients.recipients.clear();
  EXPECT_EQ(outbox->enqueue(no_recipients).code(), mail::ErrorCode::invalid);
  EXPECT_EQ(outbox->enqueue(submission("not a message at all")).code(), mail::ErrorCode::invalid);
  EXPECT_EQ(outbox->enqueue(submission("Subject: x\r\n\r\n" + std::string(200, 'a'))).code(),
            mail::ErrorCode::too_big);
  EXPECT_TRUE(outbox->list().empty());
}

TEST_F(OutboxTest, DeliversOnceWithTheEnvelopeRecipients) {
  auto outbox = make_outbox();
  auto channel = std::make_shared<FakeChannel>();
  ASSERT_TRUE(outbox->enqueue(submission()).ok());
  outbox->start_account("account-1", channel);
  ASSERT_TRUE(outbox->wait_until_empty(5s));
  outbox->stop();
  ASSERT_EQ(channel->sent.size(), 1u);
  const auto fields = mail::parse_header_fields(channel->sent[0]);
  EXPECT_EQ(mail::find_header(fields, "Bcc"), "hidden@example.com");
  EXPECT_EQ(mail::find_header(fields, "To"), "bob@example.com");
  EXPECT_EQ(outbox->stats().sent, 1u);
  auto left = Outbox::list(*store_);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
  EXPECT_TRUE(outbox->recently_sent("account-1", *message_id_of(channel->sent[0])));
  EXPECT_FALSE(outbox->recently_sent("account-2", *message_id_of(channel->sent[0])));
}

TEST_F(OutboxTest, OnlyTheAccountsOwnWorkersSendItsMessages) {
  auto outbox = make_outbox();
  auto channel = std::make_shared<FakeChannel>();
  auto other = submission();
  other.account_key = "account-2";
  ASSERT_TRUE(outbox->enqueue(other).ok());
  outbox->start_account("account-1", channel);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(channel->send_calls, 0);
  EXPECT_EQ(outbox->list().size(), 1u);
}

TEST_F(OutboxTest, RetriesTransientFailuresWithBackoff) {
  auto outbox = make_outbox();
  auto channel = std::make_shared<FakeChannel>();
  const mail::MailError unavailable{mail::ErrorCode::unavailable, "Graph answered 503."};
  channel->script = {{false, unavailable, false, false},
                     {false, mail::MailError{mail::ErrorCode::needs_sign_in, "sign in"}, false, false},
                     {false, unavailable, false, false}};
  ASSERT_TRUE(outbox->enqueue(submission()).ok());
  outbox->start_account("account-1", channel);
  ASSERT_TRUE(outbox->wait_until_empty(5s));
  EXPECT_EQ(channel->send_calls, 4);
  EXPECT_EQ(channel->sent.size(), 1u);
  EXPECT_EQ(channel->lookups, 0) << "failures with an answer never need a Sent Items lookup";
  EXPECT_EQ(outbox->stats().deferred, 3u);
}

TEST_F(OutboxTest, AnAttemptInDoubtIsLookedUpInsteadOfResent) {
  auto outbox = make_outbox();
  auto channel = std::make_shared<FakeChannel>();
  // Microsoft took it, but the answer was lost on the way back.
  channel->script = {{true, mail::MailError{mail::ErrorCode::unavailable, "timeout"}, true, false}};
  ASSERT_TRUE(outbox->enqueue(submission()).ok());
  outbox->start_account("account-1", channel);
  ASSERT_TRUE(outbox->wait_until_empty(5s));
  EXPECT_EQ(channel->send_calls, 1);
  EXPECT_EQ(channel->lookups, 1);
  EXPECT_EQ(outbox->stats().found_already_sent, 1u);
}

TEST_F(OutboxTest, AnAttemptInDoubtThatDidNotGoThroughIsResent) {
  auto outbox = make_outbox();
  auto channel = std::make_shared<FakeChannel>();
  channel->script = {{false, mail::MailError{mail::ErrorCode::unavailable, "connection lost"}, true, false}};
  ASSERT_TRUE(outbox->enqueue(submission()).ok());
  outbox->start_account("account-1", channel);
  ASSERT_TRUE(outbox->wait_until_empty(5s));
  EXPECT_EQ(channel->send_calls, 2);
  EXPECT_EQ(channel->sent.size(), 1u);
  EXPECT_EQ(channel->lookups, 1);
}

TEST_F(OutboxTest, ACrashAfterMicrosoftAcceptedDoesNotSendTwice) {
  auto channel = std::make_shared<FakeChannel>();
  channel->script = {{true, std::nullopt, false, true}};
  {
    OutboxOptions slow = fast();
    slow.backoff_initial = slow.backoff_max = 1h;
    auto outbox = make_outbox(slow);
    ASSERT_TRUE(outbox->enqueue(submission()).ok());
    outbox->start_account("account-1", channel);
    for (int i = 0; i < 200 && channel->send_calls == 0; ++i) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(50ms);
    outbox->stop();  // the records still say `sending`, as after a kill -9
  }
  auto listed = Outbox::list(*store_);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).state, EntryState::sending);

  auto restarted = make_outbox();
  restarted->start_account("account-1", channel);
  ASSERT_TRUE(restarted->wait_until_empty(5s));
  EXPECT_EQ(channel->send_calls, 1);
  EXPECT_EQ(channel->sent.size(), 1u);
  EXPECT_EQ(restarted->stats().found_already_sent, 1u);
}

TEST_F(OutboxTest, ACrashBeforeMicrosoftAcceptedSendsAfterRestart) {
  auto channel = std::make_shared<FakeChannel>();
  channel->script = {{false, std::nullopt, false, true}};
  {
    OutboxOptions slow = fast();
    slow.backoff_initial = slow.backoff_max = 1h;
    auto outbox = make_outbox(slow);
    ASSERT_TRUE(outbox->enqueue(submission()).ok());
    outbox->start_account("account-1", channel);
    for (int i = 0; i < 200 && channel->send_calls == 0; ++i) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(50ms);
    outbox->stop();
  }
  auto restarted = make_outbox();
  restarted->start_account("account-1", channel);
  ASSERT_TRUE(restarted->wait_until_empty(5s));
  EXPECT_EQ(channel->send_calls, 2);
  EXPECT_EQ(channel->sent.size(), 1u);
}

TEST_F(OutboxTest, APermanentFailureBouncesIntoTheInbox) {
  auto outbox = make_outbox();
  auto channel = std::make_shared<FakeChannel>();
  channel->script = {{false, mail::MailError{mail::ErrorCode::no_permission, "Graph answered 403 ErrorSendAsDenied."},
                      false, false}};
  channel->bounce_failures = 1;  // the Inbox is briefly unreachable too
  ASSERT_TRUE(outbox->enqueue(submission()).ok());
  outbox->start_account("account-1", channel);
  ASSERT_TRUE(outbox->wait_until_empty(5s));
  EXPECT_EQ(channel->send_calls, 1);
  ASSERT_EQ(channel->bounces.size(), 1u);
  EXPECT_NE(channel->bounces[0].find("Status: 5.7.1"), std::string::npos);
  EXPECT_NE(channel->bounces[0].find("ErrorSendAsDenied"), std::string::npos);
  EXPECT_NE(channel->bounces[0].find("Final-Recipient: rfc822; hidden@example.com"), std::string::npos);
  EXPECT_EQ(outbox->stats().bounced, 1u);
}

TEST_F(OutboxTest, GivesUpAfterRetryForAndBounces) {
  OutboxOptions options = fast();
  options.retry_for = 300ms;
  auto outbox = make_outbox(options);
  auto channel = std::make_shared<FakeChannel>();
  for (int i = 0; i < 1000; ++i)
    channel->script.push_back({false, mail::MailError{mail::ErrorCode::unavailable, "Graph answered 503."}, false, false});
  ASSERT_TRUE(outbox->enqueue(submission()).ok());
  outbox->start_account("account-1", channel);
  ASSERT_TRUE(outbox->wait_until_empty(5s));
  ASSERT_EQ(channel->bounces.size(), 1u);
  EXPECT_NE(channel->bounces[0].find("Status: 4.4.7"), std::string::npos);
  EXPECT_NE(channel->bounces[0].find("queue.retry_for"), std::string::npos);
  EXPECT_TRUE(channel->sent.empty());
}

TEST_F(OutboxTest, RetryAndDropFromTheAdministrator) {
  OutboxOptions options = fast();
  options.backoff_initial = 1h;
  options.backoff_max = 1h;
  auto outbox = make_outbox(options);
  auto channel = std::make_shared<FakeChannel>();
  channel->script = {{false, mail::MailError{mail::ErrorCode::unavailable, "Graph answered 503."}, false, false}};
  auto first = outbox->enqueue(submission());
  ASSERT_TRUE(first.ok());
  outbox->start_account("account-1", channel);
  for (int i = 0; i < 300 && outbox->stats().deferred == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(outbox->stats().deferred, 1u);
  auto waiting = outbox->list();
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].state, EntryState::deferred);
  EXPECT_EQ(waiting[0].attempts, 1);
  EXPECT_NE(waiting[0].last_error.find("503"), std::string::npos);

  EXPECT_EQ(outbox->backlog_warning(1h), "");
  EXPECT_NE(outbox->backlog_warning(0ms).find("outbound queue: 1 message waiting"), std::string::npos);
  EXPECT_EQ(outbox->retry("q-unknown").code(), mail::ErrorCode::not_found);
  ASSERT_TRUE(outbox->retry(*first).ok());
  ASSERT_TRUE(outbox->wait_until_empty(5s));
  EXPECT_EQ(channel->sent.size(), 1u);

  outbox->stop_account("account-1");
  auto second = outbox->enqueue(submission());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(outbox->drop("q-unknown").code(), mail::ErrorCode::not_found);
  ASSERT_TRUE(outbox->drop(*second).ok());
  EXPECT_TRUE(outbox->list().empty());
  auto listed = Outbox::list(*store_);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_FALSE(store_->get_encrypted(store::Family::outbox, mime_key(*second))->has_value());
}

TEST_F(OutboxTest, ADamagedRecordIsListedAndDroppableButNeverSent) {
  ASSERT_TRUE(store_->put_encrypted(store::Family::outbox, meta_key("qdamaged"), "{not json").ok());
  ASSERT_TRUE(store_->put(store::Family::outbox, meta_key("qtampered"), "not even sealed").ok());
  auto outbox = make_outbox();
  auto channel = std::make_shared<FakeChannel>();
  outbox->start_account("account-1", channel);
  const auto entries = outbox->list();
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& entry : entries) {
    EXPECT_TRUE(entry.account_key.empty());
    EXPECT_NE(entry.last_error.find("damaged record"), std::string::npos);
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(channel->send_calls, 0);
  ASSERT_TRUE(outbox->drop("qdamaged").ok());
  ASSERT_TRUE(outbox->drop("qtampered").ok());
  auto listed = Outbox::list(*store_);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(OutboxTest, ManyMessagesFromManyThreadsAreEachSentOnce) {
  auto outbox = make_outbox();
  auto channel = std::make_shared<FakeChannel>();
  outbox->start_account("account-1", channel);
  std::vector<std::thread> clients;
  std::atomic<int> accepted{0};
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 25; ++i)
        if (outbox->enqueue(submission()).ok()) ++accepted;
    });
  }
  for (auto& client : clients) client.join();
  ASSERT_TRUE(outbox->wait_until_empty(10s));
  EXPECT_EQ(accepted.load(), 100);
  EXPECT_EQ(channel->sent.size(), 100u);
  EXPECT_EQ(channel->sent_ids.size(), 100u);
}

}  // namespace
}  // namespace mailtrixy::outbox
