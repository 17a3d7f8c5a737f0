// The Sent Items side of the outbound queue: a client that APPENDs its own copy of a message the
// queue just sent gets Microsoft's copy back (sync::SyncedMailbox::set_sent_copy_check wired to
// outbox::Outbox::recently_sent, as `serve` does), not a second copy.

#include <gtest/gtest.h>

#include "mailtrixy/mail/fake_remote_mailbox.hpp"
#include "mailtrixy/outbox/outbox.hpp"
#include "mailtrixy/sync/synced_mailbox.hpp"
#include "support/temp_dir.hpp"

namespace mailtrixy::outbox {
namespace {

using namespace std::chrono_literals;

// Sends by putting the message into the fake mailbox's Sent Items, as Microsoft does.
class SentItemsChannel : public DeliveryChannel {
 public:
  explicit SentItemsChannel(std::shared_ptr<mail::FakeRemoteMailbox> remote) : remote_(std::move(remote)) {}
  mail::MailResult<void> send(std::string_view mime, bool*) override {
    remote_->deliver(remote_->folder_id("sentitems"), std::string(mime));
    return {};
  }
  mail::MailResult<bool> already_sent(std::string_view) override { return false; }
  mail::MailResult<void> deliver_bounce(std::string_view) override { return {}; }

 private:
  std::shared_ptr<mail::FakeRemoteMailbox> remote_;
};

class SentCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Store::open(store::OpenOptions{dir_.path(), key_, false, {}});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
    bodies_ = std::make_shared<sync::BodyCache>(*store_, 1 << 20, [] { return std::int64_t{1'790'000'000'000}; });
    ASSERT_TRUE(bodies_->load().ok());
    mailbox_ = std::make_unique<sync::SyncedMailbox>(*store_, "acct", remote_, bodies_,
                                                     [] { return std::int64_t{1'790'000'000'000}; });
    ASSERT_TRUE(mailbox_->sync_folder_tree().ok());
    auto outbox = Outbox::open(*store_, {});
    ASSERT_TRUE(outbox.ok());
    outbox_ = std::move(outbox).value();
  }

  std::size_t sent_items() {
    auto listed = mailbox_->list_messages("Sent Items", mail::UidRange::all());
    EXPECT_TRUE(listed.ok());
    return listed.ok() ? listed->size() : 0;
  }

  mailtrixy::testing::TempDir dir_{"mailtrixy-outbox-sent"};
  crypto::Key key_ = crypto::Key::generate();
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<mail::FakeRemoteMailbox> remote_ = std::make_shared<mail::FakeRemoteMailbox>();
  std::shared_ptr<sync::BodyCache> bodies_;
  std::unique_ptr<sync::SyncedMailbox> mailbox_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(SentCopyTest, AnAppendOfAMessageTheQueueSentReturnsMicrosoftsCopy) {
  mailbox_->set_sent_copy_check(
      [this](std::string_view message_id) { return outbox_->recently_sent("acct", message_id); });
  const std::string message =
      "From: alice@outlook.com\r\nTo: bob@example.com\r\nSubject: sent once\r\nMessage-ID: <once@outlook.com>\r\n\r\nhi\r\n";
  mail::Submission submission{"acct", "alice@outlook.com", {"bob@example.com"}, message, "test"};
  ASSERT_TRUE(outbox_->enqueue(submission).ok());
  outbox_->start_account("acct", std::make_shared<SentItemsChannel>(remote_));
  ASSERT_TRUE(outbox_->wait_until_empty(5s));

  // The client's own copy, as Thunderbird appends it after the 250.
  auto appended = mailbox_->append("Sent Items", message, mail::Flags{}, std::nullopt);
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_EQ(sent_items(), 1u) << "Sent Items holds exactly one copy";
  auto listed = mailbox_->list_messages("Sent Items", mail::UidRange::all());
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->at(0).uid, appended->uid) << "APPENDUID names Microsoft's copy";
  EXPECT_EQ(listed->at(0).envelope.message_id, "<once@outlook.com>");

  // Another message, or the same one appended to another folder, is appended as usual.
  auto other = mailbox_->append("Sent Items",
                                "From: alice@outlook.com\r\nSubject: other\r\nMessage-ID: <other@x>\r\n\r\nx\r\n",
                                mail::Flags{}, std::nullopt);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(sent_items(), 2u);
  auto inbox_copy = mailbox_->append("INBOX", message, mail::Flags{}, std::nullopt);
  ASSERT_TRUE(inbox_copy.ok());
  auto inbox = mailbox_->list_messages("INBOX", mail::UidRange::all());
  ASSERT_TRUE(inbox.ok());
  EXPECT_EQ(inbox->size(), 1u);
}

TEST_F(SentCopyTest, WithoutTheQueueHavingSentItAnAppendCreatesACopy) {
  mailbox_->set_sent_copy_check(
      [this](std::string_view message_id) { return outbox_->recently_sent("acct", message_id); });
  remote_->deliver(remote_->folder_id("sentitems"),
                   "From: alice@outlook.com\r\nSubject: old\r\nMessage-ID: <old@x>\r\n\r\nx\r\n");
  auto appended = mailbox_->append("Sent Items", "From: alice@outlook.com\r\nSubject: old\r\nMessage-ID: <old@x>\r\n\r\nx\r\n",
                                   mail::Flags{}, std::nullopt);
  ASSERT_TRUE(appended.ok());
  auto listed = mailbox_->list_messages("Sent Items", mail::UidRange::all());
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u) << "only the appended copy is known before the next sync";
  EXPECT_EQ(listed->back().uid, appended->uid);
}

}  // namespace
}  // namespace mailtrixy::outbox
