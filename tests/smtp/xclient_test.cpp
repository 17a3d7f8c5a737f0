// XCLIENT (src/smtp/verbs/xclient.cpp): only trusted proxies, Postfix's semantics, LOGIN without
// a password through SessionOptions::proxy_login.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "mailtrixy/smtp/session.hpp"
#include "session_test_support.hpp"

namespace mailtrixy::smtp {
namespace {

using testing::FakeLogins;
using testing::kAccountKey;
using testing::kUser;
using testing::lines_of;
using testing::RecordingQueue;

class Xclient : public ::testing::Test {
 protected:
  void open(bool trusted) {
    options.proxy_login = [this](std::string_view user, std::string_view client) {
      proxy_calls.emplace_back(std::string(user) + "|" + std::string(client));
      mail::LoginResult result;
      result.outcome = proxy_outcome;
      if (same_address(user, kUser) || user == "a+be@example.com") {
        result.account_key = kAccountKey;
        result.address = kUser;
        result.reconnect_url = "https://bridge.example/settings/email-accounts";
      } else {
        result.outcome = mail::LoginResult::Outcome::wrong_credentials;
      }
      return result;
    };
    ConnectionInfo info;
    info.peer = "10.0.0.9:40000";
    info.peer_address = "10.0.0.9";
    info.session_id = "x1";
    info.loopback = false;
    info.tls = false;
    info.starttls_available = true;
    info.trusted_proxy = trusted;
    session = std::make_unique<Session>(options, logins, queue, info);
  }
  std::vector<std::string> send(const std::string& input) {
    std::string out;
    EXPECT_EQ(session->receive(input, out), SessionAction::keep_going) << input;
    return lines_of(out);
  }
  std::string reply(const std::string& input) {
    auto lines = send(input);
    EXPECT_EQ(lines.size(), 1u) << input;
    return lines.empty() ? "" : lines.back();
  }
  bool advertises_xclient() {
    for (const std::string& line : send("EHLO proxy.example\r\n")) {
      if (line.find("XCLIENT") != std::string::npos) return true;
    }
    return false;
  }

  SessionOptions options;
  FakeLogins logins;
  RecordingQueue queue;
  std::unique_ptr<Session> session;
  std::vector<std::string> proxy_calls;
  mail::LoginResult::Outcome proxy_outcome = mail::LoginResult::Outcome::ok;
};

TEST_F(Xclient, RefusedAndNotAdvertisedForOtherClients) {
  open(false);
  EXPECT_FALSE(advertises_xclient());
  EXPECT_EQ(reply("XCLIENT ADDR=192.0.2.1 LOGIN=" + std::string(kUser) + "\r\n").substr(0, 10), "550 5.7.0 ");
  EXPECT_TRUE(proxy_calls.empty());
  EXPECT_EQ(reply("MAIL FROM:<" + std::string(kUser) + ">\r\n").substr(0, 9), "530 5.7.0");
}

TEST_F(Xclient, NginxSequenceAuthenticatesWithoutPassword) {
  open(true);
  EXPECT_TRUE(advertises_xclient());
  // What nginx sends (ngx_mail_proxy_module, xclient on): a fresh greeting follows.
  EXPECT_EQ(reply("XCLIENT ADDR=192.0.2.1 LOGIN=" + std::string(kUser) + " NAME=[UNAVAILABLE]\r\n"),
            "220 localhost ESMTP MailTrixy Bridge ready");
  ASSERT_EQ(proxy_calls.size(), 1u);
  EXPECT_EQ(proxy_calls[0], std::string(kUser) + "|192.0.2.1");
  EXPECT_TRUE(logins.calls.empty());  // no password was checked here
  EXPECT_EQ(session->account_key(), kAccountKey);
  // The session starts over: EHLO again, then mail as the account.
  EXPECT_EQ(reply("MAIL FROM:<" + std::string(kUser) + ">\r\n").substr(0, 9), "503 5.5.1");
  send("EHLO client.example\r\n");
  EXPECT_EQ(reply("MAIL FROM:<" + std::string(kUser) + ">\r\n").substr(0, 3), "250");
  EXPECT_EQ(reply("RCPT TO:<bob@example.com>\r\n").substr(0, 3), "250");
}

TEST_F(Xclient, XtextValuesAreDecoded) {
  open(true);
  send("EHLO proxy.example\r\n");
  EXPECT_EQ(reply("XCLIENT LOGIN=Alice.Smith+40outlook.com ADDR=IPV6:2001:db8::1\r\n").substr(0, 3), "220");
  ASSERT_EQ(proxy_calls.size(), 1u);
  EXPECT_EQ(proxy_calls[0], "Alice.Smith@outlook.com|2001:db8::1");
}

TEST_F(Xclient, RawPlusSignsFromNginxStillFindTheAccount) {
  open(true);
  // nginx does not xtext-encode: "a+be@..." could be xtext for "a\xBE@...", so both are tried.
  EXPECT_EQ(reply("XCLIENT LOGIN=a+be@example.com\r\n").substr(0, 3), "220");
  ASSERT_EQ(proxy_calls.size(), 2u);
  EXPECT_EQ(proxy_calls[0], "a\xBE@example.com|10.0.0.9");
  EXPECT_EQ(proxy_calls[1], "a+be@example.com|10.0.0.9");
  EXPECT_EQ(session->account_key(), kAccountKey);
  proxy_calls.clear();
  // Not hex after '+': kept as it is, one lookup.
  EXPECT_EQ(reply("XCLIENT LOGIN=Alice.Smith+zz@outlook.com\r\n").substr(0, 10), "535 5.7.8 ");
  ASSERT_EQ(proxy_calls.size(), 1u);
  EXPECT_EQ(proxy_calls[0], "Alice.Smith+zz@outlook.com|10.0.0.9");
}

TEST_F(Xclient, SyntaxAndStateErrors) {
  open(true);
  EXPECT_EQ(reply("XCLIENT\r\n").substr(0, 10), "501 5.5.4 ");
  EXPECT_EQ(reply("XCLIENT LOGIN\r\n").substr(0, 10), "501 5.5.4 ");
  EXPECT_EQ(reply("XCLIENT COLOUR=blue\r\n").substr(0, 10), "501 5.5.4 ");
  // Not inside a mail transaction.
  send("EHLO proxy.example\r\n");
  ASSERT_EQ(reply("XCLIENT LOGIN=" + std::string(kUser) + "\r\n").substr(0, 3), "220");
  send("EHLO proxy.example\r\n");
  ASSERT_EQ(reply("MAIL FROM:<" + std::string(kUser) + ">\r\n").substr(0, 3), "250");
  EXPECT_EQ(reply("XCLIENT ADDR=192.0.2.3\r\n").substr(0, 10), "503 5.5.1 ");
}

TEST_F(Xclient, UnknownAccountAndAccountStatesAreRefused) {
  open(true);
  send("EHLO proxy.example\r\n");
  EXPECT_EQ(reply("XCLIENT LOGIN=mallory@example.com\r\n").substr(0, 10), "535 5.7.8 ");
  EXPECT_EQ(session->account_key(), "");
  proxy_outcome = mail::LoginResult::Outcome::needs_sign_in;
  const std::string refused = reply("XCLIENT LOGIN=" + std::string(kUser) + "\r\n");
  EXPECT_EQ(refused.substr(0, 10), "454 4.7.0 ");
  EXPECT_NE(refused.find("https://bridge.example/settings/email-accounts"), std::string::npos);
  proxy_outcome = mail::LoginResult::Outcome::unavailable;
  EXPECT_EQ(reply("XCLIENT LOGIN=" + std::string(kUser) + "\r\n").substr(0, 10), "454 4.7.0 ");
  EXPECT_EQ(session->account_key(), "");
}

TEST_F(Xclient, WithoutProxyLoginTheLoginIsRefused) {
  open(true);
  options.proxy_login = nullptr;
  ConnectionInfo info;
  info.peer = info.peer_address = "10.0.0.9";
  info.loopback = false;
  info.trusted_proxy = true;
  session = std::make_unique<Session>(options, logins, queue, info);
  EXPECT_EQ(reply("XCLIENT LOGIN=" + std::string(kUser) + "\r\n").substr(0, 10), "454 4.7.0 ");
  // ADDR alone is fine: it only names the real client.
  EXPECT_EQ(reply("XCLIENT ADDR=192.0.2.5 NAME=client.example\r\n").substr(0, 3), "220");
}

TEST_F(Xclient, LoginUnavailableDropsTheAuthentication) {
  open(true);
  send("EHLO proxy.example\r\n");
  ASSERT_EQ(reply("XCLIENT LOGIN=" + std::string(kUser) + "\r\n").substr(0, 3), "220");
  EXPECT_EQ(session->account_key(), kAccountKey);
  ASSERT_EQ(reply("XCLIENT LOGIN=[UNAVAILABLE]\r\n").substr(0, 3), "220");
  EXPECT_EQ(session->account_key(), "");
  send("EHLO proxy.example\r\n");
  EXPECT_EQ(reply("MAIL FROM:<" + std::string(kUser) + ">\r\n").substr(0, 9), "530 5.7.0");
}

}  // namespace
}  // namespace mailtrixy::smtp
