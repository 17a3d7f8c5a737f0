#include "mailtrixy/smtp/reply.hpp"

#include <gtest/gtest.h>

namespace mailtrixy::smtp {
namespace {

TEST(SmtpReply, SingleLineWithEnhancedCode) {
  std::string out;
  append_reply(out, 250, "2.1.0", "Sender ok");
  EXPECT_EQ(out, "250 2.1.0 Sender ok\r\n");
}

TEST(SmtpReply, TextCannotBreakTheFraming) {
  std::string out;
  append_reply(out, 451, "4.3.0", "line one\r\n250 fake");
  EXPECT_EQ(out, "451 4.3.0 line one  250 fake\r\n");
}

TEST(SmtpReply, Multiline) {
  std::string out;
  append_multiline(out, 250, {"host Hello x", "PIPELINING", "SMTPUTF8"});
  EXPECT_EQ(out, "250-host Hello x\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n");
}

TEST(SmtpReply, SubmissionErrors) {
  using mail::ErrorCode;
  EXPECT_EQ(reply_for_submission_error({ErrorCode::too_big, "big"}).code, 552);
  EXPECT_EQ(reply_for_submission_error({ErrorCode::too_big, "big"}).status, "5.3.4");
  EXPECT_EQ(reply_for_submission_error({ErrorCode::unavailable, "later"}).code, 451);
  EXPECT_EQ(reply_for_submission_error({ErrorCode::unavailable, "later"}).status, "4.3.0");
  EXPECT_EQ(reply_for_submission_error({ErrorCode::internal, ""}).code, 451);
  EXPECT_EQ(reply_for_submission_error({ErrorCode::invalid, "bad"}).code, 554);
  EXPECT_EQ(reply_for_submission_error({ErrorCode::invalid, "bad"}).text, "bad");
}

}  // namespace
}  // namespace mailtrixy::smtp
