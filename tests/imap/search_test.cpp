#include <gtest/gtest.h>

#include "harness.hpp"

namespace mailtrixy::imap {
namespace {

using testing::Harness;

// A LITERAL+ argument, for non-ASCII search strings.
std::string lit(std::string_view text) { return "{" + std::to_string(text.size()) + "+}\r\n" + std::string(text); }

mail::TimePoint day(int y, unsigned m, unsigned d, int hour = 12) {
  return std::chrono::sys_days{std::chrono::year{y} / m / d} + std::chrono::hours{hour};
}

// Five messages with different flags, dates, sizes, headers and encodings.
struct ImapSessionSearch : ::testing::Test {
  ImapSessionSearch() {
    h.login();
    mail::Flags seen_flagged;
    seen_flagged.set(mail::SystemFlag::seen).set(mail::SystemFlag::flagged);
    // 1: plain, seen+flagged, 2026-01-10.
    deliver(
        "From: Alice Example <alice@example.com>\r\nTo: Bob <bob@example.com>\r\nCc: carol@example.com\r\n"
        "Subject: Quarterly report\r\nDate: Fri, 9 Jan 2026 23:30:00 +0000\r\nMessage-ID: <q1@example.com>\r\n"
        "X-Mailer: Tester\r\n\r\nThe numbers look good.\r\n",
        seen_flagged, day(2026, 1, 10));
    // 2: RFC 2047 subject, quoted-printable latin1 body, answered+deleted, 2026-01-11.
    mail::Flags answered_deleted;
    answered_deleted.set(mail::SystemFlag::answered).set(mail::SystemFlag::deleted);
    deliver(
        "From: =?utf-8?q?J=C3=BCrgen?= <juergen@example.de>\r\nTo: alice@example.com\r\n"
        "Bcc: secret@example.com\r\nSubject: =?iso-8859-1?q?Gr=FC=DFe?= aus Berlin\r\n"
        "Date: Sun, 11 Jan 2026 10:00:00 +0100\r\nMessage-ID: <q2@example.de>\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Sch=F6ne Gr=FC=DFe vom M=FCggelsee=\r\n und mehr.\r\n",
        answered_deleted, day(2026, 1, 11));
    // 3: multipart with a base64 UTF-8 text part and an attachment, keyword Work, 2026-01-12.
    mail::Flags work;
    work.add_keyword("Work");
    deliver(
        "From: Bob <bob@example.com>\r\nTo: alice@example.com\r\nSubject: Photos\r\n"
        "Date: Mon, 12 Jan 2026 09:00:00 +0000\r\nMessage-ID: <q3@example.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nSGVyZSBhcmUgdGhlIHBob3RvcyBmcm9tIE3DvG5jaGVuLg==\r\n--b1\r\n"
        "Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRgABAQ==\r\n--b1--\r\n",
        work, day(2026, 1, 12));
    // 4: draft, big body, 2026-01-13, no Date header.
    mail::Flags draft;
    draft.set(mail::SystemFlag::draft);
    deliver("From: alice@example.com\r\nTo: dave@example.com\r\nSubject: Draft notes\r\n\r\n" +
                std::string(5000, 'x') + "\r\n",
            draft, day(2026, 1, 13));
    // 5: forwarded, 2026-02-01.
    mail::Flags forwarded;
    forwarded.set(mail::SystemFlag::forwarded);
    deliver(
        "From: Eve <eve@example.org>\r\nTo: Bob <bob@example.com>\r\nSubject: Fwd: Quarterly report\r\n"
        "Date: Sun, 1 Feb 2026 12:00:00 +0000\r\nMessage-ID: <q5@example.org>\r\n\r\nForwarded text.\r\n",
        forwarded, day(2026, 2, 1));
    // \Deleted is bridge-local: set it the way a client would.
    mail::Flags deleted;
    deleted.set(mail::SystemFlag::deleted);
    EXPECT_TRUE(h.backend->store_flags("INBOX", {mail::Uid{2}}, mail::StoreMode::add, deleted).ok());
    h.select();
  }

  void deliver(const std::string& mime, const mail::Flags& flags, mail::TimePoint date) {
    ASSERT_TRUE(h.backend->deliver("INBOX", mime, flags, date).ok());
  }

  std::string search(const std::string& criteria) {
    auto out = h.send("s SEARCH " + criteria + "\r\n");
    auto end = out.find("\r\n");
    if (!out.ends_with("s OK SEARCH completed\r\n")) return "ERROR: " + out;
    return out.substr(0, end);
  }

  Harness h;
};

TEST_F(ImapSessionSearch, FlagKeys) {
  EXPECT_EQ(search("ALL"), "* SEARCH 1 2 3 4 5");
  EXPECT_EQ(search("SEEN"), "* SEARCH 1");
  EXPECT_EQ(search("UNSEEN"), "* SEARCH 2 3 4 5");
  EXPECT_EQ(search("FLAGGED"), "* SEARCH 1");
  EXPECT_EQ(search("UNFLAGGED"), "* SEARCH 2 3 4 5");
  EXPECT_EQ(search("ANSWERED"), "* SEARCH 2");
  EXPECT_EQ(search("UNANSWERED"), "* SEARCH 1 3 4 5");
  EXPECT_EQ(search("DELETED"), "* SEARCH 2");
  EXPECT_EQ(search("UNDELETED"), "* SEARCH 1 3 4 5");
  EXPECT_EQ(search("DRAFT"), "* SEARCH 4");
  EXPECT_EQ(search("UNDRAFT"), "* SEARCH 1 2 3 5");
  EXPECT_EQ(search("KEYWORD Work"), "* SEARCH 3");
  EXPECT_EQ(search("KEYWORD work"), "* SEARCH 3");
  EXPECT_EQ(search("UNKEYWORD Work"), "* SEARCH 1 2 4 5");
  EXPECT_EQ(search("KEYWORD $Forwarded"), "* SEARCH 5");
  EXPECT_EQ(search("RECENT"), "* SEARCH");
  EXPECT_EQ(search("NEW"), "* SEARCH");
  EXPECT_EQ(search("OLD"), "* SEARCH 1 2 3 4 5");
  EXPECT_EQ(h.backend->calls("fetch_mime"), 0U);
}

TEST_F(ImapSessionSearch, DateKeys) {
  EXPECT_EQ(search("BEFORE 11-Jan-2026"), "* SEARCH 1");
  EXPECT_EQ(search("ON 12-Jan-2026"), "* SEARCH 3");
  EXPECT_EQ(search("SINCE 12-Jan-2026"), "* SEARCH 3 4 5");
  EXPECT_EQ(search("SINCE 1-Jan-2027"), "* SEARCH");
  // Sent dates from the Date: header (UTC); no header: the internal date.
  EXPECT_EQ(search("SENTON 9-Jan-2026"), "* SEARCH 1");
  EXPECT_EQ(search("SENTBEFORE 10-Jan-2026"), "* SEARCH 1");
  EXPECT_EQ(search("SENTSINCE 12-Jan-2026"), "* SEARCH 3 4 5");
  EXPECT_EQ(search("SENTON 13-Jan-2026"), "* SEARCH 4");
  EXPECT_EQ(h.backend->calls("fetch_mime"), 0U);
}

TEST_F(ImapSessionSearch, SizeAndSetKeys) {
  EXPECT_EQ(search("LARGER 4000"), "* SEARCH 4");
  EXPECT_EQ(search("SMALLER 4000"), "* SEARCH 1 2 3 5");
  EXPECT_EQ(search("2:3"), "* SEARCH 2 3");
  EXPECT_EQ(search("4:*"), "* SEARCH 4 5");
  EXPECT_EQ(search("1,5 UNSEEN"), "* SEARCH 5");
  EXPECT_EQ(search("UID 2,4:5"), "* SEARCH 2 4 5");
  EXPECT_EQ(search("UID 3:*"), "* SEARCH 3 4 5");
  EXPECT_EQ(search("UID 10:*"), "* SEARCH 5");
  EXPECT_EQ(search("9"), "* SEARCH");
  // K-9: UID SEARCH over a sequence range.
  EXPECT_EQ(h.send("u UID SEARCH 2:4 NOT DELETED\r\n"), "* SEARCH 3 4\r\nu OK UID SEARCH completed\r\n");
  EXPECT_EQ(h.backend->calls("fetch_mime"), 0U);
}

TEST_F(ImapSessionSearch, EnvelopeKeys) {
  EXPECT_EQ(search("FROM alice"), "* SEARCH 1 4");
  EXPECT_EQ(search("FROM \"Alice Example\""), "* SEARCH 1");
  EXPECT_EQ(search("FROM " + lit("jürgen")), "* SEARCH 2");
  EXPECT_EQ(search("TO bob@example.com"), "* SEARCH 1 5");
  EXPECT_EQ(search("CC carol"), "* SEARCH 1");
  EXPECT_EQ(search("BCC secret"), "* SEARCH 2");
  EXPECT_EQ(search("SUBJECT quarterly"), "* SEARCH 1 5");
  EXPECT_EQ(search("SUBJECT " + lit("GRÜSSE")), "* SEARCH");
  EXPECT_EQ(search("SUBJECT " + lit("grüße")), "* SEARCH 2");
  EXPECT_EQ(search("CHARSET UTF-8 SUBJECT " + lit("GRÜßE")), "* SEARCH 2");
  EXPECT_EQ(h.backend->calls("fetch_mime"), 0U);
}

TEST_F(ImapSessionSearch, HeaderBodyAndTextKeys) {
  EXPECT_EQ(search("HEADER Message-ID <q3@example.com>"), "* SEARCH 3");
  // From the metadata, except message 4, which has no Message-ID there.
  EXPECT_EQ(h.backend->calls("fetch_mime"), 1U);
  EXPECT_EQ(search("HEADER X-Mailer tester"), "* SEARCH 1");
  EXPECT_EQ(search("HEADER X-Mailer \"\""), "* SEARCH 1");
  EXPECT_EQ(search("HEADER Subject " + lit("grüße")), "* SEARCH 2");
  EXPECT_EQ(search("BODY " + lit("schöne grüße")), "* SEARCH 2");
  EXPECT_EQ(search("BODY " + lit("MÜGGELSEE")), "* SEARCH 2");
  EXPECT_EQ(search("BODY " + lit("münchen")), "* SEARCH 3");
  EXPECT_EQ(search("BODY JFIF"), "* SEARCH");
  EXPECT_EQ(search("BODY quarterly"), "* SEARCH");
  EXPECT_EQ(search("TEXT quarterly"), "* SEARCH 1 5");
  EXPECT_EQ(search("TEXT numbers"), "* SEARCH 1");
}

TEST_F(ImapSessionSearch, BodyIsReadOnlyWhenCheaperKeysMatched) {
  EXPECT_EQ(search("BODY forwarded FLAGGED"), "* SEARCH");
  EXPECT_EQ(h.backend->calls("fetch_mime"), 1U);  // only message 1 is flagged
}

TEST_F(ImapSessionSearch, BooleanKeys) {
  EXPECT_EQ(search("NOT SEEN"), "* SEARCH 2 3 4 5");
  EXPECT_EQ(search("OR SEEN DRAFT"), "* SEARCH 1 4");
  EXPECT_EQ(search("OR (SEEN FLAGGED) KEYWORD Work"), "* SEARCH 1 3");
  EXPECT_EQ(search("(FROM bob) (SINCE 1-Jan-2026)"), "* SEARCH 3");
  EXPECT_EQ(search("NOT OR SEEN ANSWERED"), "* SEARCH 3 4 5");
  EXPECT_EQ(search("UNSEEN UNDELETED SINCE 12-Jan-2026 NOT FROM eve"), "* SEARCH 3 4");
}

TEST_F(ImapSessionSearch, UidSearchAndCharsets) {
  EXPECT_EQ(h.send("a UID SEARCH UNSEEN\r\n"), "* SEARCH 2 3 4 5\r\na OK UID SEARCH completed\r\n");
  EXPECT_EQ(h.send("b SEARCH CHARSET US-ASCII SEEN\r\n"), "* SEARCH 1\r\nb OK SEARCH completed\r\n");
  EXPECT_EQ(h.send("c SEARCH CHARSET KOI8-R SEEN\r\n"),
            "c NO [BADCHARSET (UTF-8 US-ASCII)] The charset KOI8-R is not supported; use UTF-8 or US-ASCII.\r\n");
  EXPECT_TRUE(h.send("d SEARCH BOGUS\r\n").starts_with("d BAD "));
}

TEST_F(ImapSessionSearch, SearchAfterExpungeUsesCurrentNumbers) {
  ASSERT_EQ(h.send("x EXPUNGE\r\n"), "* 2 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
  EXPECT_EQ(search("ALL"), "* SEARCH 1 2 3 4");
  EXPECT_EQ(h.send("u UID SEARCH ALL\r\n"), "* SEARCH 1 3 4 5\r\nu OK UID SEARCH completed\r\n");
}

TEST_F(ImapSessionSearch, EsearchReturnOptions) {
  EXPECT_EQ(h.send("e SEARCH RETURN (MIN MAX COUNT) UNSEEN\r\n"),
            "* ESEARCH (TAG \"e\") MIN 2 MAX 5 COUNT 4\r\ne OK SEARCH completed\r\n");
  EXPECT_EQ(h.send("f UID SEARCH RETURN (ALL) UNSEEN\r\n"),
            "* ESEARCH (TAG \"f\") UID ALL 2:5\r\nf OK UID SEARCH completed\r\n");
  EXPECT_EQ(h.send("g SEARCH RETURN (COUNT) RECENT\r\n"), "* ESEARCH (TAG \"g\") COUNT 0\r\ng OK SEARCH completed\r\n");
}

TEST_F(ImapSessionSearch, BackendErrorsEndTheSearch) {
  h.backend->fail_next("fetch_mime", mail::make_mail_error(mail::ErrorCode::unavailable, "Throttled."));
  EXPECT_EQ(h.send("s SEARCH BODY x\r\n"), "s NO [UNAVAILABLE] Throttled.\r\n");
}

}  // namespace
}  // namespace mailtrixy::imap
