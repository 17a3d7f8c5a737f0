#include "mailtrixy/net/listen_address.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailtrixy::net {
namespace {

TEST(ListenAddress, ParsesTheAcceptedForms) {
  struct Case {
    const char* text;
    const char* host;
    std::uint16_t port;
  };
  for (const Case& c : {Case{"127.0.0.1:8443", "127.0.0.1", 8443}, Case{"0.0.0.0:0", "0.0.0.0", 0},
                        Case{"localhost:65535", "localhost", 65535}, Case{"[::1]:1993", "::1", 1993},
                        Case{"[::]:443", "::", 443}, Case{"mail.example.org:1143", "mail.example.org", 1143}}) {
    const auto parsed = parse_listen_address(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.error().message;
    EXPECT_EQ(parsed->host, c.host) << c.text;
    EXPECT_EQ(parsed->port, c.port) << c.text;
    EXPECT_EQ(parsed->to_string(), c.text) << "round trip";
  }
}

TEST(ListenAddress, ExplainsEveryBadForm) {
  struct Case {
    const char* text;
    const char* expected;  // a part of the message
  };
  for (const Case& c : {
           Case{"", "listen address is empty"},
           Case{"8443", "\"8443\" has no port"},
           Case{":8443", "\":8443\" has no host; use 0.0.0.0"},
           Case{"localhost:", "has an empty port"},
           Case{"localhost:https", "has port \"https\", which is not a number from 0 to 65535"},
           Case{"localhost:65536", "has port \"65536\""},
           Case{"localhost:-1", "has port \"-1\""},
           Case{"localhost:80x", "has port \"80x\""},
           Case{"::1:8443", "looks like an IPv6 address without brackets; write it as [address]:port"},
           Case{"[::1:8443", "has an unclosed '['"},
           Case{"[::1]8443", "has no port after the ']'"},
           Case{"[127.0.0.1]:80", "brackets around something that is not an IPv6 address"},
           Case{"local]host:80", "stray bracket"},
           Case{"my host:80", "invalid characters"},
       }) {
    const auto parsed = parse_listen_address(c.text);
    ASSERT_FALSE(parsed.ok()) << "accepted \"" << c.text << "\"";
    EXPECT_NE(parsed.error().message.find(c.expected), std::string::npos)
        << "for \"" << c.text << "\": " << parsed.error().message;
  }
}

}  // namespace
}  // namespace mailtrixy::net
