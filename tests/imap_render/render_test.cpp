#include "mailtrixy/imap/render.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <chrono>

namespace mailtrixy::imap {
namespace {

using namespace std::chrono_literals;

SectionSpec section(std::vector<std::uint32_t> part, SectionSpec::Text text = SectionSpec::Text::none,
                    std::vector<std::string> fields = {}) {
  SectionSpec spec;
  spec.part = std::move(part);
  spec.text = text;
  spec.fields = std::move(fields);
  return spec;
}

const std::string kMultipart =
    "From: Ann <ann@example.com>\r\nSubject: hello\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "one\r\ntwo\r\n--XX\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
    "Subject: inner\r\nFrom: b@c\r\n\r\ninner body\r\n--XX--\r\n";

TEST(ImapRender, PlainBodyStructureGetsTheDefaultCharset) {
  std::string message = "Subject: hi\r\n\r\nhello\r\n";
  auto s = mime::parse_structure(message);
  EXPECT_EQ(render_body_structure(s, message, false), "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1)");
  EXPECT_EQ(render_body_structure(s, message, true),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1 NIL NIL NIL NIL)");
}

TEST(ImapRender, MultipartWithMessageRfc822) {
  auto s = mime::parse_structure(kMultipart);
  EXPECT_EQ(render_body_structure(s, kMultipart, true),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 8 1 NIL NIL NIL NIL)"
            "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 39 "
            "(NIL \"inner\" ((NIL NIL \"b\" \"c\")) ((NIL NIL \"b\" \"c\")) ((NIL NIL \"b\" \"c\")) NIL NIL NIL NIL NIL) "
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL) 3 "
            "NIL (\"attachment\" NIL) NIL NIL) \"mixed\" (\"boundary\" \"XX\") NIL NIL NIL)");
  EXPECT_EQ(render_body_structure(s, kMultipart, false),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 8 1)"
            "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 39 "
            "(NIL \"inner\" ((NIL NIL \"b\" \"c\")) ((NIL NIL \"b\" \"c\")) ((NIL NIL \"b\" \"c\")) NIL NIL NIL NIL NIL) "
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0) 3) \"mixed\")");
}

TEST(ImapRender, MultipartWithoutPartsReportsOneEmptyTextPart) {
  std::string message = "Content-Type: multipart/mixed\r\n\r\nno parts\r\n";
  auto s = mime::parse_structure(message);
  EXPECT_EQ(render_body_structure(s, message, false),
            "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\")");
}

TEST(ImapRender, LoneMultipartTypeIsReportedAsOctetStream) {
  std::string message = "MIME-Version: 1.0\r\nContent-Type: multipart\r\n\r\nx\r\n";
  auto s = mime::parse_structure(message);
  EXPECT_EQ(render_body_structure(s, message, false), "(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\" 3)");
}

TEST(ImapRender, StringsSwitchToLiteralsLikeDovecot) {
  std::string message =
      "MIME-Version: 1.0\r\nContent-Type: text/plain; a=\"\\\"\\\"\\\"\\\"\"; b=\"\\\"\\\"\\\"\\\"\\\"\"; c=\"\xe9\"\r\n\r\n";
  auto s = mime::parse_structure(message);
  EXPECT_EQ(render_body_structure(s, message, false),
            "(\"text\" \"plain\" (\"a\" \"\\\"\\\"\\\"\\\"\" \"b\" {5}\r\n\"\"\"\"\" \"c\" {1}\r\n\xe9 "
            "\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
}

TEST(ImapRender, RawEnvelopeFollowsDovecot) {
  mime::RawEnvelope e = mime::parse_raw_envelope(
      "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject:  folded\r\n\tsubject \r\nFrom: \"A \\\"q\\\"\" <a@b>\r\n"
      "To: g: x@y;\r\nMessage-ID:\r\n <id@x>\r\n\r\n");
  EXPECT_EQ(render_envelope(e),
            "(\"Mon, 1 Jan 2024 00:00:00 +0000\" {14}\r\nfolded subject "
            "(({5}\r\nA \"q\" NIL \"a\" \"b\")) (({5}\r\nA \"q\" NIL \"a\" \"b\")) (({5}\r\nA \"q\" NIL \"a\" \"b\")) "
            "((NIL NIL \"g\" NIL)(NIL NIL \"x\" \"y\")(NIL NIL NIL NIL)) NIL NIL NIL \" <id@x>\")");
  EXPECT_EQ(render_envelope(mime::RawEnvelope{}), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

TEST(ImapRender, MetadataEnvelope) {
  mail::Envelope e;
  e.date = mail::TimePoint{std::chrono::sys_days{std::chrono::year{2024} / 3 / 5} + 7h + 8min + 9s};
  e.subject = "Report";
  e.from = {{"Ann", "ann@example.com"}};
  e.to = {{"", "bob@example.com"}, {"", "nodomain"}};
  e.message_id = "<m@x>";
  EXPECT_EQ(render_envelope(e),
            "(\"Tue, 5 Mar 2024 07:08:09 +0000\" \"Report\" ((\"Ann\" NIL \"ann\" \"example.com\")) "
            "((\"Ann\" NIL \"ann\" \"example.com\")) ((\"Ann\" NIL \"ann\" \"example.com\")) "
            "((NIL NIL \"bob\" \"example.com\")(NIL NIL \"nodomain\" \"MISSING_DOMAIN\")) NIL NIL NIL \"<m@x>\")");
  EXPECT_EQ(render_envelope(mail::Envelope{}), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

TEST(ImapRender, MetadataEnvelopeTextIsSevenBitWithEncodedWords) {
  // Graph hands out decoded UTF-8; IMAP4rev1 clients get RFC 2047 words, never raw 8-bit text.
  mail::Envelope e;
  e.subject = "Grüße aus Köln";
  e.from = {{"Jürgen", "j@example.com"}};
  const std::string rendered = render_envelope(e);
  EXPECT_EQ(rendered.rfind("(NIL \"=?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4=?=\" ", 0), 0u) << rendered;
  EXPECT_NE(rendered.find("((\"=?utf-8?b?SsO8cmdlbg==?=\" NIL \"j\" \"example.com\"))"), std::string::npos);
  EXPECT_TRUE(std::all_of(rendered.begin(), rendered.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }));
  // Long text is split into several words, each below 76 characters and on character boundaries.
  e.subject.clear();
  for (int i = 0; i < 40; ++i) e.subject += "ä";
  const std::string long_subject = render_envelope(e);
  EXPECT_NE(long_subject.find("?= =?utf-8?b?"), std::string::npos);
}

TEST(ImapRender, SectionBytes) {
  auto s = mime::parse_structure(kMultipart);
  EXPECT_EQ(section_bytes(s, kMultipart, section({})), kMultipart);
  EXPECT_EQ(section_bytes(s, kMultipart, section({})).size(), kMultipart.size());  // RFC822.SIZE
  EXPECT_TRUE(section_bytes(s, kMultipart, section({}, SectionSpec::Text::header)).ends_with("boundary=XX\r\n\r\n"));
  EXPECT_TRUE(section_bytes(s, kMultipart, section({}, SectionSpec::Text::text)).starts_with("--XX\r\n"));
  EXPECT_EQ(section_bytes(s, kMultipart, section({1})), "one\r\ntwo");
  EXPECT_EQ(section_bytes(s, kMultipart, section({1}, SectionSpec::Text::mime)),
            "Content-Type: text/plain; charset=utf-8\r\n\r\n");
  EXPECT_EQ(section_bytes(s, kMultipart, section({1}, SectionSpec::Text::header)), "");
  EXPECT_EQ(section_bytes(s, kMultipart, section({2}, SectionSpec::Text::header)), "Subject: inner\r\nFrom: b@c\r\n\r\n");
  EXPECT_EQ(section_bytes(s, kMultipart, section({2}, SectionSpec::Text::text)), "inner body");
  EXPECT_EQ(section_bytes(s, kMultipart, section({2, 1})), "inner body");
  EXPECT_EQ(section_bytes(s, kMultipart, section({3})), "");
  EXPECT_EQ(section_bytes(s, kMultipart, section({1, 5})), "");
  EXPECT_EQ(section_bytes(s, kMultipart, section({}, SectionSpec::Text::header_fields, {"subject", "FROM"})),
            "From: Ann <ann@example.com>\r\nSubject: hello\r\n\r\n");
  EXPECT_EQ(section_bytes(s, kMultipart, section({2}, SectionSpec::Text::header_fields_not, {"subject"})),
            "From: b@c\r\n\r\n");
  EXPECT_EQ(section_bytes(s, kMultipart, section({}, SectionSpec::Text::header_fields, {"x-none"})), "\r\n");
}

TEST(ImapRender, NulBytesAreSentAs0x80) {
  std::string message("Subject: x\r\n\r\na\0b\r\n", 19);
  auto s = mime::parse_structure(message);
  EXPECT_EQ(section_bytes(s, message, section({}, SectionSpec::Text::text)), "a\x80" "b\r\n");
}

TEST(ImapRender, LabelsAndPartials) {
  EXPECT_EQ(section_label(section({}), std::nullopt), "BODY[]");
  EXPECT_EQ(section_label(section({1, 2}, SectionSpec::Text::mime), Partial{10, 5}), "BODY[1.2.MIME]<10>");
  EXPECT_EQ(section_label(section({}, SectionSpec::Text::header_fields, {"From", "x-y"}), std::nullopt),
            "BODY[HEADER.FIELDS (FROM X-Y)]");
  EXPECT_EQ(section_label(section({3}, SectionSpec::Text::header_fields_not, {"a b"}), std::nullopt),
            "BODY[3.HEADER.FIELDS.NOT (\"A B\")]");
  EXPECT_EQ(apply_partial("0123456789", Partial{2, 3}), "234");
  EXPECT_EQ(apply_partial("0123456789", Partial{8, 30}), "89");
  EXPECT_EQ(apply_partial("0123456789", Partial{10, 1}), "");
  EXPECT_EQ(apply_partial("0123456789", std::nullopt), "0123456789");
}

}  // namespace
}  // namespace mailtrixy::imap
