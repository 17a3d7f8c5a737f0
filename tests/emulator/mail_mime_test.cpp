#include <gtest/gtest.h>

#include <string>

#include "mime_message.hpp"

namespace mailtrixy::emulator::mime {
namespace {

TimePoint utc(int y, int mo, int d, int h, int mi, int s) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

TEST(MailMime, HeaderBlockUnfoldsAndFindsTheBody) {
  const std::string message =
      "Subject: a long\r\n subject line\r\nX-Empty:\r\nFrom: a@example.com\r\n\r\nbody\r\n";
  const HeaderBlock block = parse_header_block(message);
  ASSERT_EQ(block.fields.size(), 3u);
  EXPECT_EQ(block.fields[0].value, "a long subject line");
  EXPECT_EQ(block.fields[1].name, "X-Empty");
  EXPECT_EQ(block.fields[1].value, "");
  EXPECT_EQ(*block.get("from"), "a@example.com");
  EXPECT_EQ(message.substr(block.body_offset), "body\r\n");
}

TEST(MailMime, HeaderBlockAcceptsBareLineFeeds) {
  const HeaderBlock block = parse_header_block("To: x@y\nSubject: s\n\nhello");
  EXPECT_EQ(*block.get("Subject"), "s");
  EXPECT_EQ(block.body_offset, 20u);
}

TEST(MailMime, EncodedWordsAreDecodedAndAdjacentWhitespaceDropped) {
  EXPECT_EQ(decode_header_text("=?utf-8?B?R3LDvMOfZQ==?="), "Grüße");
  EXPECT_EQ(decode_header_text("=?ISO-8859-1?Q?Caf=E9_au_lait?="), "Café au lait");
  EXPECT_EQ(decode_header_text("=?utf-8?Q?a?= =?utf-8?Q?b?="), "ab");
  EXPECT_EQ(decode_header_text("Re: =?utf-8?Q?x?= tail"), "Re: x tail");
  EXPECT_EQ(decode_header_text("plain text"), "plain text");
  // Broken encoded words stay as they are.
  EXPECT_EQ(decode_header_text("=?utf-8?X?abc?="), "=?utf-8?X?abc?=");
}

TEST(MailMime, StrayEightBitHeaderTextBecomesValidUtf8) {
  const std::string latin1 = "Caf\xe9";
  EXPECT_EQ(decode_header_text(latin1), "Café");
  EXPECT_EQ(sanitize_utf8("ok\xff"), "ok\xef\xbf\xbd");
}

TEST(MailMime, AddressListsWithQuotesCommentsAndGroups) {
  const auto list = parse_address_list(
      "\"Doe, Jane\" <jane@example.com>, bob@example.com (Bob Smith), "
      "friends: ann@example.com, =?utf-8?Q?J=C3=BCrgen?= <juergen@example.de>;, <bare@example.org>");
  ASSERT_EQ(list.size(), 5u);
  EXPECT_EQ(list[0], (Address{"Doe, Jane", "jane@example.com"}));
  EXPECT_EQ(list[1], (Address{"Bob Smith", "bob@example.com"}));
  EXPECT_EQ(list[2], (Address{"", "ann@example.com"}));
  EXPECT_EQ(list[3], (Address{"Jürgen", "juergen@example.de"}));
  EXPECT_EQ(list[4], (Address{"", "bare@example.org"}));
  EXPECT_TRUE(parse_address_list("undisclosed-recipients:;").empty());
}

TEST(MailMime, DatesInModernAndObsoleteForms) {
  EXPECT_EQ(*parse_date("Tue, 16 Nov 2023 05:42:46 +0000"), utc(2023, 11, 16, 5, 42, 46));
  EXPECT_EQ(*parse_date("16 Nov 2023 07:42:46 +0200"), utc(2023, 11, 16, 5, 42, 46));
  EXPECT_EQ(*parse_date("Thu, 13 Feb 97 10:00 EST"), utc(1997, 2, 13, 15, 0, 0));
  EXPECT_EQ(*parse_date("Mon, 1 Jan 2001 00:00:00 GMT (comment)"), utc(2001, 1, 1, 0, 0, 0));
  EXPECT_FALSE(parse_date("yesterday").has_value());
  EXPECT_FALSE(parse_date("").has_value());
  EXPECT_EQ(format_date(utc(2023, 11, 16, 5, 42, 46)), "Thu, 16 Nov 2023 05:42:46 +0000");
}

const std::string kMultipart =
    "From: Ann <ann@example.com>\r\n"
    "To: bob@example.com\r\n"
    "Subject: =?utf-8?Q?Re:_Caf=C3=A9?=\r\n"
    "Date: Tue, 16 Nov 2023 05:42:46 +0000\r\n"
    "Message-ID: <m1@example.com>\r\n"
    "X-Priority: 1\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: multipart/related; boundary=rel\r\n"
    "\r\n"
    "--rel\r\n"
    "Content-Type: multipart/alternative; boundary=alt\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Caf=E9 to=\r\n"
    "day\r\n"
    "--alt\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PHA+Q2Fmw6k8L3A+\r\n"
    "--alt--\r\n"
    "--rel\r\n"
    "Content-Type: image/png\r\n"
    "Content-ID: <logo@x>\r\n"
    "Content-Disposition: inline\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "iVBORw==\r\n"
    "--rel--\r\n"
    "--outer\r\n"
    "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
    "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0=\r\n"
    "--outer--\r\n";

TEST(MailMime, ExtractsBodiesAndAttachmentsFromNestedMultiparts) {
  const Content content = extract_content(kMultipart);
  ASSERT_TRUE(content.text.has_value());
  EXPECT_EQ(*content.text, "Café today");
  ASSERT_TRUE(content.html.has_value());
  EXPECT_EQ(*content.html, "<p>Café</p>");
  ASSERT_EQ(content.attachments.size(), 2u);
  EXPECT_TRUE(content.attachments[0].is_inline);
  EXPECT_EQ(content.attachments[0].content_id, "logo@x");
  EXPECT_EQ(content.attachments[1].name, "résumé.pdf");
  EXPECT_FALSE(content.attachments[1].is_inline);
  EXPECT_EQ(content.attachments[1].bytes, "%PDF-");
}

TEST(MailMime, SummaryReadsWhatGraphShows) {
  const Summary summary = summarize(kMultipart);
  EXPECT_EQ(summary.subject, "Re: Café");
  EXPECT_EQ(summary.thread_topic, "Café");
  ASSERT_TRUE(summary.from.has_value());
  EXPECT_EQ(summary.from->name, "Ann");
  EXPECT_EQ(summary.sender, summary.from);
  ASSERT_EQ(summary.to.size(), 1u);
  EXPECT_EQ(summary.message_id, "<m1@example.com>");
  EXPECT_EQ(*summary.date, utc(2023, 11, 16, 5, 42, 46));
  EXPECT_EQ(summary.importance, "high");
  EXPECT_TRUE(summary.has_attachments);
}

TEST(MailMime, InlineImagesAloneDoNotCountAsAttachments) {
  const std::string message =
      "Content-Type: multipart/related; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<img "
      "src=cid:i>\r\n"
      "--b\r\nContent-Type: image/gif\r\nContent-ID: <i>\r\n\r\nGIF\r\n--b--\r\n";
  EXPECT_FALSE(summarize(message).has_attachments);
}

TEST(MailMime, UnclosedMultipartAndMissingHeadersDoNotBreakReading) {
  const Content content =
      extract_content("Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n\r\nfirst part");
  ASSERT_TRUE(content.text.has_value());
  EXPECT_EQ(*content.text, "first part");
  const Summary summary = summarize("just a body without headers");
  EXPECT_EQ(summary.subject, "");
  EXPECT_FALSE(summary.from.has_value());
}

TEST(MailMime, PreviewIs255CharactersOfText) {
  Content content;
  content.text = "  " + std::string(300, 'a') + "  ";
  EXPECT_EQ(body_preview(content), std::string(255, 'a'));
  Content html_only;
  html_only.html = "<html><head><style>p{}</style></head><body><p>Hello&nbsp;&amp; welcome</p></body></html>";
  EXPECT_EQ(body_preview(html_only), "Hello & welcome");
  Content umlauts;
  umlauts.text = std::string(300, '\xc3');  // invalid bytes are replaced, never cut mid-sequence
  EXPECT_EQ(body_preview(umlauts).size(), 255u * 3);
}

TEST(MailMime, BuiltMessagesReadBackTheSame) {
  Outgoing out;
  out.from = Address{"Jürgen Müller", "juergen@example.de"};
  out.to = {{"Ann", "ann@example.com"}, {"", "bob@example.com"}};
  out.bcc = {{"", "hidden@example.com"}};
  out.subject = "Grüße aus Köln";
  out.body = "Line one\nLine two with trailing space \nÜmlaut";
  out.message_id = "<built@example>";
  out.date = utc(2024, 5, 1, 10, 0, 0);
  out.importance = "low";
  out.extra_headers = {{"x-custom", "Nevada"}};
  out.attachments = {{"data.bin", "application/octet-stream", "", false, std::string("\x00\x01\x02\xff", 4)}};
  const std::string mime_text = build_message(out);
  EXPECT_EQ(mime_text.find("\n\n"), std::string::npos) << "CRLF line endings only";
  const Summary summary = summarize(mime_text);
  EXPECT_EQ(summary.subject, out.subject);
  EXPECT_EQ(summary.from, out.from);
  EXPECT_EQ(summary.to, out.to);
  EXPECT_EQ(summary.bcc, out.bcc);
  EXPECT_EQ(summary.message_id, out.message_id);
  EXPECT_EQ(*summary.date, out.date);
  EXPECT_EQ(summary.importance, "low");
  EXPECT_TRUE(summary.has_attachments);
  const Content content = extract_content(mime_text);
  EXPECT_EQ(*content.text, "Line one\r\nLine two with trailing space \r\nÜmlaut");
  ASSERT_EQ(content.attachments.size(), 1u);
  EXPECT_EQ(content.attachments[0].bytes, out.attachments[0].bytes);
  EXPECT_EQ(*parse_header_block(mime_text).get("x-custom"), "Nevada");
  EXPECT_EQ(*parse_header_block(mime_text).get("X-MS-Has-Attach"), "yes");
}

TEST(MailMime, RemovingBccKeepsEverythingElseByteForByte) {
  const std::string message =
      "To: a@x\r\nBcc: secret@x,\r\n  other@x\r\nSubject: s\r\n\r\nBcc: in body stays\r\n";
  EXPECT_EQ(remove_header_field(message, "bcc"), "To: a@x\r\nSubject: s\r\n\r\nBcc: in body stays\r\n");
  EXPECT_EQ(remove_header_field("To: a@x\r\n\r\nbody", "Bcc"), "To: a@x\r\n\r\nbody");
}

TEST(MailMime, HtmlAndTextConversions) {
  EXPECT_EQ(html_to_text("<div>a</div><div>b &lt;c&gt;</div>"), "a\r\nb <c>");
  const std::string html = text_to_html("1 < 2\nnext");
  EXPECT_NE(html.find("1 &lt; 2<br>"), std::string::npos);
  EXPECT_EQ(strip_subject_prefixes("RE: Fwd: AW: topic"), "topic");
}

}  // namespace
}  // namespace mailtrixy::emulator::mime
