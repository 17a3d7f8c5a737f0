#include "mailtrixy/smtp/parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailtrixy::smtp {
namespace {

std::vector<InputEvent> drain(InputParser& parser) {
  std::vector<InputEvent> events;
  while (auto event = parser.next()) events.push_back(std::move(*event));
  return events;
}

TEST(SmtpParser, SplitsCrlfAndBareLfLines) {
  InputParser parser;
  parser.feed("EHLO a\r\nNOOP\nQUIT\r\n");
  auto events = drain(parser);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].line, "EHLO a");
  EXPECT_EQ(events[1].line, "NOOP");
  EXPECT_EQ(events[2].line, "QUIT");
}

TEST(SmtpParser, WaitsForTheLineEndAcrossFeeds) {
  InputParser parser;
  parser.feed("EH");
  EXPECT_FALSE(parser.next());
  parser.feed("LO a\r");
  EXPECT_FALSE(parser.next());
  parser.feed("\n");
  auto event = parser.next();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->line, "EHLO a");
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(SmtpParser, OverlongLineIsReportedOnceAndSkipped) {
  InputParser parser(ParserLimits{16});
  parser.feed(std::string(40, 'x'));
  auto events = drain(parser);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, InputEvent::Kind::line_too_long);
  EXPECT_LE(parser.buffered(), 16u);
  parser.feed(std::string(40, 'y') + "\r\nNOOP\r\n");
  events = drain(parser);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, InputEvent::Kind::line);
  EXPECT_EQ(events[0].line, "NOOP");
}

TEST(SmtpParser, OverlongCompleteLineIsReported) {
  InputParser parser(ParserLimits{8});
  parser.feed("123456789\r\n12345678\r\n");
  auto events = drain(parser);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, InputEvent::Kind::line_too_long);
  EXPECT_EQ(events[1].line, "12345678");
}

TEST(SmtpParser, DataIsUnstuffedAndNormalisedToCrlf) {
  InputParser parser;
  parser.begin_data(1000);
  parser.feed("Subject: x\r\n\r\n..leading dot\nbare lf line\nend\r\n.\r\nQUIT\r\n");
  auto events = drain(parser);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, InputEvent::Kind::data_complete);
  EXPECT_FALSE(events[0].too_big);
  EXPECT_EQ(events[0].data, "Subject: x\r\n\r\n.leading dot\r\nbare lf line\r\nend\r\n");
  EXPECT_EQ(events[0].data_size, events[0].data.size());
  EXPECT_EQ(events[1].line, "QUIT");
  EXPECT_FALSE(parser.in_data());
}

TEST(SmtpParser, TerminatorWithBareLf) {
  InputParser parser;
  parser.begin_data(1000);
  parser.feed("a\n.\nNOOP\n");
  auto events = drain(parser);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "a\r\n");
  EXPECT_EQ(events[1].line, "NOOP");
}

TEST(SmtpParser, DataSplitAtEveryByteGivesTheSameMessage) {
  const std::string input = "a\r\n..b\r\nc\rd\n.x\r\n.\r\nNOOP\r\n";
  InputParser whole;
  whole.begin_data(1000);
  whole.feed(input);
  auto expected = drain(whole);
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_EQ(expected[0].data, "a\r\n.b\r\nc\rd\r\nx\r\n");

  InputParser bytewise;
  bytewise.begin_data(1000);
  std::vector<InputEvent> events;
  for (char c : input) {
    bytewise.feed(std::string(1, c));
    while (auto event = bytewise.next()) events.push_back(std::move(*event));
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, expected[0].data);
  EXPECT_EQ(events[1].line, "NOOP");
}

TEST(SmtpParser, OversizeDataIsDiscardedToTheTerminator) {
  InputParser parser;
  parser.begin_data(10);
  parser.feed("0123456789\r\n");
  EXPECT_FALSE(parser.next());
  for (int i = 0; i < 100; ++i) parser.feed(std::string(1000, 'z') + "\r\n");
  EXPECT_FALSE(parser.next());
  EXPECT_LT(parser.buffered(), 1100u);  // nothing past the limit is kept
  parser.feed(".\r\nRSET\r\n");
  auto events = drain(parser);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].too_big);
  EXPECT_TRUE(events[0].data.empty());
  EXPECT_EQ(events[0].data_size, 12u + 100u * 1002u);
  EXPECT_EQ(events[1].line, "RSET");
}

TEST(SmtpParser, MessageExactlyAtTheLimitIsKept) {
  InputParser parser;
  parser.begin_data(5);
  parser.feed("abc\r\n.\r\n");
  auto events = drain(parser);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].too_big);
  EXPECT_EQ(events[0].data, "abc\r\n");
}

TEST(SmtpParser, EmptyMessage) {
  InputParser parser;
  parser.begin_data(5);
  parser.feed(".\r\n");
  auto events = drain(parser);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, InputEvent::Kind::data_complete);
  EXPECT_EQ(events[0].data, "");
}

TEST(SmtpParser, DiscardBufferedDropsPipelinedPlaintext) {
  InputParser parser;
  parser.feed("STARTTLS\r\nAUTH PLAIN AGZvbwBiYXI=\r\n");
  auto event = parser.next();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->line, "STARTTLS");
  parser.discard_buffered();
  EXPECT_FALSE(parser.next());
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(SmtpParser, LongDataLinesAreAccepted) {
  InputParser parser(ParserLimits{16});
  parser.begin_data(100000);
  const std::string line(5000, 'q');
  parser.feed(line + "\r\n.\r\n");
  auto events = drain(parser);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, line + "\r\n");
}

}  // namespace
}  // namespace mailtrixy::smtp
