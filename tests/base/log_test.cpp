#include "mailtrixy/base/log.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailtrixy::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_sink([](std::string_view line, void* context) { static_cast<std::string*>(context)->append(line); },
             &captured_);
  }
  void TearDown() override {
    set_sink(nullptr, nullptr);
    configure(Level::info, Format::text);
  }
  std::string captured_;
};

TEST_F(LogTest, TextFormatHasLevelMessageAndFields) {
  configure(Level::info, Format::text);
  info("web listening", {{"address", "127.0.0.1:8443"}, {"sessions", 3}});
  EXPECT_NE(captured_.find(" info web listening address=127.0.0.1:8443 sessions=3\n"), std::string::npos)
      << captured_;
}

TEST_F(LogTest, JsonFormatIsOneEscapedObjectPerLine) {
  configure(Level::debug, Format::json);
  warn("quote \" and\nnewline", {{"k", "v"}});
  EXPECT_NE(captured_.find(R"("level":"warn","msg":"quote \" and\nnewline","k":"v"})"), std::string::npos)
      << captured_;
  EXPECT_EQ(captured_.back(), '\n');
}

TEST_F(LogTest, LinesBelowTheLevelAreDropped) {
  configure(Level::warn, Format::text);
  info("dropped");
  debug("dropped");
  EXPECT_TRUE(captured_.empty());
  error("kept");
  EXPECT_NE(captured_.find("kept"), std::string::npos);
}

TEST_F(LogTest, SecretsInMessagesAndFieldsAreRedacted) {
  configure(Level::info, Format::json);
  info("token response refresh_token=0.AXoA-very-secret", {{"body", "client_secret=abc123&x=1"}});
  EXPECT_EQ(captured_.find("very-secret"), std::string::npos) << captured_;
  EXPECT_EQ(captured_.find("abc123"), std::string::npos) << captured_;
}

TEST(LogParse, LevelsAndFormats) {
  Level level{};
  EXPECT_TRUE(parse_level("debug", level));
  EXPECT_EQ(level, Level::debug);
  EXPECT_FALSE(parse_level("verbose", level));
  Format format{};
  EXPECT_TRUE(parse_format("json", format));
  EXPECT_EQ(format, Format::json);
  EXPECT_FALSE(parse_format("xml", format));
}

}  // namespace
}  // namespace mailtrixy::log
