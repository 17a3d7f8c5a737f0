#include "mailtrixy/web/forms.hpp"

#include <gtest/gtest.h>

namespace mailtrixy::web {
namespace {

TEST(PercentDecode, DecodesEscapesAndPlus) {
  EXPECT_EQ(percent_decode("a%20b+c%2Bd", true), "a b c+d");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("%e2%82%AC", false), "\xe2\x82\xac");
}

TEST(PercentDecode, RefusesMalformedEscapesAndNul) {
  EXPECT_EQ(percent_decode("%", true), std::nullopt);
  EXPECT_EQ(percent_decode("%4", true), std::nullopt);
  EXPECT_EQ(percent_decode("abc%4", true), std::nullopt);
  EXPECT_EQ(percent_decode("%zz", true), std::nullopt);
  EXPECT_EQ(percent_decode("a%00b", true), std::nullopt);
}

TEST(PercentEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(percent_encode("alice+tag@outlook.com"), "alice%2Btag%40outlook.com");
  EXPECT_EQ(percent_encode("A-z_0.9~"), "A-z_0.9~");
  EXPECT_EQ(percent_encode("a b/c"), "a%20b%2Fc");
}

TEST(FormFields, ParsesInOrderAndDropsBrokenFields) {
  const FormFields form = FormFields::parse("a=1&b=two+words&&c=%zz&=empty&a=again&flag");
  EXPECT_EQ(form.get("a"), "1");
  EXPECT_EQ(form.get("b"), "two words");
  EXPECT_EQ(form.get("c"), std::nullopt);
  EXPECT_EQ(form.get("flag"), "");
  EXPECT_TRUE(form.repeated("a"));
  EXPECT_FALSE(form.repeated("b"));
  EXPECT_EQ(form.all().size(), 4u);
}

TEST(ReadCookie, FindsTheNamedCookieAcrossHeaders) {
  net::HttpRequest request;
  request.headers = {{"cookie", "other=1; session=abc"}, {"Cookie", "late=\"quoted\""}};
  EXPECT_EQ(read_cookie(request, "session"), "abc");
  EXPECT_EQ(read_cookie(request, "late"), "quoted");
  EXPECT_EQ(read_cookie(request, "missing"), std::nullopt);
  EXPECT_EQ(read_cookie(request, "sess"), std::nullopt);
}

TEST(SetCookie, CarriesTheRequestedAttributes) {
  CookieOptions options;
  options.max_age = 60;
  EXPECT_EQ(set_cookie_value("__Host-s", "v", options),
            "__Host-s=v; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax");
  options.secure = false;
  options.max_age.reset();
  EXPECT_EQ(set_cookie_value("s", "v", options), "s=v; Path=/; HttpOnly; SameSite=Lax");
}

TEST(OriginOf, NormalisesSchemeHostAndDefaultPorts) {
  EXPECT_EQ(origin_of("https://LocalHost:8443/settings?x=1"), "https://localhost:8443");
  EXPECT_EQ(origin_of("https://mail.example.com:443/"), "https://mail.example.com");
  EXPECT_EQ(origin_of("http://[::1]:80"), "http://[::1]");
  EXPECT_EQ(origin_of("http://[::1]"), "http://[::1]");
  EXPECT_EQ(origin_of("null"), std::nullopt);
  EXPECT_EQ(origin_of("ftp://x"), std::nullopt);
  EXPECT_EQ(origin_of("https://user@evil.example"), std::nullopt);
}

}  // namespace
}  // namespace mailtrixy::web
