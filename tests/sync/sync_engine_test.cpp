#include "mailtrixy/sync/sync_engine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "mailtrixy/mail/fake_remote_mailbox.hpp"
#include "sync_test_support.hpp"

namespace mailtrixy::sync {
namespace {

using namespace std::chrono_literals;
using testing::TempStore;

std::string mime(const std::string& subject) {
  return "From: a@example.com\r\nSubject: " + subject + "\r\n\r\nbody\r\n";
}

// Polls `condition` for up to `limit`.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

SyncOptions options(std::chrono::milliseconds poll, std::chrono::milliseconds idle_poll) {
  SyncOptions o;
  o.poll_interval = poll;
  o.idle_poll_interval = idle_poll;
  o.body_cache_bytes = 1 << 20;
  o.prefetch_slice = 0;  // background size learning has its own test
  return o;
}

std::size_t count(SyncedMailbox& mailbox, std::string_view path) {
  auto status = mailbox.folder_status(path);
  return status.ok() ? status->messages : 0;
}

TEST(SyncEngine, InitialSyncStartsWithInboxThenEveryFolder) {
  TempStore db;
  auto remote = std::make_shared<mail::FakeRemoteMailbox>();
  auto interrupting = std::make_shared<testing::InterruptingRemote>(remote);
  remote->deliver(remote->folder_id("inbox"), mime("in"));
  remote->deliver(remote->folder_id("archive"), mime("arch"));
  SyncEngine engine(db.store(), options(60s, 1s));
  ASSERT_TRUE(engine.open().ok());
  auto mailbox = engine.start_account("acct", interrupting);
  ASSERT_TRUE(eventually([&] { return count(*mailbox, "INBOX") == 1 && count(*mailbox, "Archive") == 1; }));
  auto first = mailbox->schedule();
  ASSERT_FALSE(first.empty());
  EXPECT_TRUE(first.front().inbox);
  EXPECT_TRUE(eventually([&] { return engine.rounds("acct") >= mailbox->schedule().size(); }));
  // INBOX's round finished first: it has the earliest last-round time.
  auto schedule = mailbox->schedule();
  for (const auto& f : schedule) EXPECT_LE(schedule.front().last_round_ms, f.last_round_ms) << f.path;
  engine.stop();
}

TEST(SyncEngine, WatchedFolderPicksUpNewMailWithinTheIdleInterval) {
  TempStore db;
  auto remote = std::make_shared<mail::FakeRemoteMailbox>();
  SyncEngine engine(db.store(), options(60s, 300ms));
  ASSERT_TRUE(engine.open().ok());
  auto mailbox = engine.start_account("acct", remote);
  ASSERT_TRUE(eventually([&] { return mailbox->folder_status("INBOX").ok() && engine.rounds("acct") >= 7; }));
  std::atomic<int> added{0};
  auto subscription = mailbox->subscribe("INBOX", [&](const mail::ChangeEvent& e) {
    if (e.kind == mail::ChangeEvent::Kind::message_added) ++added;
  });
  ASSERT_TRUE(subscription.ok());
  auto delivered_at = std::chrono::steady_clock::now();
  remote->deliver(remote->folder_id("inbox"), mime("new"));
  ASSERT_TRUE(eventually([&] { return added.load() == 1; }, 3s));
  EXPECT_LT(std::chrono::steady_clock::now() - delivered_at, 1500ms);
  // An unwatched folder waits for poll_interval (60 s) unless a refresh is requested.
  remote->deliver(remote->folder_id("archive"), mime("archived"));
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(count(*mailbox, "Archive"), 0u);
  ASSERT_TRUE(mailbox->request_refresh("Archive").ok());
  EXPECT_TRUE(eventually([&] { return count(*mailbox, "Archive") == 1; }, 3s));
  subscription->reset();
  engine.stop();
  engine.stop();  // idempotent
}

TEST(SyncEngine, SizesAreLearnedInTheBackgroundOncePerMessageNewestFirst) {
  TempStore db;
  auto remote = std::make_shared<mail::FakeRemoteMailbox>();
  for (int i = 0; i < 25; ++i) remote->deliver(remote->folder_id("inbox"), mime("inbox " + std::to_string(i)));
  for (int i = 0; i < 7; ++i) remote->deliver(remote->folder_id("archive"), mime("archive " + std::to_string(i)));
  auto o = options(60s, 60s);
  o.prefetch_slice = 4;
  o.prefetch_pause = 20ms;
  SyncEngine engine(db.store(), o);
  ASSERT_TRUE(engine.open().ok());
  auto mailbox = engine.start_account("acct", remote);
  auto all_known = [&](std::string_view path) {
    auto messages = mailbox->list_messages(path, mail::UidRange::all());
    if (!messages.ok() || messages->empty()) return false;
    for (const auto& m : *messages)
      if (!m.rfc822_size) return false;
    return true;
  };
  ASSERT_TRUE(eventually([&] { return all_known("INBOX") && all_known("Archive"); }, 10s));
  EXPECT_EQ(engine.prefetched("acct"), 32u);
  // Sizes are exact: the length of what fetch_mime serves (from the cache: no new download).
  auto inbox = mailbox->list_messages("INBOX", mail::UidRange::all());
  ASSERT_TRUE(inbox.ok());
  for (const auto& m : *inbox) {
    auto body = mailbox->fetch_mime("INBOX", m.uid);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(*m.rfc822_size, body->size());
  }
  EXPECT_EQ(remote->calls("fetch_mime"), 32u);
  // New mail is learned too, and nothing is downloaded twice.
  remote->deliver(remote->folder_id("inbox"), mime("late arrival"));
  ASSERT_TRUE(mailbox->request_refresh("INBOX").ok());
  ASSERT_TRUE(eventually([&] { return count(*mailbox, "INBOX") == 26 && all_known("INBOX"); }, 10s));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(remote->calls("fetch_mime"), 33u);
  EXPECT_EQ(engine.prefetched("acct"), 33u);
  engine.stop();
}

TEST(SyncEngine, NeedsSignInPausesTheAccountAndRestartResumesIt) {
  TempStore db;
  auto remote = std::make_shared<mail::FakeRemoteMailbox>();
  remote->fail_next("list_folders", mail::make_mail_error(mail::ErrorCode::needs_sign_in, "revoked"), 1);
  SyncEngine engine(db.store(), options(200ms, 100ms));
  ASSERT_TRUE(engine.open().ok());
  auto mailbox = engine.start_account("acct", remote);
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(remote->calls("list_folders"), 1u);  // paused: no retries against a revoked token
  EXPECT_FALSE(mailbox->folder_status("INBOX").ok());
  mailbox = engine.start_account("acct", remote);  // signed in again
  EXPECT_TRUE(eventually([&] { return mailbox->folder_status("INBOX").ok(); }));
  engine.stop_account("acct");
  EXPECT_EQ(engine.mailbox("acct"), nullptr);
}

TEST(SyncEngine, ARemovedAccountIsNotWrittenAgain) {
  TempStore db;
  auto remote = std::make_shared<mail::FakeRemoteMailbox>();
  std::atomic<bool> exists{true};
  auto o = options(100ms, 100ms);
  o.account_exists = [&](const std::string&) { return exists.load(); };
  SyncEngine engine(db.store(), o);
  ASSERT_TRUE(engine.open().ok());
  auto mailbox = engine.start_account("acct", remote);
  ASSERT_TRUE(eventually([&] { return mailbox->folder_status("INBOX").ok(); }));
  exists = false;
  std::this_thread::sleep_for(300ms);
  remote->reset_calls();
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(remote->calls(), 0u);
}

}  // namespace
}  // namespace mailtrixy::sync
