#include "mailtrixy/outbox/message_rewrite.hpp"

#include <gtest/gtest.h>

#include <random>

#include "mailtrixy/mail/envelope.hpp"

namespace mailtrixy::outbox {
namespace {

std::vector<std::string> addresses(std::string_view mime, std::string_view field) {
  std::vector<std::string> out;
  for (const auto& header : mail::parse_header_fields(mime)) {
    if (header.name.size() != field.size() || strncasecmp(header.name.c_str(), field.data(), field.size()) != 0) continue;
    for (const auto& address : mail::parse_address_list(header.value)) out.push_back(address.address);
  }
  return out;
}

int count_fields(std::string_view mime, std::string_view field) {
  int count = 0;
  for (const auto& header : mail::parse_header_fields(mime)) {
    if (strncasecmp(header.name.c_str(), field.data(), field.size()) == 0 && header.name.size() == field.size()) ++count;
  }
  return count;
}

constexpr std::string_view kMessage =
    "From: Alice <alice@outlook.com>\r\n"
    "To: Bob <bob@example.com>, \"Carol, C.\" <carol@example.com>\r\n"
    "Cc: dave@example.com\r\n"
    "Subject: Plans\r\n"
    "\r\n"
    "Body line\r\n";

TEST(ApplyEnvelope, KeepsHeadersUntouchedWhenTheyMatchTheEnvelope) {
  const std::string out =
      apply_envelope(kMessage, {"bob@example.com", "carol@example.com", "dave@example.com"});
  EXPECT_EQ(out, kMessage);
}

TEST(ApplyEnvelope, AddsEnvelopeOnlyRecipientsAsBcc) {
  const std::string out = apply_envelope(
      kMessage, {"bob@example.com", "carol@example.com", "dave@example.com", "eve@example.com", "FRANK@example.com"});
  EXPECT_EQ(addresses(out, "Bcc"), (std::vector<std::string>{"eve@example.com", "FRANK@example.com"}));
  EXPECT_EQ(addresses(out, "To"), (std::vector<std::string>{"bob@example.com", "carol@example.com"}));
  EXPECT_TRUE(out.ends_with("\r\n\r\nBody line\r\n"));
}

TEST(ApplyEnvelope, RemovesHeaderRecipientsOutsideTheEnvelope) {
  const std::string out = apply_envelope(kMessage, {"CAROL@example.com"});
  EXPECT_EQ(addresses(out, "To"), (std::vector<std::string>{"carol@example.com"}));
  EXPECT_EQ(count_fields(out, "Cc"), 0);
  EXPECT_EQ(count_fields(out, "Bcc"), 0);
  // The display name with a comma survives the rewrite, quoted.
  EXPECT_NE(out.find("\"Carol, C.\" <carol@example.com>"), std::string::npos);
}

TEST(ApplyEnvelope, KeepsOnlyEnvelopeBccAndNeverDuplicates) {
  const std::string message =
      "From: alice@outlook.com\r\nTo: bob@example.com\r\nBcc: secret@example.com, gone@example.com\r\n"
      "Bcc: bob@example.com\r\nSubject: x\r\n\r\nhi\r\n";
  const std::string out = apply_envelope(message, {"bob@example.com", "secret@example.com", "secret@example.com"});
  EXPECT_EQ(addresses(out, "Bcc"), (std::vector<std::string>{"secret@example.com"}));
  EXPECT_EQ(count_fields(out, "Bcc"), 1);
  EXPECT_EQ(addresses(out, "To"), (std::vector<std::string>{"bob@example.com"}));
}

TEST(ApplyEnvelope, KeepsBareLineEndings) {
  const std::string message = "From: a@b.c\nTo: x@y.z\nSubject: s\n\nbody\n";
  const std::string out = apply_envelope(message, {"w@y.z"});
  EXPECT_EQ(out, "From: a@b.c\nSubject: s\nBcc: w@y.z\n\nbody\n");
}

TEST(ApplyEnvelope, HandlesFoldedFieldsAndMessagesWithoutBody) {
  const std::string message = "To: a@x.org,\r\n b@x.org\r\nSubject: s\r\n";
  const std::string out = apply_envelope(message, {"b@x.org"});
  EXPECT_EQ(addresses(out, "To"), (std::vector<std::string>{"b@x.org"}));
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
}

TEST(MessageId, FindsAddsAndMakesIds) {
  EXPECT_EQ(message_id_of("Message-ID:  <abc@host>  \r\n\r\n"), "<abc@host>");
  EXPECT_FALSE(message_id_of("Subject: none\r\n\r\n").has_value());
  EXPECT_FALSE(message_id_of("Message-ID: garbage\r\n\r\n").has_value());
  const std::string id = make_message_id("q123", "Alice@Outlook.COM");
  EXPECT_TRUE(id.starts_with("<q123."));
  EXPECT_TRUE(id.ends_with("@outlook.com>"));
  EXPECT_NE(make_message_id("q123", "alice@outlook.com"), make_message_id("q123", "alice@outlook.com"));
  const std::string added = add_message_id("Subject: s\nTo: a@b.c\n\nx\n", id);
  EXPECT_EQ(message_id_of(added), id);
  EXPECT_TRUE(added.starts_with("Message-ID: " + id + "\n"));
  EXPECT_EQ(added, "Message-ID: " + id + "\nSubject: s\nTo: a@b.c\n\nx\n");
  const std::string replaced = add_message_id("Message-ID: not-an-id\r\nSubject: s\r\n\r\nx\r\n", id);
  EXPECT_EQ(replaced, "Message-ID: " + id + "\r\nSubject: s\r\n\r\nx\r\n");
}

TEST(Bounce, IsAnRfc3464ReportWithTheOriginalHeaders) {
  BounceReport report;
  report.queue_id = "q1";
  report.envelope_from = "alice@outlook.com";
  report.recipients = {"bob@example.com", "carol@example.com"};
  report.original_mime = std::string(kMessage);
  report.reason = "Microsoft refused to send the message: Graph answered 413.\r\nsecond line";
  report.status = "5.3.4";
  report.arrival = report.now = std::chrono::system_clock::now();
  const std::string dsn = build_bounce(report);
  EXPECT_TRUE(mail::validate_message(dsn).ok());
  const auto fields = mail::parse_header_fields(dsn);
  EXPECT_EQ(mail::find_header(fields, "To"), "<alice@outlook.com>");
  EXPECT_NE(mail::find_header(fields, "Content-Type")->find("report-type=delivery-status"), std::string::npos);
  EXPECT_NE(dsn.find("Final-Recipient: rfc822; bob@example.com\r\nAction: failed\r\nStatus: 5.3.4"), std::string::npos);
  EXPECT_NE(dsn.find("Final-Recipient: rfc822; carol@example.com"), std::string::npos);
  EXPECT_NE(dsn.find("Content-Type: text/rfc822-headers\r\n"), std::string::npos);
  EXPECT_NE(dsn.find("Subject: Plans\r\n"), std::string::npos);
  EXPECT_EQ(dsn.find("Body line"), std::string::npos) << "only the headers of the original are returned";
  EXPECT_EQ(dsn.find("413.\r\nsecond"), std::string::npos) << "the reason stays on one header line";
}

TEST(ApplyEnvelope, NeverCrashesOnHostileHeaders) {
  const std::vector<std::string> pieces = {"To:", "Cc: ", "Bcc:", "Message-ID: <", ">", "a@b.c", "\"x, y\" <", "(c)",
                                           ",", ";", ":", " ", "\t", "\r\n", "\n", "\r", "@", "=?utf-8?q?x?=", "\0"};
  std::mt19937 random(7);
  for (int round = 0; round < 3000; ++round) {
    std::string mime;
    const int count = static_cast<int>(random() % 40);
    for (int i = 0; i < count; ++i) mime += pieces[random() % pieces.size()];
    const std::string out = apply_envelope(mime, {"a@b.c", "z@y.x"});
    EXPECT_FALSE(out.empty());
    (void)message_id_of(out);
    (void)add_message_id(mime, "<id@x>");
    (void)header_section(mime);
  }
}

}  // namespace
}  // namespace mailtrixy::outbox
