#include "mailtrixy/mime/structure.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace mailtrixy::mime {
namespace {

using Number = std::vector<std::uint32_t>;

std::string bytes(const Span& span, const std::string& message) { return std::string(span.in(message)); }

const Part& part(const MessageStructure& s, Number number) {
  const Part* found = find_part(s, number);
  if (found == nullptr) throw std::runtime_error("no such part");
  return *found;
}

// Every span of every part lies inside the message and inside its parent.
void expect_spans_inside(const Part& p, std::size_t begin, std::size_t end) {
  EXPECT_GE(p.whole.offset, begin);
  EXPECT_LE(p.whole.end(), end);
  EXPECT_EQ(p.header.offset, p.whole.offset);
  EXPECT_EQ(p.header.end(), p.body.offset);
  EXPECT_EQ(p.body.end(), p.whole.end());
  for (const Part& child : p.children) expect_spans_inside(child, p.body.offset, p.body.end());
}

TEST(MimeStructure, PlainMessageHasHeaderBodyAndLineCount) {
  std::string message = "Subject: hi\r\nFrom: a@b\r\n\r\nhello\r\nworld\r\n";
  MessageStructure s = parse_structure(message);
  EXPECT_EQ(bytes(s.root.header, message), "Subject: hi\r\nFrom: a@b\r\n\r\n");
  EXPECT_EQ(bytes(s.root.body, message), "hello\r\nworld\r\n");
  EXPECT_EQ(s.root.body_lines, 2u);
  EXPECT_FALSE(s.root.has_content_type);
  EXPECT_FALSE(s.root.multipart);
  EXPECT_EQ(find_part(s, Number{1}), &s.root);
  EXPECT_EQ(find_part(s, Number{2}), nullptr);
  EXPECT_EQ(find_part(s, Number{0}), nullptr);
  EXPECT_EQ(part_numbers(s), (std::vector<Number>{{1}}));
}

TEST(MimeStructure, EmptyAndHeaderOnlyMessages) {
  std::string empty;
  MessageStructure s = parse_structure(empty);
  EXPECT_EQ(s.root.whole.length, 0u);

  std::string header_only = "Subject: no body and no line break";
  s = parse_structure(header_only);
  EXPECT_EQ(bytes(s.root.header, header_only), header_only);
  EXPECT_EQ(s.root.body.length, 0u);

  std::string body_only = "\r\nbody\r\n";
  s = parse_structure(body_only);
  EXPECT_EQ(bytes(s.root.header, body_only), "\r\n");
  EXPECT_EQ(bytes(s.root.body, body_only), "body\r\n");
}

TEST(MimeStructure, MultipartWithPreambleAndEpilogue) {
  std::string message =
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n"
      "preamble\r\n--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\none\r\n"
      "--XYZ\r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n--XYZ--\r\nepilogue\r\n";
  MessageStructure s = parse_structure(message);
  ASSERT_TRUE(s.root.multipart);
  ASSERT_EQ(s.root.children.size(), 2u);
  EXPECT_EQ(s.root.subtype, "mixed");
  EXPECT_EQ(bytes(part(s, {1}).header, message), "Content-Type: text/plain; charset=utf-8\r\n\r\n");
  // The line break before a boundary belongs to the boundary.
  EXPECT_EQ(bytes(part(s, {1}).body, message), "one");
  EXPECT_EQ(bytes(part(s, {2}).body, message), "<p>two</p>");
  EXPECT_EQ(part(s, {2}).subtype, "html");
  EXPECT_EQ(part(s, {1}).parameters, (std::vector<Parameter>{{"charset", "utf-8"}}));
  EXPECT_TRUE(bytes(s.root.body, message).ends_with("epilogue\r\n"));
  EXPECT_EQ(part_numbers(s), (std::vector<Number>{{1}, {2}}));
  expect_spans_inside(s.root, 0, message.size());
}

TEST(MimeStructure, MissingEndBoundariesEndAtTheOuterBoundaryOrTheEnd) {
  std::string message =
      "Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n"
      "Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n\r\nA\r\n--inner\r\n\r\nB\r\n"
      "--outer\r\n\r\nC\r\n";
  MessageStructure s = parse_structure(message);
  ASSERT_EQ(s.root.children.size(), 2u);
  ASSERT_EQ(part(s, {1}).children.size(), 2u);
  EXPECT_EQ(bytes(part(s, {1, 2}).body, message), "B");
  EXPECT_EQ(bytes(part(s, {2}).body, message), "C\r\n");
  expect_spans_inside(s.root, 0, message.size());
}

TEST(MimeStructure, BoundaryThatExtendsAnotherIsToldApart) {
  std::string message =
      "Content-Type: multipart/mixed; boundary=abc\r\n\r\n--abc\r\n"
      "Content-Type: multipart/mixed; boundary=abcdef\r\n\r\n--abcdef\r\n\r\nx\r\n--abcdef--\r\n"
      "--abc\r\n\r\ny\r\n--abc--\r\n";
  MessageStructure s = parse_structure(message);
  ASSERT_EQ(s.root.children.size(), 2u);
  ASSERT_EQ(part(s, {1}).children.size(), 1u);
  EXPECT_EQ(bytes(part(s, {1, 1}).body, message), "x");
  EXPECT_EQ(bytes(part(s, {2}).body, message), "y");
}

TEST(MimeStructure, MessageRfc822NumberingDescendsIntoTheEncapsulatedMessage) {
  std::string message =
      "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n\r\nfirst\r\n--b1\r\n"
      "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: In <in@example.com>\r\n"
      "Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n\r\nalt one\r\n--b2\r\n"
      "Content-Type: message/rfc822\r\n\r\nSubject: deepest\r\n\r\ndeep\r\n--b2--\r\n--b1--\r\n";
  MessageStructure s = parse_structure(message);
  const Part& attached = part(s, {2});
  ASSERT_TRUE(attached.is_message());
  const Part* inner = encapsulated_message(attached);
  ASSERT_NE(inner, nullptr);
  ASSERT_TRUE(inner->envelope.has_value());
  EXPECT_EQ(inner->envelope->subject, "inner");
  ASSERT_TRUE(inner->envelope->from.has_value());
  EXPECT_EQ((*inner->envelope->from)[0].mailbox, "in");
  EXPECT_EQ(bytes(attached.body, message), bytes(inner->whole, message));
  EXPECT_EQ(bytes(part(s, {2, 1}).body, message), "alt one");
  // 2.2 is a message/rfc822 holding a non-multipart message: 2.2.1 is that message's body.
  EXPECT_TRUE(part(s, {2, 2}).is_message());
  EXPECT_EQ(bytes(part(s, {2, 2, 1}).body, message), "deep");
  EXPECT_EQ(find_part(s, Number{2, 3}), nullptr);
  EXPECT_EQ(part_numbers(s), (std::vector<Number>{{1}, {2}, {2, 1}, {2, 2}, {2, 2, 1}}));
}

TEST(MimeStructure, DigestPartsWithoutTypeAreMessages) {
  std::string message =
      "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: one\r\n\r\nfirst\r\n--d--\r\n";
  MessageStructure s = parse_structure(message);
  ASSERT_EQ(s.root.children.size(), 1u);
  EXPECT_TRUE(part(s, {1}).is_message());
  EXPECT_EQ(encapsulated_message(part(s, {1}))->envelope->subject, "one");
}

TEST(MimeStructure, HeaderCutByABoundaryEndsThePart) {
  std::string message =
      "Content-Type: multipart/mixed; boundary=h\r\n\r\n--h\r\nContent-Type: text/plain\r\n--h\r\n\r\nlast\r\n--h--\r\n";
  MessageStructure s = parse_structure(message);
  ASSERT_EQ(s.root.children.size(), 2u);
  EXPECT_EQ(bytes(part(s, {1}).whole, message), "Content-Type: text/plain");
  EXPECT_EQ(part(s, {1}).body.length, 0u);
  EXPECT_EQ(bytes(part(s, {2}).body, message), "last");
}

TEST(MimeStructure, BareLineFeedsWork) {
  std::string message = "Content-Type: multipart/mixed; boundary=lf\n\n--lf\nContent-Type: text/plain\n\nline\n--lf--\n";
  MessageStructure s = parse_structure(message);
  ASSERT_EQ(s.root.children.size(), 1u);
  EXPECT_EQ(bytes(part(s, {1}).body, message), "line");
  EXPECT_EQ(normalize_crlf("a\nb\r\nc\r"), "a\r\nb\r\nc\r");
}

TEST(MimeStructure, ContentFieldsAreReadLikeDovecot) {
  std::string message =
      "MIME-Version: 1.0\r\nContent-Type: Application/Octet-Stream;\r\n title*0*=us-ascii'en'This%20is;\r\n"
      " title*1=\" 50%\"; name=\"a \\\"b\\\".txt\"\r\nContent-Transfer-Encoding: Base64\r\n"
      "Content-ID: <id@x>\r\nContent-Description: the\r\n description\r\nContent-Disposition: attachment; filename=a.txt\r\n"
      "Content-Language: en, de-CH\r\nContent-Location: http://x/\r\nContent-MD5: abc=\r\n\r\nAAAA\r\n";
  MessageStructure s = parse_structure(message);
  const Part& p = s.root;
  EXPECT_EQ(p.type, "Application");
  EXPECT_EQ(p.subtype, "Octet-Stream");
  EXPECT_EQ(p.parameters, (std::vector<Parameter>{{"name", "a \"b\".txt"}, {"title*", "us-ascii'en'This%20is 50%25"}}));
  EXPECT_EQ(p.encoding, "Base64");
  EXPECT_EQ(p.id, "<id@x>");
  EXPECT_EQ(p.description, "the\r\n description");
  EXPECT_EQ(p.disposition, "attachment");
  EXPECT_EQ(p.disposition_parameters, (std::vector<Parameter>{{"filename", "a.txt"}}));
  EXPECT_EQ(p.language, (std::vector<std::string>{"en", "de-CH"}));
  EXPECT_EQ(p.location, "http://x/");
  EXPECT_EQ(p.md5, "abc=");
}

TEST(MimeStructure, ContentFieldsNeedMime) {
  std::string message = "Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n";
  MessageStructure s = parse_structure(message);
  EXPECT_FALSE(s.root.encoding.has_value());
}

TEST(MimeStructure, BrokenContentTypeGivesEmptyType) {
  std::string message = "Content-Type: text/plain garbage\r\n\r\nx\r\n";
  MessageStructure s = parse_structure(message);
  EXPECT_TRUE(s.root.has_content_type);
  EXPECT_EQ(s.root.type, "");
  EXPECT_EQ(s.root.subtype, "");
}

TEST(MimeStructure, EnvelopeAddressesAsDovecotReadsThem) {
  RawEnvelope e = parse_raw_envelope(
      "From: \"Last, First\" <x@y>, <@r1,@r2:a@b>\r\nTo: user\r\nCc: <>\r\nCc: c@d (Comment)\r\n"
      "Bcc: group: a@b, c@d;\r\nSubject: one\r\nSubject: two\r\n\r\n");
  ASSERT_TRUE(e.from.has_value());
  ASSERT_EQ(e.from->size(), 2u);
  EXPECT_EQ((*e.from)[0], (EnvelopeAddress{"Last, First", std::nullopt, "x", "y"}));
  EXPECT_EQ((*e.from)[1], (EnvelopeAddress{std::nullopt, "@r1,@r2", "a", "b"}));
  EXPECT_EQ((*e.to)[0], (EnvelopeAddress{std::nullopt, std::nullopt, "user", "MISSING_DOMAIN"}));
  ASSERT_EQ(e.cc->size(), 2u);  // repeated address fields add up
  EXPECT_EQ((*e.cc)[0], (EnvelopeAddress{std::nullopt, std::nullopt, "MISSING_MAILBOX", "MISSING_DOMAIN"}));
  EXPECT_EQ((*e.cc)[1], (EnvelopeAddress{"Comment", std::nullopt, "c", "d"}));
  ASSERT_EQ(e.bcc->size(), 4u);
  EXPECT_EQ((*e.bcc)[0], (EnvelopeAddress{std::nullopt, std::nullopt, "group", std::nullopt}));
  EXPECT_EQ((*e.bcc)[3], (EnvelopeAddress{}));
  EXPECT_EQ(e.subject, "two");  // the last one wins
  EXPECT_FALSE(e.sender.has_value());
  EXPECT_FALSE(e.date.has_value());
}

TEST(MimeStructure, EmptyBodyBeforeABoundaryGivesTheEmptyLineToTheBoundary) {
  std::string message =
      "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\n--q--\r\n";
  MessageStructure s = parse_structure(message);
  ASSERT_EQ(s.root.children.size(), 1u);
  EXPECT_EQ(bytes(part(s, {1}).header, message), "Content-Type: text/plain\r\n");
  EXPECT_EQ(part(s, {1}).body.length, 0u);
}

TEST(MimeStructure, NulInHeaderValuesBecomesReplacementCharacter) {
  std::string message("Subject: a\0b\r\nContent-Type: text/plain; name=\"x\0y\"\r\nContent-ID: <\0>\r\n\r\n", 69);
  MessageStructure s = parse_structure(message);
  EXPECT_EQ(s.root.envelope->subject, "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(s.root.parameters, (std::vector<Parameter>{{"name", "x\xEF\xBF\xBD" "y"}}));
  EXPECT_EQ(s.root.id, "<\xEF\xBF\xBD>");
}

TEST(MimeStructure, BrokenParametersAreSkippedWithinALimit) {
  std::string message = "Content-Type: text/plain; a\x19=1; b=2; c; d=4\r\n\r\n";
  EXPECT_EQ(parse_structure(message).root.parameters, (std::vector<Parameter>{{"b", "2"}}));
  std::string tiring = "Content-Type: text/plain; t\x19" + std::string(200, 'x') + "; z=9\r\n\r\n";
  EXPECT_TRUE(parse_structure(tiring).root.parameters.empty());
}

TEST(MimeStructure, FieldsWithoutColonDoNotCount) {
  std::string message = "MIME-Version: 1.0\r\nContent-Type\r\n : text/html\r\nContent-ID\r\n\r\nw\r\n";
  MessageStructure s = parse_structure(message);
  EXPECT_FALSE(s.root.has_content_type);
  EXPECT_FALSE(s.root.id.has_value());
}

TEST(MimeStructure, LargeMessageParsesInOnePass) {
  // 40 MB: a text part and a big base64 attachment.
  std::string line(76, 'Q');
  line += "\r\n";
  std::string message =
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=big\r\n\r\n--big\r\n\r\nhello\r\n"
      "--big\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  const std::size_t lines = 40'000'000 / line.size();
  message.reserve(message.size() + lines * line.size() + 32);
  for (std::size_t i = 0; i < lines; ++i) message += line;
  message += "--big--\r\n";
  MessageStructure s = parse_structure(message);
  ASSERT_EQ(s.root.children.size(), 2u);
  EXPECT_EQ(part(s, {2}).body.length, lines * line.size() - 2);
  EXPECT_EQ(part(s, {2}).body_lines, lines - 1);
  EXPECT_EQ(s.root.whole.length, message.size());
}

TEST(MimeStructure, HostileNestingIsCutOffNotCrashing) {
  std::string message;
  for (int i = 0; i < 5000; ++i) {
    message += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" + std::to_string(i) + "\r\n";
  }
  message += "\r\nbottom\r\n";
  MessageStructure s = parse_structure(message);
  EXPECT_TRUE(s.truncated);
  expect_spans_inside(s.root, 0, message.size());

  std::string rfc822;
  for (int i = 0; i < 5000; ++i) rfc822 += "Content-Type: message/rfc822\r\n\r\n";
  s = parse_structure(rfc822);
  EXPECT_TRUE(s.truncated);
  expect_spans_inside(s.root, 0, rfc822.size());
}

TEST(MimeStructure, TooManyPartsAreKeptInTheBody) {
  std::string message = "Content-Type: multipart/mixed; boundary=m\r\n\r\n";
  for (int i = 0; i < 20000; ++i) message += "--m\r\n\r\nx\r\n";
  MessageStructure s = parse_structure(message);
  EXPECT_TRUE(s.truncated);
  EXPECT_LT(s.root.children.size(), 10000u);
  expect_spans_inside(s.root, 0, message.size());
}

TEST(MimeStructure, RandomMutationsStayInBounds) {
  const std::string seed =
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=s\r\n\r\n--s\r\nContent-Type: message/rfc822\r\n\r\n"
      "From: a <b@c>\r\nContent-Type: multipart/alternative; boundary=t; x*0*=a'b'c; x*1=d\r\n\r\n--t\r\n\r\nq\r\n--t--\r\n"
      "--s\r\nContent-Type: text/plain; charset=\"x\r\n--s--\r\n";
  std::mt19937 random(42);
  for (int round = 0; round < 3000; ++round) {
    std::string message = seed;
    int edits = 1 + static_cast<int>(random() % 8);
    for (int e = 0; e < edits && !message.empty(); ++e) {
      std::size_t at = random() % message.size();
      switch (random() % 3) {
        case 0: message[at] = static_cast<char>(random() % 256); break;
        case 1: message.erase(at, 1 + random() % 10); break;
        default: message.insert(at, message.substr(random() % message.size(), random() % 20)); break;
      }
    }
    MessageStructure s = parse_structure(message);
    expect_spans_inside(s.root, 0, message.size());
    for (const Number& number : part_numbers(s)) ASSERT_NE(find_part(s, number), nullptr);
  }
}

}  // namespace
}  // namespace mailtrixy::mime
