#include "mailtrixy/mail/envelope.hpp"

#include <gtest/gtest.h>

namespace mailtrixy::mail {
namespace {

using namespace std::chrono;

constexpr std::string_view kMessage =
    "Received: from mx.example.net\r\n"
    "\tby bridge; Fri, 21 Nov 1997 09:55:06 -0600\r\n"
    "From: \"Doe, Jane\" <jane@example.com>\r\n"
    "To: bob@example.org, Carol <carol@example.org>\r\n"
    "Cc: Team: dave@example.org, (comment) erin@example.org;\r\n"
    "Subject: Quarterly\r\n"
    " report\r\n"
    "Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
    "Message-ID: <1234@local.machine.example>\r\n"
    "In-Reply-To: <1233@local.machine.example>\r\n"
    "\r\n"
    "Subject: not a header, body text\r\n";

TEST(MailEnvelope, HeaderFieldsAreUnfoldedAndStopAtTheBody) {
  auto fields = parse_header_fields(kMessage);
  ASSERT_EQ(fields.size(), 8u);
  EXPECT_EQ(fields[0].name, "Received");
  EXPECT_EQ(fields[0].value, "from mx.example.net by bridge; Fri, 21 Nov 1997 09:55:06 -0600");
  EXPECT_EQ(find_header(fields, "subject"), "Quarterly report");
  EXPECT_FALSE(find_header(fields, "Bcc").has_value());
}

TEST(MailEnvelope, BareLineFeedsAndJunkLinesAreTolerated) {
  auto fields = parse_header_fields("Subject: hi\nnot a header line\nX-A: 1\n\nbody");
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[1].name, "X-A");
  EXPECT_EQ(fields[1].value, "1");
}

TEST(MailEnvelope, EnvelopeFromHeaders) {
  Envelope envelope = parse_envelope(kMessage);
  EXPECT_EQ(envelope.subject, "Quarterly report");
  ASSERT_EQ(envelope.from.size(), 1u);
  EXPECT_EQ(envelope.from[0], (Address{"Doe, Jane", "jane@example.com"}));
  EXPECT_EQ(envelope.sender, envelope.from) << "Sender defaults to From";
  EXPECT_EQ(envelope.reply_to, envelope.from) << "Reply-To defaults to From";
  ASSERT_EQ(envelope.to.size(), 2u);
  EXPECT_EQ(envelope.to[0], (Address{"", "bob@example.org"}));
  EXPECT_EQ(envelope.to[1], (Address{"Carol", "carol@example.org"}));
  ASSERT_EQ(envelope.cc.size(), 2u) << "group members are flattened, comments dropped";
  EXPECT_EQ(envelope.cc[0].address, "dave@example.org");
  EXPECT_EQ(envelope.cc[1].address, "erin@example.org");
  EXPECT_TRUE(envelope.bcc.empty());
  EXPECT_EQ(envelope.message_id, "<1234@local.machine.example>");
  EXPECT_EQ(envelope.in_reply_to, "<1233@local.machine.example>");
  ASSERT_TRUE(envelope.date.has_value());
  EXPECT_EQ(*envelope.date, sys_days{year{1997} / 11 / 21} + hours{15} + minutes{55} + seconds{6});
}

TEST(MailEnvelope, AddressListEdgeCases) {
  auto list = parse_address_list("\"a\\\"b\" <x@y>, <@route,@r2:z@w>, nobody, , last@host");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0], (Address{"a\"b", "x@y"}));
  EXPECT_EQ(list[1].address, "z@w");
  EXPECT_EQ(list[2].address, "last@host");
  EXPECT_TRUE(parse_address_list("").empty());
  EXPECT_TRUE(parse_address_list("undisclosed-recipients:;").empty());
  EXPECT_EQ(parse_address_list("\"Comma, Inside\" <c@d>").size(), 1u);
}

TEST(MailEnvelope, DatesInEveryCommonShape) {
  auto expected = sys_days{year{2024} / 3 / 5} + hours{10} + minutes{20};
  EXPECT_EQ(parse_rfc5322_date("Tue, 5 Mar 2024 10:20:00 +0000"), expected);
  EXPECT_EQ(parse_rfc5322_date("5 Mar 2024 11:20 +0100"), expected);
  EXPECT_EQ(parse_rfc5322_date("Tue, 05 Mar 2024 05:20:00 EST"), expected);
  EXPECT_EQ(parse_rfc5322_date("Tue, 5 Mar 24 10:20:00 GMT (comment)"), expected);
  EXPECT_EQ(parse_rfc5322_date("Tue,5 Mar 2024 10:20:00"), std::nullopt)
      << "a day name glued to the day is not a date";
  EXPECT_FALSE(parse_rfc5322_date("").has_value());
  EXPECT_FALSE(parse_rfc5322_date("yesterday").has_value());
  EXPECT_FALSE(parse_rfc5322_date("31 Feb 2024 10:00:00 +0000").has_value());
  EXPECT_FALSE(parse_rfc5322_date("5 Foo 2024 10:00:00 +0000").has_value());
  EXPECT_FALSE(parse_rfc5322_date("5 Mar 2024 25:00:00 +0000").has_value());
  EXPECT_FALSE(parse_rfc5322_date("5 Mar 2024 10:00:00 +01").has_value());
}

TEST(MailEnvelope, ValidateMessageExplainsWhatIsWrong) {
  EXPECT_TRUE(validate_message("Subject: x\r\n\r\nbody").ok());
  EXPECT_TRUE(validate_message("Subject: headers only").ok());
  auto empty = validate_message("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.code(), ErrorCode::invalid);
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
  auto no_header = validate_message("hello world\r\n");
  ASSERT_FALSE(no_header.ok());
  EXPECT_NE(no_header.error().message.find("header"), std::string::npos);
  EXPECT_FALSE(validate_message(std::string_view("Subject: a\0b", 12)).ok());
  EXPECT_FALSE(validate_message("\r\nbody").ok());
}

}  // namespace
}  // namespace mailtrixy::mail
