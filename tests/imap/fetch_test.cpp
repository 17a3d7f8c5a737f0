#include <gtest/gtest.h>

#include "harness.hpp"
#include "mailtrixy/imap/render.hpp"
#include "mailtrixy/mime/structure.hpp"

namespace mailtrixy::imap {
namespace {

using testing::Harness;
using testing::last_line;
using testing::lines;

const std::string kMultipart =
    "From: Alice <alice@example.com>\r\n"
    "To: Bob <bob@example.com>\r\n"
    "Subject: Report\r\n"
    "Date: Tue, 6 Jan 2026 08:30:00 +0000\r\n"
    "Message-ID: <report@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--XYZ\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "See the attachment.\r\n"
    "--XYZ\r\n"
    "Content-Type: application/pdf; name=\"r.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"r.pdf\"\r\n"
    "\r\n"
    "JVBERi0xLjQK\r\n"
    "--XYZ--\r\n";

std::string literal(std::string_view bytes) { return "{" + std::to_string(bytes.size()) + "}\r\n" + std::string(bytes); }

struct ImapSessionFetchItems : ::testing::Test {
  ImapSessionFetchItems() {
    h.session_options.structure_cache = cache;
    h.restart();
    h.login();
    (void)h.backend->deliver("INBOX", testing::simple_message("Plain one"));
    (void)h.backend->deliver("INBOX", kMultipart, {}, std::chrono::sys_days{std::chrono::year{2026} / 1 / 6} +
                                                          std::chrono::hours{9} + std::chrono::minutes{5});
    h.select();
    structure = mime::parse_structure(kMultipart);
  }
  std::string section(SectionSpec spec) { return section_bytes(structure, kMultipart, spec); }

  std::shared_ptr<StructureCache> cache = std::make_shared<StructureCache>();
  Harness h;
  mime::MessageStructure structure;
};

TEST_F(ImapSessionFetchItems, MetadataItems) {
  EXPECT_EQ(h.send("a FETCH 2 (FLAGS UID INTERNALDATE RFC822.SIZE)\r\n"),
            "* 2 FETCH (FLAGS () UID 2 INTERNALDATE \"06-Jan-2026 09:05:00 +0000\" RFC822.SIZE " +
                std::to_string(kMultipart.size()) + ")\r\na OK FETCH completed\r\n");
  EXPECT_EQ(h.backend->calls("fetch_mime"), 0U);
}

TEST_F(ImapSessionFetchItems, EnvelopeComesFromMetadata) {
  auto meta = h.backend->list_messages("INBOX", mail::UidRange::single(mail::Uid{2}));
  EXPECT_EQ(h.send("a FETCH 2 ENVELOPE\r\n"),
            "* 2 FETCH (ENVELOPE " + render_envelope(meta->front().envelope) + ")\r\na OK FETCH completed\r\n");
  EXPECT_EQ(h.backend->calls("fetch_mime"), 0U);
}

TEST_F(ImapSessionFetchItems, BodyStructureIsCached) {
  std::string expected = render_body_structure(structure, kMultipart, true);
  EXPECT_EQ(h.send("a FETCH 2 BODYSTRUCTURE\r\n"), "* 2 FETCH (BODYSTRUCTURE " + expected + ")\r\na OK FETCH completed\r\n");
  EXPECT_EQ(h.backend->calls("fetch_mime"), 1U);
  EXPECT_EQ(h.send("b UID FETCH 2 (BODYSTRUCTURE BODY)\r\n"),
            "* 2 FETCH (UID 2 BODYSTRUCTURE " + expected + " BODY " +
                render_body_structure(structure, kMultipart, false) + ")\r\nb OK UID FETCH completed\r\n");
  EXPECT_EQ(h.backend->calls("fetch_mime"), 1U);
  EXPECT_EQ(cache->stats().entries, 1U);
  // Another session of the same server shares the cache.
  SessionOptions options;
  options.structure_cache = cache;
  Harness other(h.backend, {}, options);
  other.login();
  other.select();
  EXPECT_TRUE(other.send("c FETCH 2 BODYSTRUCTURE\r\n").ends_with("c OK FETCH completed\r\n"));
  EXPECT_EQ(h.backend->calls("fetch_mime"), 1U);
}

TEST_F(ImapSessionFetchItems, WithoutCacheEveryBodyStructureDownloads) {
  Harness plain;
  plain.login();
  (void)plain.backend->deliver("INBOX", kMultipart);
  plain.select();
  ASSERT_TRUE(plain.send("a FETCH 1 BODYSTRUCTURE\r\n").ends_with("a OK FETCH completed\r\n"));
  ASSERT_TRUE(plain.send("b FETCH 1 BODYSTRUCTURE\r\n").ends_with("b OK FETCH completed\r\n"));
  EXPECT_EQ(plain.backend->calls("fetch_mime"), 2U);
}

TEST_F(ImapSessionFetchItems, BodySetsSeenAndReportsFlagsPeekDoesNot) {
  EXPECT_EQ(h.send("a FETCH 2 BODY.PEEK[]\r\n"), "* 2 FETCH (BODY[] " + literal(kMultipart) + ")\r\na OK FETCH completed\r\n");
  EXPECT_EQ(h.send("b FETCH 2 FLAGS\r\n"), "* 2 FETCH (FLAGS ())\r\nb OK FETCH completed\r\n");
  EXPECT_EQ(h.send("c FETCH 2 BODY[]\r\n"),
            "* 2 FETCH (BODY[] " + literal(kMultipart) + " FLAGS (\\Seen))\r\nc OK FETCH completed\r\n");
  // Already seen: no FLAGS added, no store.
  auto stores = h.backend->calls("store_flags");
  EXPECT_EQ(h.send("d FETCH 2 BODY[]\r\n"), "* 2 FETCH (BODY[] " + literal(kMultipart) + ")\r\nd OK FETCH completed\r\n");
  EXPECT_EQ(h.backend->calls("store_flags"), stores);
  // The flag change event of our own FETCH is not echoed.
  EXPECT_EQ(h.send("e NOOP\r\n"), "e OK NOOP completed\r\n");
}

TEST_F(ImapSessionFetchItems, Rfc822Items) {
  EXPECT_EQ(h.send("a FETCH 2 RFC822.HEADER\r\n"),
            "* 2 FETCH (RFC822.HEADER " + literal(section(SectionSpec{{}, SectionSpec::Text::header, {}})) +
                ")\r\na OK FETCH completed\r\n");
  EXPECT_EQ(h.send("b FETCH 2 FLAGS\r\n"), "* 2 FETCH (FLAGS ())\r\nb OK FETCH completed\r\n");
  EXPECT_EQ(h.send("c FETCH 2 RFC822.TEXT\r\n"),
            "* 2 FETCH (RFC822.TEXT " + literal(section(SectionSpec{{}, SectionSpec::Text::text, {}})) +
                " FLAGS (\\Seen))\r\nc OK FETCH completed\r\n");
  EXPECT_EQ(h.send("d FETCH 1 (RFC822 FLAGS)\r\n"),
            "* 1 FETCH (RFC822 " + literal(testing::simple_message("Plain one")) + " FLAGS (\\Seen))\r\nd OK FETCH completed\r\n");
  // HEADER + TEXT concatenate to the whole message.
  EXPECT_EQ(section(SectionSpec{{}, SectionSpec::Text::header, {}}) + section(SectionSpec{{}, SectionSpec::Text::text, {}}),
            kMultipart);
}

TEST_F(ImapSessionFetchItems, EverySectionForm) {
  struct Case {
    const char* request;
    SectionSpec spec;
  };
  std::vector<Case> cases = {
      {"BODY.PEEK[HEADER]", SectionSpec{{}, SectionSpec::Text::header, {}}},
      {"BODY.PEEK[TEXT]", SectionSpec{{}, SectionSpec::Text::text, {}}},
      {"BODY.PEEK[1]", SectionSpec{{1}, SectionSpec::Text::none, {}}},
      {"BODY.PEEK[2]", SectionSpec{{2}, SectionSpec::Text::none, {}}},
      {"BODY.PEEK[2.MIME]", SectionSpec{{2}, SectionSpec::Text::mime, {}}},
      {"BODY.PEEK[HEADER.FIELDS (Subject From)]", SectionSpec{{}, SectionSpec::Text::header_fields, {"Subject", "From"}}},
      {"BODY.PEEK[HEADER.FIELDS.NOT (Subject)]", SectionSpec{{}, SectionSpec::Text::header_fields_not, {"Subject"}}},
      {"BODY.PEEK[3]", SectionSpec{{3}, SectionSpec::Text::none, {}}},
  };
  for (const auto& c : cases) {
    auto out = h.send(std::string("a FETCH 2 (") + c.request + ")\r\n");
    std::string expected = "* 2 FETCH (" + section_label(c.spec, std::nullopt) + " " + literal(section(c.spec)) +
                           ")\r\na OK FETCH completed\r\n";
    EXPECT_EQ(out, expected) << c.request;
  }
  EXPECT_NE(section(SectionSpec{{1}, SectionSpec::Text::none, {}}).find("See the attachment."), std::string::npos);
  EXPECT_EQ(h.send("b FETCH 2 FLAGS\r\n"), "* 2 FETCH (FLAGS ())\r\nb OK FETCH completed\r\n");
  // Non-peek section fetch sets \Seen.
  EXPECT_TRUE(h.send("c FETCH 2 BODY[1]\r\n").find("FLAGS (\\Seen)") != std::string::npos);
}

TEST_F(ImapSessionFetchItems, PartialFetches) {
  EXPECT_EQ(h.send("a FETCH 2 BODY.PEEK[]<0.10>\r\n"),
            "* 2 FETCH (BODY[]<0> " + literal(std::string_view(kMultipart).substr(0, 10)) + ")\r\na OK FETCH completed\r\n");
  EXPECT_EQ(h.send("b FETCH 2 BODY.PEEK[]<10.20>\r\n"),
            "* 2 FETCH (BODY[]<10> " + literal(std::string_view(kMultipart).substr(10, 20)) + ")\r\nb OK FETCH completed\r\n");
  EXPECT_EQ(h.send("c FETCH 2 BODY.PEEK[]<100000.10>\r\n"), "* 2 FETCH (BODY[]<100000> {0}\r\n)\r\nc OK FETCH completed\r\n");
  std::string text = section(SectionSpec{{}, SectionSpec::Text::text, {}});
  EXPECT_EQ(h.send("d FETCH 2 BODY.PEEK[TEXT]<0.5>\r\n"),
            "* 2 FETCH (BODY[TEXT]<0> " + literal(text.substr(0, 5)) + ")\r\nd OK FETCH completed\r\n");
  // Last chunk shorter than asked.
  auto size = kMultipart.size();
  EXPECT_EQ(h.send("e FETCH 2 BODY.PEEK[]<" + std::to_string(size - 3) + ".65536>\r\n"),
            "* 2 FETCH (BODY[]<" + std::to_string(size - 3) + "> " + literal(kMultipart.substr(size - 3)) +
                ")\r\ne OK FETCH completed\r\n");
}

TEST_F(ImapSessionFetchItems, UidFetchAddsUidAndMacrosExpand) {
  auto out = h.send("a UID FETCH 1 (FLAGS)\r\n");
  EXPECT_EQ(out, "* 1 FETCH (UID 1 FLAGS ())\r\na OK UID FETCH completed\r\n");
  auto fast = h.send("b FETCH 1 FAST\r\n");
  EXPECT_TRUE(fast.starts_with("* 1 FETCH (FLAGS () INTERNALDATE \"")) << fast;
  EXPECT_NE(fast.find(" RFC822.SIZE "), std::string::npos);
  auto all = h.send("c FETCH 1 ALL\r\n");
  EXPECT_NE(all.find(" ENVELOPE ("), std::string::npos) << all;
  auto full = h.send("d FETCH 1 FULL\r\n");
  EXPECT_NE(full.find(" BODY ("), std::string::npos) << full;
}

TEST_F(ImapSessionFetchItems, SequenceAndUidSets) {
  EXPECT_EQ(h.send("a FETCH 1:* UID\r\n"), "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\na OK FETCH completed\r\n");
  EXPECT_EQ(h.send("b FETCH *:1 UID\r\n"), "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\nb OK FETCH completed\r\n");
  EXPECT_EQ(h.send("c FETCH 2,1,2 UID\r\n"), "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\nc OK FETCH completed\r\n");
  // "n:*" beyond the last UID still names the last message (RFC 3501 6.4.8).
  EXPECT_EQ(h.send("d UID FETCH 10:* FLAGS\r\n"), "* 2 FETCH (UID 2 FLAGS ())\r\nd OK UID FETCH completed\r\n");
  EXPECT_EQ(h.send("e UID FETCH 5:9 FLAGS\r\n"), "e OK UID FETCH completed\r\n");
  EXPECT_TRUE(h.send("f FETCH 3 FLAGS\r\n").starts_with("f BAD Invalid message sequence number 3"));
  EXPECT_TRUE(h.send("g FETCH 0 FLAGS\r\n").starts_with("g BAD "));
}

TEST(ImapSessionFetch, EmptyFolder) {
  Harness h;
  h.login();
  h.select();
  EXPECT_EQ(h.send("a FETCH 1:* FLAGS\r\n"), "a OK FETCH completed\r\n");
  EXPECT_EQ(h.send("b UID FETCH 1:* FLAGS\r\n"), "b OK UID FETCH completed\r\n");
  EXPECT_TRUE(h.send("c FETCH 1 FLAGS\r\n").starts_with("c BAD "));
  EXPECT_EQ(h.send("d SEARCH ALL\r\n"), "* SEARCH\r\nd OK SEARCH completed\r\n");
}

TEST(ImapSessionFetch, SizeNotKnownUpfrontIsAskedFor) {
  Harness h(std::make_shared<mail::FakeMailboxBackend>(mail::FakeMailboxBackend::Options{1, false}));
  h.login();
  h.fill(2);
  h.select();
  auto message = testing::simple_message("Message 2");
  EXPECT_EQ(h.send("a FETCH 2 RFC822.SIZE\r\n"),
            "* 2 FETCH (RFC822.SIZE " + std::to_string(message.size()) + ")\r\na OK FETCH completed\r\n");
  EXPECT_EQ(h.backend->calls("message_size"), 1U);
  EXPECT_EQ(h.backend->calls("fetch_mime"), 0U);
}

TEST(ImapSessionFetch, BackendFailureEndsFetchWithNo) {
  Harness h;
  h.login();
  h.fill(3);
  h.select();
  h.backend->fail_next("fetch_mime", mail::make_mail_error(mail::ErrorCode::unavailable, "Graph is throttling."));
  EXPECT_EQ(h.send("a FETCH 1:3 BODY.PEEK[]\r\n"), "a NO [UNAVAILABLE] Graph is throttling.\r\n");
  // A body that could not be read is not marked \Seen.
  h.backend->fail_next("fetch_mime", mail::make_mail_error(mail::ErrorCode::unavailable, "Graph is throttling."));
  EXPECT_EQ(h.send("s FETCH 1 BODY[]\r\n"), "s NO [UNAVAILABLE] Graph is throttling.\r\n");
  EXPECT_EQ(h.send("t FETCH 1 FLAGS\r\n"), "* 1 FETCH (FLAGS ())\r\nt OK FETCH completed\r\n");
  // A message that vanished between listing and download is skipped.
  h.backend->fail_next("fetch_mime", mail::make_mail_error(mail::ErrorCode::not_found, "Gone."));
  auto out = h.send("b FETCH 1:3 (UID BODY.PEEK[HEADER])\r\n");
  EXPECT_EQ(out.find("* 1 FETCH"), std::string::npos);
  EXPECT_NE(out.find("* 2 FETCH (UID 2 "), std::string::npos);
  EXPECT_TRUE(out.ends_with("b OK FETCH completed\r\n"));
}

TEST(ImapSessionFetch, ManyMessagesInBatches) {
  Harness h;
  h.login();
  h.fill(1200);
  h.select();
  auto out = h.send("a FETCH 1:* (UID FLAGS)\r\n");
  auto all = lines(out);
  ASSERT_EQ(all.size(), 1201U);
  EXPECT_EQ(all[0], "* 1 FETCH (UID 1 FLAGS ())");
  EXPECT_EQ(all[1199], "* 1200 FETCH (UID 1200 FLAGS ())");
  // Metadata in batches, never one listing per message.
  EXPECT_LE(h.backend->calls("list_messages"), 1U + 3U);
  auto sparse = h.send("b FETCH 1,1200 UID\r\n");
  EXPECT_EQ(sparse, "* 1 FETCH (UID 1)\r\n* 1200 FETCH (UID 1200)\r\nb OK FETCH completed\r\n");
}

}  // namespace
}  // namespace mailtrixy::imap
