#include "options.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailtrixy::emulator {
namespace {

Result<CommandLine> parse(std::vector<std::string_view> words) { return parse_command_line(words); }

std::string error_of(std::vector<std::string_view> words) {
  auto result = parse(std::move(words));
  EXPECT_FALSE(result.ok());
  return result.ok() ? std::string() : result.error().message;
}

TEST(EmulatorOptions, ParsesTheFullCommandLineOfTheSpec) {
  auto result = parse({"--listen", "127.0.0.1:0", "--cert", "c.pem", "--key", "k.pem",            //
                       "--client", "6731de76-14a6-49ae-97bc-6eba6914391e:sec:ret~value",            //
                       "--redirect-uri", "https://localhost:8443/email-oauth/microsoft/callback",  //
                       "--redirect-uri=https://example.test/cb",                                    //
                       "--client", "11112222-bbbb-3333-cccc-4444dddd5555:other",                   //
                       "--user", "alice@outlook.com:pa:ss", "--user=bob@contoso.onmicrosoft.com:pw",
                       "--seed", "alice@outlook.com=seed/alice", "--access-token-lifetime", "2",
                       "--latency", "500", "--locale", "de", "--threads", "8"});
  ASSERT_TRUE(result.ok()) << result.error().message;
  const EmulatorOptions& options = result->options;
  EXPECT_EQ(options.listen, "127.0.0.1:0");
  EXPECT_EQ(options.cert, "c.pem");
  EXPECT_EQ(options.key, "k.pem");
  ASSERT_EQ(options.clients.size(), 2u);
  EXPECT_EQ(options.clients[0].client_id, "6731de76-14a6-49ae-97bc-6eba6914391e");
  EXPECT_EQ(options.clients[0].secret, "sec:ret~value");  // split at the first colon only
  ASSERT_EQ(options.clients[0].redirect_uris.size(), 2u);
  EXPECT_EQ(options.clients[0].redirect_uris[1], "https://example.test/cb");
  EXPECT_TRUE(options.clients[1].redirect_uris.empty());
  ASSERT_EQ(options.users.size(), 2u);
  EXPECT_EQ(options.users[0].address, "alice@outlook.com");
  EXPECT_EQ(options.users[0].password, "pa:ss");
  ASSERT_EQ(options.seeds.size(), 1u);
  EXPECT_EQ(options.seeds[0].second, "seed/alice");
  EXPECT_EQ(options.access_token_lifetime, std::chrono::seconds(2));
  EXPECT_EQ(options.latency, std::chrono::milliseconds(500));
  EXPECT_EQ(options.locale, Locale::german);
  EXPECT_EQ(options.threads, 8);
  EXPECT_FALSE(result->help);
}

TEST(EmulatorOptions, DefaultsMatchTheSpec) {
  auto result = parse({"--cert", "c", "--key", "k"});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->options.listen, "127.0.0.1:0");
  EXPECT_EQ(result->options.access_token_lifetime, std::chrono::seconds(3599));
  EXPECT_EQ(result->options.latency, std::chrono::milliseconds(0));
  EXPECT_EQ(result->options.locale, Locale::english);
}

TEST(EmulatorOptions, HelpNeedsNothingElse) {
  auto result = parse({"--help"});
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->help);
  EXPECT_NE(usage_text().find("--access-token-lifetime"), std::string_view::npos);
}

TEST(EmulatorOptions, EveryBadInputNamesTheOptionAndTheFix) {
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--bogus"}).find("unknown option '--bogus'"), std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--user"}).find("--user needs a value"), std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--client", "no-colon"}).find("must be ID:SECRET"),
            std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--client", "id:"}).find("must be ID:SECRET"), std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--redirect-uri", "https://x/cb"}).find("must follow the --client"),
            std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--client", "a:b", "--redirect-uri", "not-a-uri"})
                .find("not an absolute URI"),
            std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--user", "alice:pw"}).find("must be EMAIL:PASSWORD"),
            std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--user", "alice@outlook.com"}).find("must be EMAIL:PASSWORD"),
            std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--user", "a@x.com:1", "--user", "A@X.com:2"}).find("twice"),
            std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--client", "a:1", "--client", "A:2"}).find("twice"),
            std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--seed", "nobody@x.com=dir"}).find("names no --user"),
            std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--seed", "nodir"}).find("must be EMAIL=DIR"), std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--access-token-lifetime", "0"}).find("from 1 to 86400"),
            std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--access-token-lifetime", "1h"}).find("whole number"),
            std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--latency", "-5"}).find("--latency"), std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--locale", "fr"}).find("use de or en"), std::string::npos);
  EXPECT_NE(error_of({"--cert", "c", "--key", "k", "--listen", "nohost"}).find("--listen"), std::string::npos);
  EXPECT_NE(error_of({"--key", "k"}).find("--cert FILE and --key FILE are required"), std::string::npos);
}

}  // namespace
}  // namespace mailtrixy::emulator
