#include "mailtrixy/smtp/command.hpp"

#include <gtest/gtest.h>

namespace mailtrixy::smtp {
namespace {

TEST(SmtpCommand, SplitUppercasesTheVerb) {
  const CommandLine command = split_command("  mail   FROM:<a@b.c> SIZE=10  ");
  EXPECT_EQ(command.verb, "MAIL");
  EXPECT_EQ(command.arguments, "FROM:<a@b.c> SIZE=10");
  EXPECT_EQ(split_command("quit").arguments, "");
  EXPECT_EQ(split_command("").verb, "");
}

TEST(SmtpCommand, PathWithParameters) {
  auto path = parse_path_argument("from:<Alice@Example.com> size=123 BODY=8BITMIME SMTPUTF8", "FROM:");
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ(path->address, "Alice@Example.com");
  ASSERT_EQ(path->parameters.size(), 3u);
  EXPECT_EQ(path->parameters[0].keyword, "SIZE");
  EXPECT_EQ(path->parameters[0].value, "123");
  EXPECT_EQ(path->parameters[1].value, "8BITMIME");
  EXPECT_EQ(path->parameters[2].keyword, "SMTPUTF8");
  EXPECT_FALSE(path->parameters[2].value);
}

TEST(SmtpCommand, PathForms) {
  EXPECT_EQ(parse_path_argument("FROM: <a@b.c>", "FROM:")->address, "a@b.c");
  EXPECT_EQ(parse_path_argument("FROM:a@b.c", "FROM:")->address, "a@b.c");
  EXPECT_EQ(parse_path_argument("FROM:<>", "FROM:")->address, "");
  EXPECT_EQ(parse_path_argument("TO:<@relay.example,@r2.example:bob@x.org>", "TO:")->address, "bob@x.org");
  EXPECT_EQ(parse_path_argument("TO:<\"odd > name\"@x.org>", "TO:")->address, "\"odd > name\"@x.org");
}

TEST(SmtpCommand, MalformedPaths) {
  EXPECT_FALSE(parse_path_argument("<a@b.c>", "FROM:"));
  EXPECT_FALSE(parse_path_argument("FROM:", "FROM:"));
  EXPECT_FALSE(parse_path_argument("FROM:<a@b.c", "FROM:"));
  EXPECT_FALSE(parse_path_argument("FROM:<a@b.c>SIZE=1", "FROM:"));
  EXPECT_FALSE(parse_path_argument("TO:<@relay>", "TO:"));
  EXPECT_FALSE(parse_path_argument("TO:<a@b.c> =x", "TO:"));
  EXPECT_FALSE(parse_path_argument("TO:<a@b.c> S!ZE=1", "TO:"));
}

TEST(SmtpCommand, AddressChecks) {
  EXPECT_EQ(check_address("a.b+tag@example.com", false), AddressCheck::ok);
  EXPECT_EQ(check_address("\"john doe\"@example.com", false), AddressCheck::ok);
  EXPECT_EQ(check_address("x@[192.0.2.1]", false), AddressCheck::ok);
  EXPECT_EQ(check_address("nodomain", false), AddressCheck::bad_syntax);
  EXPECT_EQ(check_address("@example.com", false), AddressCheck::bad_syntax);
  EXPECT_EQ(check_address("a..b@example.com", false), AddressCheck::bad_syntax);
  EXPECT_EQ(check_address(".a@example.com", false), AddressCheck::bad_syntax);
  EXPECT_EQ(check_address("a@-example.com", false), AddressCheck::bad_syntax);
  EXPECT_EQ(check_address("a@example..com", false), AddressCheck::bad_syntax);
  EXPECT_EQ(check_address("a b@example.com", false), AddressCheck::bad_syntax);
  EXPECT_EQ(check_address(std::string(65, 'a') + "@example.com", false), AddressCheck::bad_syntax);
}

TEST(SmtpCommand, Utf8AddressesNeedSmtputf8) {
  const std::string address = "j\xC3\xBCrgen@b\xC3\xBC" "cher.example";  // jürgen@bücher.example
  EXPECT_EQ(check_address(address, false), AddressCheck::needs_smtputf8);
  EXPECT_EQ(check_address(address, true), AddressCheck::ok);
  EXPECT_EQ(check_address("\xC3(@example.com", true), AddressCheck::bad_syntax);      // broken sequence
  EXPECT_EQ(check_address("\xC0\xAF@example.com", true), AddressCheck::bad_syntax);   // overlong
  EXPECT_EQ(check_address("\xED\xA0\x80@example.com", true), AddressCheck::bad_syntax);  // surrogate
}

TEST(SmtpCommand, AddressesCompareCaseInsensitively) {
  EXPECT_TRUE(same_address("Alice.Smith@Outlook.COM", "alice.smith@outlook.com"));
  EXPECT_FALSE(same_address("alice@outlook.com", "alice2@outlook.com"));
  EXPECT_EQ(address_key("J\xC3\x9CRGEN@X.org"), "j\xC3\x9Crgen@x.org");
}

}  // namespace
}  // namespace mailtrixy::smtp
