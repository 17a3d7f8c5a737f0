#include "values.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mailtrixy::config::detail {
namespace {

using ::testing::HasSubstr;

TEST(ConfigValues, ListenAddressSplitsHostAndPort) {
  auto v4 = parse_listen_address("127.0.0.1:1143", "x");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 1143);
  auto v6 = parse_listen_address("[::1]:65535", "x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 65535);
  EXPECT_EQ(parse_listen_address("0.0.0.0:0", "x")->port, 0);
  EXPECT_FALSE(parse_listen_address("[::1]1143", "x").ok());
  EXPECT_FALSE(parse_listen_address("[nothex]:1", "x").ok());
  EXPECT_FALSE(parse_listen_address("host name:1", "x").ok());
  EXPECT_FALSE(parse_listen_address("a/b:1", "x").ok());
  EXPECT_FALSE(parse_listen_address("a:-1", "x").ok());
}

TEST(ConfigValues, HttpUrlKeepsWhatWasWritten) {
  auto url = parse_http_url("HTTPS://Mail.Example.com:8443/Path/?q=1#f", "x");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->scheme, "HTTPS");
  EXPECT_EQ(url->host, "Mail.Example.com");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->path, "/Path/");
  EXPECT_EQ(url->query, "q=1");
  EXPECT_EQ(url->fragment, "f");

  auto bare = parse_http_url("http://localhost", "x");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->port, std::nullopt);
  EXPECT_EQ(bare->path, "");
  EXPECT_EQ(bare->query, std::nullopt);

  auto v6 = parse_http_url("https://[::1]:8443", "x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");

  EXPECT_THAT(parse_http_url("https://exa mple.com", "x").error().message, HasSubstr("contains spaces"));
  EXPECT_FALSE(parse_http_url("https://example.com:0", "x").ok());
  EXPECT_FALSE(parse_http_url("https://example.com:", "x").ok());
  EXPECT_FALSE(parse_http_url("https://[::1", "x").ok());
}

TEST(ConfigValues, Dates) {
  using namespace std::chrono;
  EXPECT_EQ(*parse_date("2024-02-29"), sys_days(year(2024) / February / day(29)));
  EXPECT_EQ(*parse_date("2026-01-31T23:59:59+00:00"), sys_days(year(2026) / January / day(31)));
  EXPECT_EQ(*parse_date("2026-01-31 12:00"), sys_days(year(2026) / January / day(31)));
  EXPECT_THAT(parse_date("2023-02-29").error().message, HasSubstr("not a valid calendar date"));
  EXPECT_FALSE(parse_date("2026-1-31").ok());
  EXPECT_FALSE(parse_date("2026-01-31X").ok());
  EXPECT_FALSE(parse_date("2026-13-01").ok());
  EXPECT_FALSE(parse_date("").ok());
}

TEST(ConfigValues, Guids) {
  EXPECT_TRUE(is_guid("0a1b2c3d-4e5f-6789-ABCD-ef0123456789"));
  EXPECT_FALSE(is_guid("{0a1b2c3d-4e5f-6789-abcd-ef0123456789}"));
  EXPECT_FALSE(is_guid("0a1b2c3d-4e5f-6789-abcd-ef012345678"));
  EXPECT_FALSE(is_guid("0a1b2c3d-4e5f-6789-abcd_ef0123456789"));
  EXPECT_FALSE(is_guid("0a1b2c3d-4e5f-6789-abcd-ef012345678g"));
}

TEST(ConfigValues, QuotedEscapesAndShortens) {
  EXPECT_EQ(quote_value("a\"b\n\x01"), "\"a\\\"b\\n\\x01\"");
  EXPECT_EQ(quote_value(std::string(100, 'x')), "\"" + std::string(80, 'x') + "...\"");
}

}  // namespace
}  // namespace mailtrixy::config::detail
