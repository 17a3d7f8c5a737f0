// The APPEND journal (synced_mailbox.hpp, "Interrupted APPENDs"): a non-draft APPEND that is
// interrupted between Graph's staging draft and its removal must not leave a second copy.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "mailtrixy/mail/fake_remote_mailbox.hpp"
#include "mailtrixy/sync/sync_engine.hpp"
#include "mailtrixy/sync/synced_mailbox.hpp"
#include "sync_test_support.hpp"

namespace mailtrixy::sync {
namespace {

using namespace std::chrono_literals;
using mail::ErrorCode;
using mail::SystemFlag;
using testing::TempStore;

std::string mime(const std::string& subject, bool with_message_id = true) {
  return "From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: " + subject + "\r\n" +
         (with_message_id ? "Message-ID: <" + subject + "@example.com>\r\n" : std::string()) + "\r\nbody\r\n";
}

mail::MailError unavailable() { return mail::MailError{ErrorCode::unavailable, "Microsoft did not answer."}; }

class AppendJournalTest : public ::testing::Test {
 protected:
  AppendJournalTest() {
    make_mailbox();
    EXPECT_TRUE(mailbox->sync_folder_tree().ok());
  }
  void make_mailbox() {
    mailbox.reset();
    bodies = std::make_shared<BodyCache>(db.store(), 1 << 20, [] { return std::int64_t{1'790'000'000'000}; });
    ASSERT_TRUE(bodies->load().ok());
    mailbox = std::make_unique<SyncedMailbox>(db.store(), "acct", interrupting, bodies,
                                              [] { return std::int64_t{1'790'000'000'000}; });
  }
  // A kill -9 and a start: nothing of the old process survives but the database.
  void restart() {
    mailbox.reset();
    bodies.reset();
    db.reopen();
    make_mailbox();
  }
  std::size_t pending() {
    auto count = mailbox->pending_appends();
    EXPECT_TRUE(count.ok());
    return count.ok() ? *count : 0;
  }
  std::vector<mail::GraphId> in(std::string_view alias) { return remote->message_ids(remote->folder_id(alias)); }
  std::vector<std::string> subjects_in(std::string_view alias) {
    std::vector<std::string> out;
    for (const auto& id : in(alias)) out.push_back(remote->message(id)->envelope.subject);
    return out;
  }

  TempStore db;
  std::shared_ptr<mail::FakeRemoteMailbox> remote = std::make_shared<mail::FakeRemoteMailbox>();
  std::shared_ptr<testing::InterruptingRemote> interrupting = std::make_shared<testing::InterruptingRemote>(remote);
  std::shared_ptr<BodyCache> bodies;
  std::unique_ptr<SyncedMailbox> mailbox;
};

TEST_F(AppendJournalTest, ANormalAppendLeavesNoJournalRecordAndNoDraft) {
  auto appended = mailbox->append("Archive", mime("normal"), mail::Flags().set(SystemFlag::seen), std::nullopt);
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_EQ(pending(), 0u);
  EXPECT_TRUE(in("drafts").empty());
  EXPECT_EQ(subjects_in("archive"), std::vector<std::string>{"normal"});
  EXPECT_EQ(remote->calls("delete_staging_drafts"), 0u);  // nothing to clean after a success
}

TEST_F(AppendJournalTest, AFailedAppendRemovesItsStagingDraftAndOnlyThat) {
  // Neighbours the clean-up must leave alone: a draft with another Message-ID, and a normal
  // (non-draft) message in Drafts with the same Message-ID.
  remote->deliver(remote->folder_id("drafts"), mime("other"), mail::Flags().set(SystemFlag::draft));
  remote->deliver(remote->folder_id("drafts"), mime("lost"));
  remote->interrupt_next_create(unavailable());

  auto appended = mailbox->append("Archive", mime("lost"), {}, std::nullopt);
  ASSERT_FALSE(appended.ok());
  EXPECT_EQ(appended.code(), ErrorCode::unavailable);
  EXPECT_EQ(pending(), 0u);
  ASSERT_EQ(in("drafts").size(), 2u);
  for (const auto& id : in("drafts")) {
    const auto message = remote->message(id);
    EXPECT_FALSE(message->flags.has(SystemFlag::draft) && message->envelope.subject == "lost");
  }
  EXPECT_TRUE(in("archive").empty());
}

TEST_F(AppendJournalTest, AnAppendKilledMidwayIsCleanedUpAfterTheRestart) {
  // The re-created copy is stored, then the process dies before the staging draft goes: the
  // in-call clean-up never runs (here: Graph fails it, which leaves the same journal record).
  remote->interrupt_next_create(unavailable(), /*stored_too=*/true);
  remote->fail_next("delete_staging_drafts", unavailable());
  ASSERT_FALSE(mailbox->append("Archive", mime("killed"), {}, std::nullopt).ok());
  ASSERT_EQ(pending(), 1u);
  ASSERT_EQ(in("drafts").size(), 1u);

  restart();
  ASSERT_EQ(pending(), 1u);
  auto finished = mailbox->finish_interrupted_appends();
  ASSERT_TRUE(finished.ok()) << finished.error().message;
  EXPECT_EQ(*finished, 1u);
  EXPECT_EQ(pending(), 0u);
  EXPECT_TRUE(in("drafts").empty());
  EXPECT_EQ(subjects_in("archive"), std::vector<std::string>{"killed"});  // the stored copy stays
}

TEST_F(AppendJournalTest, TheCleanUpIsRetriedWhileGraphIsUnavailable) {
  remote->interrupt_next_create(unavailable());
  remote->fail_next("delete_staging_drafts", unavailable(), 2);
  ASSERT_FALSE(mailbox->append("Archive", mime("retry"), {}, std::nullopt).ok());
  restart();
  auto first = mailbox->finish_interrupted_appends();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.code(), ErrorCode::unavailable);
  EXPECT_EQ(pending(), 1u);
  EXPECT_EQ(in("drafts").size(), 1u);
  auto second = mailbox->finish_interrupted_appends();
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(*second, 1u);
  EXPECT_EQ(pending(), 0u);
  EXPECT_TRUE(in("drafts").empty());
}

TEST_F(AppendJournalTest, AnAppendInProgressIsNotCleanedUpUnderIt) {
  // A sync round runs while the APPEND waits for Graph: the record is that APPEND's own.
  std::size_t seen_pending = 0;
  interrupting->during_create = [&] {
    seen_pending = pending();
    auto finished = mailbox->finish_interrupted_appends();
    EXPECT_TRUE(finished.ok());
  };
  auto appended = mailbox->append("Archive", mime("racing"), {}, std::nullopt);
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_EQ(seen_pending, 1u);
  EXPECT_EQ(remote->calls("delete_staging_drafts"), 0u);
  EXPECT_EQ(pending(), 0u);
}

TEST_F(AppendJournalTest, DraftsAndMessagesWithoutMessageIdAreNotJournaled) {
  interrupting->during_create = [&] { EXPECT_EQ(pending(), 0u); };
  ASSERT_TRUE(mailbox->append("Drafts", mime("draft"), mail::Flags().set(SystemFlag::draft), std::nullopt).ok());
  ASSERT_TRUE(mailbox->append("Archive", mime("anonymous", false), {}, std::nullopt).ok());
  // Documented limitation: without a Message-ID the staging draft cannot be found again.
  remote->interrupt_next_create(unavailable());
  ASSERT_FALSE(mailbox->append("Archive", mime("anonymous-lost", false), {}, std::nullopt).ok());
  EXPECT_EQ(remote->calls("delete_staging_drafts"), 0u);
  EXPECT_EQ(pending(), 0u);
}

TEST_F(AppendJournalTest, ATargetOfDraftsKeepsTheStoredCopy) {
  // The re-created message is not a draft, so it survives the clean-up in Drafts itself.
  remote->interrupt_next_create(unavailable(), /*stored_too=*/true);
  remote->fail_next("delete_staging_drafts", unavailable());
  ASSERT_FALSE(mailbox->append("Drafts", mime("own"), {}, std::nullopt).ok());
  ASSERT_EQ(in("drafts").size(), 2u);
  restart();
  ASSERT_TRUE(mailbox->finish_interrupted_appends().ok());
  ASSERT_EQ(in("drafts").size(), 1u);
  EXPECT_FALSE(remote->message(in("drafts").front())->flags.has(SystemFlag::draft));
}

TEST(AppendJournalEngine, TheSyncEngineFinishesInterruptedAppendsWhenItStarts) {
  TempStore db;
  auto remote = std::make_shared<mail::FakeRemoteMailbox>();
  {
    auto bodies = std::make_shared<BodyCache>(db.store(), 1 << 20, [] { return std::int64_t{0}; });
    ASSERT_TRUE(bodies->load().ok());
    SyncedMailbox before_the_kill(db.store(), "acct", remote, bodies, [] { return std::int64_t{0}; });
    ASSERT_TRUE(before_the_kill.sync_folder_tree().ok());
    remote->interrupt_next_create(unavailable(), /*stored_too=*/true);
    remote->fail_next("delete_staging_drafts", unavailable());
    ASSERT_FALSE(before_the_kill.append("Archive", mime("engine"), {}, std::nullopt).ok());
    ASSERT_EQ(*before_the_kill.pending_appends(), 1u);
  }
  db.reopen();
  SyncOptions options;
  options.poll_interval = 60s;
  options.idle_poll_interval = 1s;
  options.body_cache_bytes = 1 << 20;
  options.prefetch_slice = 0;
  SyncEngine engine(db.store(), options);
  ASSERT_TRUE(engine.open().ok());
  auto mailbox = engine.start_account("acct", remote);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline && *mailbox->pending_appends() != 0)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(*mailbox->pending_appends(), 0u);
  EXPECT_TRUE(remote->message_ids(remote->folder_id("drafts")).empty());
  EXPECT_EQ(remote->message_ids(remote->folder_id("archive")).size(), 1u);
  engine.stop();
}

}  // namespace
}  // namespace mailtrixy::sync
