#include <gtest/gtest.h>

#include "harness.hpp"

namespace mailtrixy::imap {
namespace {

using testing::Harness;
using testing::last_line;
using testing::lines;

std::string append_command(std::string_view tag, std::string_view rest, const std::string& message) {
  return std::string(tag) + " APPEND " + std::string(rest) + " {" + std::to_string(message.size()) + "+}\r\n" + message +
         "\r\n";
}

TEST(ImapSessionMessages, StoreVariants) {
  Harness h;
  h.login();
  h.fill(3);
  h.select();
  EXPECT_EQ(h.send("a STORE 1:2 +FLAGS (\\Seen \\Flagged)\r\n"),
            "* 1 FETCH (FLAGS (\\Seen \\Flagged))\r\n* 2 FETCH (FLAGS (\\Seen \\Flagged))\r\na OK STORE completed\r\n");
  EXPECT_EQ(h.send("b STORE 2 -FLAGS (\\Flagged)\r\n"), "* 2 FETCH (FLAGS (\\Seen))\r\nb OK STORE completed\r\n");
  EXPECT_EQ(h.send("c STORE 3 FLAGS (\\Answered Work $Forwarded)\r\n"),
            "* 3 FETCH (FLAGS (\\Answered $Forwarded Work))\r\nc OK STORE completed\r\n");
  EXPECT_EQ(h.send("d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n"), "d OK STORE completed\r\n");
  EXPECT_EQ(h.send("e UID STORE 2:3 +FLAGS (\\Flagged)\r\n"),
            "* 2 FETCH (UID 2 FLAGS (\\Seen \\Flagged))\r\n* 3 FETCH (UID 3 FLAGS (\\Answered \\Flagged $Forwarded Work))\r\n"
            "e OK UID STORE completed\r\n");
  EXPECT_EQ(h.send("f UID STORE 99 +FLAGS (\\Seen)\r\n"), "f OK UID STORE completed\r\n");
  EXPECT_EQ(h.send("g FETCH 1 FLAGS\r\n"), "* 1 FETCH (FLAGS (\\Seen \\Flagged \\Deleted))\r\ng OK FETCH completed\r\n");
  // Our own STORE is not echoed again as an unsolicited FETCH.
  EXPECT_EQ(h.send("h NOOP\r\n"), "h OK NOOP completed\r\n");
}

TEST(ImapSessionMessages, StoreErrors) {
  Harness h;
  h.login();
  h.fill(2);
  h.select();
  EXPECT_TRUE(h.send("a STORE 3 +FLAGS (\\Seen)\r\n").starts_with("a BAD Invalid message sequence number 3"));
  EXPECT_TRUE(h.send("b STORE 1 +FLAGS (\\Bogus)\r\n").starts_with("b BAD Unknown system flag"));
  EXPECT_EQ(h.send("c STORE 1 +FLAGS (\\Recent)\r\n"), "* 1 FETCH (FLAGS ())\r\nc OK STORE completed\r\n");
  h.backend->fail_next("store_flags", mail::make_mail_error(mail::ErrorCode::unavailable, "Throttled."));
  EXPECT_EQ(h.send("d STORE 1 +FLAGS (\\Seen)\r\n"), "d NO [UNAVAILABLE] Throttled.\r\n");
  // \Draft cannot be changed on Graph: the answer shows the real state.
  EXPECT_EQ(h.send("e STORE 1 +FLAGS (\\Draft)\r\n"), "* 1 FETCH (FLAGS ())\r\ne OK STORE completed\r\n");
}

TEST(ImapSessionMessages, CopyWithCopyUid) {
  Harness h;
  h.login();
  h.fill(4);
  h.select();
  EXPECT_EQ(h.send("a COPY 1:2,4 Archive\r\n"), "a OK [COPYUID 6 1:2,4 1:3] COPY completed\r\n");
  EXPECT_EQ(h.send("b UID COPY 3 Archive\r\n"), "b OK [COPYUID 6 3 4] UID COPY completed\r\n");
  EXPECT_EQ(h.send("c UID COPY 50:60 Archive\r\n"), "c OK UID COPY completed\r\n");
  EXPECT_EQ(h.send("d COPY 1 Nowhere\r\n").substr(0, 16), "d NO [TRYCREATE]");
  EXPECT_TRUE(h.send("e COPY 9 Archive\r\n").starts_with("e BAD "));
  EXPECT_EQ(h.backend->folder_status("Archive")->messages, 4U);
  EXPECT_EQ(h.backend->folder_status("INBOX")->messages, 4U);
}

TEST(ImapSessionMessages, MoveSendsCopyUidBeforeExpunges) {
  Harness h;
  h.login();
  h.fill(5);
  h.select();
  EXPECT_EQ(h.send("a MOVE 2,4 Archive\r\n"),
            "* OK [COPYUID 6 2,4 1:2] Moved\r\n* 2 EXPUNGE\r\n* 3 EXPUNGE\r\na OK MOVE completed\r\n");
  EXPECT_EQ(h.send("b UID MOVE 5 Archive\r\n"), "* OK [COPYUID 6 5 3] Moved\r\n* 3 EXPUNGE\r\nb OK UID MOVE completed\r\n");
  EXPECT_EQ(h.send("c FETCH 1:* UID\r\n"), "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 3)\r\nc OK FETCH completed\r\n");
  EXPECT_TRUE(h.send("d MOVE 1 Nowhere\r\n").starts_with("d NO [TRYCREATE] "));
  // The moved messages' expunge events are not announced twice.
  EXPECT_EQ(h.send("e NOOP\r\n"), "e OK NOOP completed\r\n");
}

TEST(ImapSessionMessages, ExpungeAndUidExpunge) {
  Harness h;
  h.login();
  h.fill(5);
  h.select();
  ASSERT_EQ(last_line(h.send("a STORE 2,3,5 +FLAGS.SILENT (\\Deleted)\r\n")), "a OK STORE completed");
  EXPECT_EQ(h.send("b UID EXPUNGE 3:5\r\n"), "* 3 EXPUNGE\r\n* 4 EXPUNGE\r\nb OK UID EXPUNGE completed\r\n");
  EXPECT_EQ(h.send("c EXPUNGE\r\n"), "* 2 EXPUNGE\r\nc OK EXPUNGE completed\r\n");
  EXPECT_EQ(h.send("d FETCH 1:* (UID)\r\n"), "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 4)\r\nd OK FETCH completed\r\n");
  // Outside Deleted Items, expunged mail lands there.
  EXPECT_EQ(h.backend->folder_status("Deleted Items")->messages, 3U);
  EXPECT_EQ(h.send("e UID EXPUNGE 100\r\n"), "e OK UID EXPUNGE completed\r\n");
}

TEST(ImapSessionMessages, CloseExpungesSilentlyUnselectDoesNot) {
  Harness h;
  h.login();
  h.fill(3);
  h.select();
  ASSERT_EQ(last_line(h.send("a STORE 1 +FLAGS.SILENT (\\Deleted)\r\n")), "a OK STORE completed");
  EXPECT_EQ(h.send("b UNSELECT\r\n"), "b OK UNSELECT completed\r\n");
  EXPECT_EQ(h.backend->folder_status("INBOX")->messages, 3U);
  h.select();
  EXPECT_EQ(h.send("c CLOSE\r\n"), "c OK CLOSE completed\r\n");
  EXPECT_EQ(h.backend->folder_status("INBOX")->messages, 2U);
  EXPECT_TRUE(h.send("d FETCH 1 FLAGS\r\n").starts_with("d BAD No folder is selected"));
  EXPECT_FALSE(h.backend->is_watched("INBOX"));
}

TEST(ImapSessionMessages, AppendWithAppendUid) {
  Harness h;
  h.login();
  auto message = testing::simple_message("Appended");
  EXPECT_EQ(h.send(append_command("a", "INBOX (\\Seen) \"05-Jan-2026 10:00:00 +0100\"", message)),
            "a OK [APPENDUID 1 1] APPEND completed\r\n");
  auto meta = h.backend->list_messages("INBOX", mail::UidRange::all());
  ASSERT_EQ(meta->size(), 1U);
  EXPECT_TRUE(meta->front().flags.has(mail::SystemFlag::seen));
  EXPECT_FALSE(meta->front().flags.has(mail::SystemFlag::draft));
  EXPECT_EQ(meta->front().internal_date,
            std::chrono::sys_days{std::chrono::year{2026} / 1 / 5} + std::chrono::hours{9});
  EXPECT_EQ(*h.backend->fetch_mime("INBOX", mail::Uid{1}), message);
  // Synchronising literal.
  EXPECT_EQ(h.send("b APPEND Drafts (\\Draft) {" + std::to_string(message.size()) + "}\r\n"),
            "+ Ready for literal data\r\n");
  EXPECT_EQ(h.send(message + "\r\n"), "b OK [APPENDUID 2 1] APPEND completed\r\n");
  EXPECT_TRUE(h.backend->list_messages("Drafts", mail::UidRange::all())->front().flags.has(mail::SystemFlag::draft));
  EXPECT_TRUE(h.send(append_command("c", "Nowhere", message)).starts_with("c NO [TRYCREATE] "));
  EXPECT_TRUE(h.send(append_command("d", "INBOX", "not a message")).starts_with("d NO [CANNOT] "));
  EXPECT_TRUE(h.send(append_command("e", "INBOX (\\Bogus)", message)).starts_with("e BAD "));
}

TEST(ImapSessionMessages, AppendToSelectedFolderAnnouncesExists) {
  Harness h;
  h.login();
  h.fill(1);
  h.select();
  EXPECT_EQ(h.send(append_command("a", "INBOX", testing::simple_message("New"))),
            "* 2 EXISTS\r\na OK [APPENDUID 1 2] APPEND completed\r\n");
}

}  // namespace
}  // namespace mailtrixy::imap
