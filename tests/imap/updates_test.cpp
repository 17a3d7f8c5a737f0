#include <gtest/gtest.h>

#include <thread>

#include "harness.hpp"

namespace mailtrixy::imap {
namespace {

using testing::Harness;
using testing::last_line;
using testing::lines;

// Two sessions on one mailbox: `a` watches, `b` (or the test, "from Outlook") changes things.
struct ImapSessionUpdates : ::testing::Test {
  ImapSessionUpdates() : b(a.backend) {
    a.login();
    b.login();
    a.fill(3);
    a.select();
    b.select();
  }
  Harness a;
  Harness b;
};

TEST_F(ImapSessionUpdates, ExpungeByAnotherSessionWaitsForNoop) {
  ASSERT_EQ(last_line(b.send("1 STORE 2 +FLAGS.SILENT (\\Deleted)\r\n")), "1 OK STORE completed");
  ASSERT_EQ(b.send("2 EXPUNGE\r\n"), "* 2 EXPUNGE\r\n2 OK EXPUNGE completed\r\n");
  EXPECT_GT(a.wakes.load(), 0);
  // Not during FETCH, STORE, SEARCH (sequence numbers must stay put), nor UID FETCH.
  // The \Deleted flag change may be told (after the data); the expunge may not.
  EXPECT_EQ(a.send("f FETCH 1:3 UID\r\n"),
            "* 1 FETCH (UID 1)\r\n* 3 FETCH (UID 3)\r\n* 2 FETCH (UID 2 FLAGS (\\Deleted))\r\nf OK FETCH completed\r\n");
  EXPECT_EQ(a.send("g SEARCH ALL\r\n"), "* SEARCH 1 3\r\ng OK SEARCH completed\r\n");
  EXPECT_EQ(a.send("h STORE 3 +FLAGS (\\Flagged)\r\n"), "* 3 FETCH (FLAGS (\\Flagged))\r\nh OK STORE completed\r\n");
  EXPECT_EQ(a.send("i UID FETCH 1:* UID\r\n"), "* 1 FETCH (UID 1)\r\n* 3 FETCH (UID 3)\r\ni OK UID FETCH completed\r\n");
  EXPECT_EQ(a.send("j STATUS INBOX (MESSAGES)\r\n"), "* STATUS INBOX (MESSAGES 2)\r\nj OK STATUS completed\r\n");
  // NOOP is the safe point.
  EXPECT_EQ(a.send("k NOOP\r\n"), "* 2 EXPUNGE\r\nk OK NOOP completed\r\n");
  EXPECT_EQ(a.send("l FETCH 1:* UID\r\n"), "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 3)\r\nl OK FETCH completed\r\n");
}

TEST_F(ImapSessionUpdates, CheckAndOwnExpungeAreSafePointsToo) {
  ASSERT_TRUE(a.backend->remove_outside("INBOX", mail::Uid{1}).ok());
  EXPECT_EQ(a.send("c CHECK\r\n"), "* 1 EXPUNGE\r\nc OK CHECK completed\r\n");
  ASSERT_TRUE(a.backend->remove_outside("INBOX", mail::Uid{3}).ok());
  EXPECT_EQ(a.send("e EXPUNGE\r\n"), "* 2 EXPUNGE\r\ne OK EXPUNGE completed\r\n");
}

TEST_F(ImapSessionUpdates, NewMailIsAnnouncedAfterTheCommandsData) {
  int before = a.wakes.load();
  (void)a.backend->deliver("INBOX", testing::simple_message("Fresh"));
  EXPECT_GT(a.wakes.load(), before);
  EXPECT_EQ(a.send("f FETCH 1 UID\r\n"), "* 1 FETCH (UID 1)\r\n* 4 EXISTS\r\nf OK FETCH completed\r\n");
  EXPECT_EQ(a.send("g FETCH 4 UID\r\n"), "* 4 FETCH (UID 4)\r\ng OK FETCH completed\r\n");
}

TEST_F(ImapSessionUpdates, FlagChangesFromElsewhereAreReported) {
  mail::Flags flags;
  flags.set(mail::SystemFlag::seen);
  ASSERT_TRUE(a.backend->set_flags_outside("INBOX", mail::Uid{2}, flags).ok());
  EXPECT_EQ(a.send("n NOOP\r\n"), "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\nn OK NOOP completed\r\n");
  // By another session's STORE.
  ASSERT_EQ(last_line(b.send("s STORE 1 +FLAGS (\\Flagged)\r\n")), "s OK STORE completed");
  EXPECT_EQ(a.send("o NOOP\r\n"), "* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\no OK NOOP completed\r\n");
  EXPECT_EQ(a.send("p NOOP\r\n"), "p OK NOOP completed\r\n");
}

TEST_F(ImapSessionUpdates, DeferredExpungeThenNewMailKeepsNumbersRight) {
  ASSERT_TRUE(a.backend->remove_outside("INBOX", mail::Uid{2}).ok());
  (void)a.backend->deliver("INBOX", testing::simple_message("Fresh"));
  // EXISTS counts the not-yet-expunged message: 3 old + 1 new.
  EXPECT_EQ(a.send("f FETCH 1 UID\r\n"), "* 1 FETCH (UID 1)\r\n* 4 EXISTS\r\nf OK FETCH completed\r\n");
  EXPECT_EQ(a.send("g FETCH 4 UID\r\n"), "* 4 FETCH (UID 4)\r\ng OK FETCH completed\r\n");
  EXPECT_EQ(a.send("n NOOP\r\n"), "* 2 EXPUNGE\r\nn OK NOOP completed\r\n");
  EXPECT_EQ(a.send("h FETCH 1:* UID\r\n"),
            "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 3)\r\n* 3 FETCH (UID 4)\r\nh OK FETCH completed\r\n");
}

TEST_F(ImapSessionUpdates, MailAddedAndRemovedBeforeDeliveryIsNeverAnnounced) {
  auto uid = a.backend->deliver("INBOX", testing::simple_message("Blink"));
  ASSERT_TRUE(uid.ok());
  ASSERT_TRUE(a.backend->remove_outside("INBOX", *uid).ok());
  EXPECT_EQ(a.send("n NOOP\r\n"), "n OK NOOP completed\r\n");
  EXPECT_EQ(a.send("f FETCH 1:* UID\r\n"),
            "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\nf OK FETCH completed\r\n");
}

TEST_F(ImapSessionUpdates, ExpungeAfterExistsInOneDelivery) {
  (void)a.backend->deliver("INBOX", testing::simple_message("Fresh"));
  ASSERT_TRUE(a.backend->remove_outside("INBOX", mail::Uid{1}).ok());
  EXPECT_EQ(a.send("n NOOP\r\n"), "* 4 EXISTS\r\n* 1 EXPUNGE\r\nn OK NOOP completed\r\n");
}

TEST_F(ImapSessionUpdates, IdleDeliversViaWake) {
  (void)a.backend->deliver("INBOX", testing::simple_message("Before idle"));
  EXPECT_EQ(a.send("i IDLE\r\n"), "+ idling\r\n* 4 EXISTS\r\n");
  EXPECT_GE(a.backend->refresh_requests("INBOX"), 1U);
  EXPECT_EQ(a.wake_up(), "");
  int before = a.wakes.load();
  (void)a.backend->deliver("INBOX", testing::simple_message("During idle"));
  EXPECT_GT(a.wakes.load(), before);
  EXPECT_EQ(a.wake_up(), "* 5 EXISTS\r\n");
  ASSERT_EQ(last_line(b.send("s STORE 1 +FLAGS.SILENT (\\Deleted)\r\n")), "s OK STORE completed");
  EXPECT_EQ(a.wake_up(), "* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\n");
  ASSERT_EQ(last_line(b.send("x EXPUNGE\r\n")), "x OK EXPUNGE completed");
  EXPECT_EQ(a.wake_up(), "* 1 EXPUNGE\r\n");
  EXPECT_EQ(a.send("DONE\r\n"), "i OK IDLE terminated\r\n");
  EXPECT_EQ(a.wake_up(), "");
}

TEST_F(ImapSessionUpdates, IdleDoneWithPipelinedCommand) {
  EXPECT_EQ(a.send("i IDLE\r\n"), "+ idling\r\n");
  EXPECT_EQ(a.send("done\r\nn NOOP\r\n"), "i OK IDLE terminated\r\nn OK NOOP completed\r\n");
  EXPECT_EQ(a.send("j IDLE\r\nDONE\r\n"), "+ idling\r\nj OK IDLE terminated\r\n");
  EXPECT_EQ(a.send("k IDLE\r\n"), "+ idling\r\n");
  EXPECT_EQ(a.send("k2 NOOP\r\n"), "k BAD IDLE ends with DONE; the line sent instead was ignored.\r\n");
  EXPECT_EQ(a.send("m NOOP\r\n"), "m OK NOOP completed\r\n");
}

TEST_F(ImapSessionUpdates, IdleWithoutSelectedFolder) {
  Harness c(a.backend);
  c.login();
  EXPECT_EQ(c.send("i IDLE\r\n"), "+ idling\r\n");
  EXPECT_EQ(c.wake_up(), "");
  EXPECT_EQ(c.send("DONE\r\n"), "i OK IDLE terminated\r\n");
}

TEST_F(ImapSessionUpdates, SelectedFolderDeletedElsewhereEndsTheSession) {
  ASSERT_TRUE(a.backend->create_folder("Temp").ok());
  a.select("Temp");
  ASSERT_EQ(b.send("d DELETE Temp\r\n"), "d OK DELETE completed\r\n");
  auto out = a.send("n NOOP\r\n");
  EXPECT_EQ(out, "* BYE The selected folder was deleted or renamed elsewhere; please reconnect.\r\n");
  EXPECT_EQ(a.action, SessionAction::close);
}

TEST_F(ImapSessionUpdates, RenameOfOwnSelectedFolderFollowsIt) {
  ASSERT_TRUE(a.backend->create_folder("Temp").ok());
  (void)a.backend->deliver("Temp", testing::simple_message("In temp"));
  a.select("Temp");
  EXPECT_EQ(a.send("r RENAME Temp Kept\r\n"), "r OK RENAME completed\r\n");
  EXPECT_EQ(a.send("n NOOP\r\n"), "n OK NOOP completed\r\n");
  (void)a.backend->deliver("Kept", testing::simple_message("After rename"));
  EXPECT_EQ(a.send("m NOOP\r\n"), "* 2 EXISTS\r\nm OK NOOP completed\r\n");
  EXPECT_EQ(a.send("f FETCH 2 UID\r\n"), "* 2 FETCH (UID 2)\r\nf OK FETCH completed\r\n");
}

TEST_F(ImapSessionUpdates, OwnDeleteOfSelectedFolderDeselects) {
  ASSERT_TRUE(a.backend->create_folder("Temp").ok());
  a.select("Temp");
  EXPECT_EQ(a.send("d DELETE Temp\r\n"), "d OK DELETE completed\r\n");
  EXPECT_TRUE(a.send("f FETCH 1 UID\r\n").starts_with("f BAD No folder is selected"));
  EXPECT_EQ(a.action, SessionAction::keep_going);
}

TEST_F(ImapSessionUpdates, ReselectResetsTheView) {
  ASSERT_TRUE(a.backend->remove_outside("INBOX", mail::Uid{1}).ok());
  auto out = a.select();
  EXPECT_NE(out.find("* 2 EXISTS"), std::string::npos);
  EXPECT_EQ(out.find("EXPUNGE"), std::string::npos);
  EXPECT_EQ(a.send("n NOOP\r\n"), "n OK NOOP completed\r\n");
}

TEST_F(ImapSessionUpdates, ChangesFromOtherThreads) {
  EXPECT_EQ(a.send("i IDLE\r\n"), "+ idling\r\n");
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) (void)a.backend->deliver("INBOX", testing::simple_message("Threaded"));
  });
  std::string collected;
  for (int i = 0; i < 200 && collected.find("* 53 EXISTS") == std::string::npos; ++i) {
    collected += a.wake_up();
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  writer.join();
  collected += a.wake_up();
  EXPECT_NE(collected.find("* 53 EXISTS"), std::string::npos) << collected;
  EXPECT_EQ(a.send("DONE\r\n"), "i OK IDLE terminated\r\n");
  EXPECT_EQ(a.send("f FETCH 53 UID\r\n"), "* 53 FETCH (UID 53)\r\nf OK FETCH completed\r\n");
}

}  // namespace
}  // namespace mailtrixy::imap
