#include <gtest/gtest.h>

#include <algorithm>

#include "harness.hpp"

namespace mailtrixy::imap {
namespace {

using testing::Harness;
using testing::last_line;
using testing::lines;

mail::Flags seen() {
  mail::Flags flags;
  flags.set(mail::SystemFlag::seen);
  return flags;
}

TEST(ImapSessionFolders, SelectAnswersEverythingClientsNeed) {
  Harness h;
  h.login();
  (void)h.backend->deliver("INBOX", testing::simple_message("One"), seen());
  (void)h.backend->deliver("INBOX", testing::simple_message("Two"));
  (void)h.backend->deliver("INBOX", testing::simple_message("Three"));
  EXPECT_EQ(h.send("S1 SELECT INBOX\r\n"),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen $Forwarded \\*)] Flags permitted.\r\n"
            "* 3 EXISTS\r\n"
            "* 0 RECENT\r\n"
            "* OK [UNSEEN 2] First unseen.\r\n"
            "* OK [UIDVALIDITY 1] UIDs valid.\r\n"
            "* OK [UIDNEXT 4] Predicted next UID.\r\n"
            "S1 OK [READ-WRITE] SELECT completed\r\n");
  EXPECT_TRUE(h.backend->is_watched("INBOX"));
}

TEST(ImapSessionFolders, SelectOfEmptyFolderAndKeywordsInFlags) {
  Harness h;
  h.login();
  mail::Flags work;
  work.add_keyword("Work");
  (void)h.backend->deliver("Archive", testing::simple_message("One"), work.set(mail::SystemFlag::seen));
  auto out = h.send("a SELECT Archive\r\n");
  EXPECT_NE(out.find("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded Work)\r\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("[PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen $Forwarded Work \\*)]"), std::string::npos);
  EXPECT_EQ(out.find("UNSEEN"), std::string::npos);
  auto empty = h.send("b SELECT Drafts\r\n");
  EXPECT_NE(empty.find("* 0 EXISTS\r\n"), std::string::npos);
  EXPECT_NE(empty.find("* OK [UIDNEXT 1] "), std::string::npos);
  EXPECT_FALSE(h.backend->is_watched("Archive"));
  EXPECT_TRUE(h.backend->is_watched("Drafts"));
}

TEST(ImapSessionFolders, ExamineIsReadOnly) {
  Harness h;
  h.login();
  h.fill(2);
  auto out = h.send("e EXAMINE inbox\r\n");
  EXPECT_NE(out.find("* OK [PERMANENTFLAGS ()] "), std::string::npos);
  EXPECT_EQ(last_line(out), "e OK [READ-ONLY] EXAMINE completed");
  EXPECT_TRUE(h.send("s STORE 1 +FLAGS (\\Seen)\r\n").starts_with("s NO "));
  EXPECT_TRUE(h.send("x EXPUNGE\r\n").starts_with("x NO "));
  EXPECT_TRUE(h.send("m MOVE 1 Archive\r\n").starts_with("m NO "));
  EXPECT_TRUE(last_line(h.send("a APPEND INBOX {" + std::to_string(testing::simple_message("x").size()) + "+}\r\n" +
                               testing::simple_message("x") + "\r\n"))
                  .starts_with("a NO "));
  // APPEND to another folder is fine, and BODY[] does not set \Seen in a read-only folder.
  EXPECT_TRUE(last_line(h.send("b APPEND Archive {" + std::to_string(testing::simple_message("x").size()) + "+}\r\n" +
                               testing::simple_message("x") + "\r\n"))
                  .starts_with("b OK [APPENDUID 6 1]"));
  auto fetched = h.send("f FETCH 1 (BODY[])\r\n");
  EXPECT_EQ(fetched.find("FLAGS"), std::string::npos);
  EXPECT_EQ(h.send("g FETCH 1 FLAGS\r\n"), "* 1 FETCH (FLAGS ())\r\ng OK FETCH completed\r\n");
  // CLOSE on a read-only folder does not expunge.
  EXPECT_EQ(h.send("c CLOSE\r\n"), "c OK CLOSE completed\r\n");
}

TEST(ImapSessionFolders, SelectErrors) {
  Harness h;
  h.login();
  EXPECT_TRUE(h.send("a SELECT Nowhere\r\n").starts_with("a NO [NONEXISTENT] "));
  EXPECT_TRUE(h.send("b SELECT INBOX (CONDSTORE)\r\n").starts_with("b BAD "));
  EXPECT_TRUE(h.send("c SELECT \"&Jjo\"\r\n").starts_with("c BAD "));
  // A failed SELECT leaves the session unselected.
  h.select();
  EXPECT_TRUE(h.send("d SELECT Nowhere\r\n").starts_with("d NO "));
  EXPECT_TRUE(h.send("e FETCH 1 FLAGS\r\n").starts_with("e BAD No folder is selected"));
  EXPECT_FALSE(h.backend->is_watched("INBOX"));
}

TEST(ImapSessionFolders, ListAllWithSpecialUseAndChildren) {
  Harness h;
  h.login();
  ASSERT_TRUE(h.backend->create_folder("Projects/Q1").ok());
  EXPECT_EQ(h.send("a LIST \"\" *\r\n"),
            "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
            "* LIST (\\HasNoChildren \\Archive) \"/\" Archive\r\n"
            "* LIST (\\HasNoChildren \\Trash) \"/\" \"Deleted Items\"\r\n"
            "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n"
            "* LIST (\\HasNoChildren \\Junk) \"/\" \"Junk Email\"\r\n"
            "* LIST (\\HasChildren) \"/\" Projects\r\n"
            "* LIST (\\HasNoChildren) \"/\" Projects/Q1\r\n"
            "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n"
            "a OK LIST completed\r\n");
}

TEST(ImapSessionFolders, XlistMarksInboxAndSpecialFoldersForOutlook) {
  Harness h;
  h.login();
  EXPECT_EQ(h.send("x XLIST \"\" %\r\n"),
            "* XLIST (\\HasNoChildren \\Inbox) \"/\" INBOX\r\n"
            "* XLIST (\\HasNoChildren \\Archive) \"/\" Archive\r\n"
            "* XLIST (\\HasNoChildren \\Trash) \"/\" \"Deleted Items\"\r\n"
            "* XLIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n"
            "* XLIST (\\HasNoChildren \\Junk) \"/\" \"Junk Email\"\r\n"
            "* XLIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n"
            "x OK XLIST completed\r\n");
  EXPECT_EQ(h.send("y XLIST \"\" \"\"\r\n"), "* XLIST (\\Noselect) \"/\" \"\"\r\ny OK XLIST completed\r\n");
}

TEST(ImapSessionFolders, ListPatternsAndRoot) {
  Harness h;
  h.login();
  ASSERT_TRUE(h.backend->create_folder("Projects/Q1/Deep").ok());
  EXPECT_EQ(h.send("a LIST \"\" \"\"\r\n"), "* LIST (\\Noselect) \"/\" \"\"\r\na OK LIST completed\r\n");
  auto top = lines(h.send("b LIST \"\" %\r\n"));
  EXPECT_EQ(top.size(), 8U);  // 7 top-level folders + OK
  EXPECT_EQ(h.send("c LIST Projects/ %\r\n"), "* LIST (\\HasChildren) \"/\" Projects/Q1\r\nc OK LIST completed\r\n");
  EXPECT_EQ(h.send("d LIST \"\" inbox\r\n"), "* LIST (\\HasNoChildren) \"/\" INBOX\r\nd OK LIST completed\r\n");
  EXPECT_EQ(h.send("e LIST \"\" Nothing*\r\n"), "e OK LIST completed\r\n");
}

TEST(ImapSessionFolders, ListExtendedSelectionAndReturnOptions) {
  Harness h;
  h.login();
  // Nothing subscribed yet: every folder counts as subscribed.
  auto subscribed = h.send("a LIST (SUBSCRIBED) \"\" * RETURN (SPECIAL-USE)\r\n");
  EXPECT_NE(subscribed.find("* LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX\r\n"), std::string::npos) << subscribed;
  EXPECT_NE(subscribed.find("* LIST (\\HasNoChildren \\Sent \\Subscribed) \"/\" \"Sent Items\"\r\n"), std::string::npos);
  EXPECT_EQ(lines(subscribed).size(), 7U);
  // SPECIAL-USE selection: only the special folders.
  auto special = h.send("b LIST (SPECIAL-USE) \"\" *\r\n");
  EXPECT_EQ(lines(special).size(), 6U);
  EXPECT_EQ(special.find("INBOX"), std::string::npos);
  // RETURN (STATUS ...) puts a STATUS line after each LIST line.
  (void)h.backend->deliver("INBOX", testing::simple_message("One"));
  EXPECT_EQ(h.send("c LIST \"\" INBOX RETURN (CHILDREN STATUS (MESSAGES UNSEEN UIDVALIDITY))\r\n"),
            "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
            "* STATUS INBOX (MESSAGES 1 UNSEEN 1 UIDVALIDITY 1)\r\n"
            "c OK LIST completed\r\n");
  // Multiple patterns.
  EXPECT_EQ(lines(h.send("d LIST \"\" (INBOX Drafts)\r\n")).size(), 3U);
}

TEST(ImapSessionFolders, SubscribeUnsubscribeAndLsub) {
  Harness h;
  h.login();
  // Default: everything subscribed.
  auto all = h.send("a LSUB \"\" *\r\n");
  EXPECT_EQ(lines(all).size(), 7U);
  EXPECT_NE(all.find("* LSUB (\\Trash) \"/\" \"Deleted Items\"\r\n"), std::string::npos) << all;
  EXPECT_EQ(h.send("b UNSUBSCRIBE \"Junk Email\"\r\n"), "b OK UNSUBSCRIBE completed\r\n");
  auto after = h.send("c LSUB \"\" *\r\n");
  EXPECT_EQ(lines(after).size(), 6U);
  EXPECT_EQ(after.find("Junk"), std::string::npos);
  auto listed = h.send("d LIST \"\" * RETURN (SUBSCRIBED)\r\n");
  EXPECT_NE(listed.find("* LIST (\\HasNoChildren \\Junk) \"/\" \"Junk Email\"\r\n"), std::string::npos) << listed;
  EXPECT_NE(listed.find("* LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX\r\n"), std::string::npos);
  // Subscribing to a name that does not exist is allowed and shows as \NonExistent.
  EXPECT_EQ(h.send("e SUBSCRIBE Ghost\r\n"), "e OK SUBSCRIBE completed\r\n");
  EXPECT_NE(h.send("f LIST (SUBSCRIBED) \"\" G*\r\n").find("* LIST (\\NonExistent \\Subscribed) \"/\" Ghost\r\n"),
            std::string::npos);
  EXPECT_NE(h.send("g LSUB \"\" Ghost\r\n").find("* LSUB () \"/\" Ghost\r\n"), std::string::npos);
}

TEST(ImapSessionFolders, LsubListsUnsubscribedParentAsNoselect) {
  Harness h;
  h.login();
  ASSERT_TRUE(h.backend->create_folder("Projects/Q1").ok());
  ASSERT_EQ(h.send("a SUBSCRIBE Projects/Q1\r\n"), "a OK SUBSCRIBE completed\r\n");
  ASSERT_EQ(h.send("b UNSUBSCRIBE Projects\r\n"), "b OK UNSUBSCRIBE completed\r\n");
  EXPECT_EQ(h.send("c LSUB \"\" Projects\r\n"), "c OK LSUB completed\r\n");
  auto top = h.send("e LSUB \"\" %\r\n");
  EXPECT_NE(top.find("* LSUB (\\Noselect) \"/\" Projects\r\n"), std::string::npos) << top;
  auto recursive = h.send("f LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\n");
  EXPECT_NE(recursive.find("\"/\" Projects (\"CHILDINFO\" (\"SUBSCRIBED\"))"), std::string::npos) << recursive;
}

TEST(ImapSessionFolders, CreateDeleteRename) {
  Harness h;
  h.login();
  EXPECT_EQ(h.send("a CREATE Work/2026/\r\n"), "a OK CREATE completed\r\n");
  EXPECT_NE(h.send("b LIST \"\" Work*\r\n").find("\"/\" Work/2026\r\n"), std::string::npos);
  EXPECT_TRUE(h.send("c CREATE Work\r\n").starts_with("c NO [ALREADYEXISTS] "));
  EXPECT_TRUE(h.send("d CREATE inbox\r\n").starts_with("d NO [ALREADYEXISTS] "));
  EXPECT_TRUE(h.send("e CREATE \"a//b\"\r\n").starts_with("e BAD "));
  EXPECT_EQ(h.send("f RENAME Work Job\r\n"), "f OK RENAME completed\r\n");
  auto listed = h.send("g LIST \"\" *\r\n");
  EXPECT_NE(listed.find("\"/\" Job/2026\r\n"), std::string::npos);
  EXPECT_EQ(listed.find("Work"), std::string::npos);
  EXPECT_TRUE(h.send("h RENAME Nowhere Else\r\n").starts_with("h NO [NONEXISTENT] "));
  EXPECT_TRUE(h.send("i RENAME \"Sent Items\" Sent\r\n").starts_with("i NO [NOPERM] "));
  EXPECT_TRUE(h.send("j RENAME INBOX Old\r\n").starts_with("j NO [CANNOT] "));
  EXPECT_TRUE(h.send("k RENAME Job Drafts\r\n").starts_with("k NO [ALREADYEXISTS] "));
  EXPECT_EQ(h.send("l DELETE Job\r\n"), "l OK DELETE completed\r\n");
  EXPECT_TRUE(h.send("m DELETE Job\r\n").starts_with("m NO [NONEXISTENT] "));
  EXPECT_TRUE(h.send("n DELETE INBOX\r\n").starts_with("n NO [NOPERM] "));
  EXPECT_TRUE(h.send("o DELETE Archive\r\n").starts_with("o NO [NOPERM] "));
}

TEST(ImapSessionFolders, ModifiedUtf7Names) {
  Harness h;
  h.login();
  // "Entwürfe" and "台北" (RFC 3501's example).
  EXPECT_EQ(h.send("a CREATE \"Entw&APw-rfe\"\r\n"), "a OK CREATE completed\r\n");
  EXPECT_EQ(h.send("b CREATE &U,BTFw-\r\n"), "b OK CREATE completed\r\n");
  auto listed = h.send("c LIST \"\" *\r\n");
  EXPECT_NE(listed.find("\"/\" Entw&APw-rfe\r\n"), std::string::npos) << listed;
  EXPECT_NE(listed.find("\"/\" &U,BTFw-\r\n"), std::string::npos);
  EXPECT_EQ(h.backend->folder_status("Entwürfe").ok(), true);
  EXPECT_EQ(h.backend->folder_status("台北").ok(), true);
  EXPECT_TRUE(h.send("d SELECT \"Entw&APw-rfe\"\r\n").ends_with("d OK [READ-WRITE] SELECT completed\r\n"));
  EXPECT_TRUE(h.send("e CREATE \"Bad&name\"\r\n").starts_with("e BAD "));
}

TEST(ImapSessionFolders, Status) {
  Harness h;
  h.login();
  (void)h.backend->deliver("INBOX", testing::simple_message("One"), seen());
  (void)h.backend->deliver("INBOX", testing::simple_message("Two"));
  EXPECT_EQ(h.send("a STATUS inbox (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)\r\n"),
            "* STATUS INBOX (MESSAGES 2 RECENT 0 UIDNEXT 3 UIDVALIDITY 1 UNSEEN 1)\r\na OK STATUS completed\r\n");
  auto size = h.send("b STATUS INBOX (SIZE DELETED)\r\n");
  EXPECT_TRUE(size.starts_with("* STATUS INBOX (SIZE ")) << size;
  EXPECT_NE(size.find(" DELETED 0)"), std::string::npos);
  EXPECT_TRUE(h.send("c STATUS Nowhere (MESSAGES)\r\n").starts_with("c NO [NONEXISTENT] "));
}

TEST(ImapSessionFolders, BackendErrorsAreTranslated) {
  Harness h;
  h.login();
  h.backend->fail_next("list_folders", mail::make_mail_error(mail::ErrorCode::unavailable, "Microsoft is busy."));
  EXPECT_EQ(h.send("a LIST \"\" *\r\n"), "a NO [UNAVAILABLE] Microsoft is busy.\r\n");
  h.backend->fail_next("create_folder", mail::make_mail_error(mail::ErrorCode::quota, "Mailbox full."));
  EXPECT_EQ(h.send("b CREATE X\r\n"), "b NO [OVERQUOTA] Mailbox full.\r\n");
  h.backend->fail_next("folder_status", mail::make_mail_error(mail::ErrorCode::internal, "Oops\r\nline"));
  EXPECT_EQ(h.send("c STATUS INBOX (MESSAGES)\r\n"), "c NO [SERVERBUG] Oops  line\r\n");
  h.backend->fail_next("folder_status", mail::make_mail_error(mail::ErrorCode::needs_sign_in, "Sign in again."));
  EXPECT_EQ(h.send("d STATUS INBOX (MESSAGES)\r\n"), "d NO [UNAVAILABLE] Sign in again.\r\n");
  h.backend->fail_next("create_folder", mail::make_mail_error(mail::ErrorCode::too_big, "Too big."));
  EXPECT_EQ(h.send("e CREATE X\r\n"), "e NO [TOOBIG] Too big.\r\n");
  h.backend->fail_next("create_folder", mail::make_mail_error(mail::ErrorCode::not_supported, "No."));
  EXPECT_EQ(h.send("f CREATE X\r\n"), "f NO [CANNOT] No.\r\n");
}

}  // namespace
}  // namespace mailtrixy::imap

namespace mailtrixy::imap {
namespace {

TEST(ImapSessionFolders, SelectFindsTheBackendSpellingAndWatchesIt) {
  testing::Harness h;
  h.login();
  h.fill(1, "Archive");
  auto out = h.send("a SELECT archive\r\n");
  EXPECT_TRUE(out.ends_with("a OK [READ-WRITE] SELECT completed\r\n")) << out;
  EXPECT_TRUE(h.backend->is_watched("Archive"));
  (void)h.backend->deliver("Archive", testing::simple_message("Later"));
  EXPECT_EQ(h.send("n NOOP\r\n"), "* 2 EXISTS\r\nn OK NOOP completed\r\n");
}

TEST(ImapSessionFolders, ListWildcardsAndReferences) {
  testing::Harness h;
  h.login();
  ASSERT_TRUE(h.backend->create_folder("A/B/C").ok());
  EXPECT_EQ(h.send("a LIST \"\" %/%\r\n"), "* LIST (\\HasChildren) \"/\" A/B\r\na OK LIST completed\r\n");
  EXPECT_EQ(testing::lines(h.send("b LIST A/ *\r\n")).size(), 3U);  // A/B, A/B/C
  EXPECT_EQ(h.send("c LIST \"\" A/B/C\r\n"), "* LIST (\\HasNoChildren) \"/\" A/B/C\r\nc OK LIST completed\r\n");
  auto plain = h.send("d LIST \"\" * RETURN (SPECIAL-USE)\r\n");
  EXPECT_NE(plain.find("* LIST (\\HasNoChildren \\Trash) \"/\" \"Deleted Items\"\r\n"), std::string::npos);
  EXPECT_EQ(plain.find("\\Subscribed"), std::string::npos);
}

TEST(ImapSessionFolders, SubscriptionDefaultIsWrittenOutOnFirstChange) {
  testing::Harness h;
  h.login();
  EXPECT_TRUE(h.backend->subscribed_folders()->empty());
  ASSERT_EQ(h.send("a UNSUBSCRIBE Drafts\r\n"), "a OK UNSUBSCRIBE completed\r\n");
  auto stored = *h.backend->subscribed_folders();
  EXPECT_EQ(stored.size(), 5U);
  EXPECT_EQ(std::count(stored.begin(), stored.end(), "Drafts"), 0);
  // A folder created later is not subscribed automatically once the list is explicit.
  ASSERT_EQ(h.send("b CREATE Later\r\n"), "b OK CREATE completed\r\n");
  EXPECT_EQ(h.send("c LSUB \"\" Later\r\n"), "c OK LSUB completed\r\n");
  ASSERT_EQ(h.send("d SUBSCRIBE Later\r\n"), "d OK SUBSCRIBE completed\r\n");
  EXPECT_EQ(h.send("e LSUB \"\" Later\r\n"), "* LSUB () \"/\" Later\r\ne OK LSUB completed\r\n");
}

}  // namespace
}  // namespace mailtrixy::imap
