#include "mailtrixy/imap/session.hpp"

#include <gtest/gtest.h>

#include "harness.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/crypto/encoding.hpp"

namespace mailtrixy::imap {
namespace {

using testing::Harness;
using testing::last_line;
using testing::lines;

constexpr std::string_view kCaps =
    "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE SPECIAL-USE CHILDREN LIST-EXTENDED "
    "LIST-STATUS XLIST";

std::string plain_response(std::string_view authzid, std::string_view user, std::string_view password) {
  std::string raw(authzid);
  raw += '\0';
  raw += user;
  raw += '\0';
  raw += password;
  return crypto::base64_encode(raw);
}

TEST(ImapSession, GreetingCarriesCapabilities) {
  Harness h;
  EXPECT_EQ(h.session->greeting(),
            "* OK [CAPABILITY " + std::string(kCaps) + " AUTH=PLAIN] MailTrixy Bridge ready.\r\n");
}

TEST(ImapSession, GreetingOffersStartTlsOnPlainListener) {
  ConnectionInfo info;
  info.starttls_available = true;
  Harness h(info);
  EXPECT_NE(h.session->greeting().find(" STARTTLS AUTH=PLAIN]"), std::string::npos);
}

TEST(ImapSession, CapabilityCommandBeforeAndAfterLogin) {
  Harness h;
  EXPECT_EQ(h.send("a CAPABILITY\r\n"),
            "* CAPABILITY " + std::string(kCaps) + " AUTH=PLAIN\r\na OK CAPABILITY completed\r\n");
  h.login();
  EXPECT_EQ(h.send("b CAPABILITY\r\n"), "* CAPABILITY " + std::string(kCaps) + "\r\nb OK CAPABILITY completed\r\n");
}

TEST(ImapSession, LoginSucceedsWithCapabilityCode) {
  Harness h;
  EXPECT_EQ(h.send("a1 LOGIN user@example.com secret\r\n"),
            "a1 OK [CAPABILITY " + std::string(kCaps) + "] Logged in\r\n");
  EXPECT_EQ(h.session->account_key(), "oid.tid");
  EXPECT_EQ(h.logins.last_client, "127.0.0.1");
  EXPECT_EQ(h.session->idle_timeout(), std::chrono::seconds{30 * 60});
}

TEST(ImapSession, LoginAcceptsQuotedAndLiteralArguments) {
  Harness h;
  EXPECT_EQ(h.send("a1 LOGIN \"user@example.com\" {6}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(h.send("secret\r\n"), "a1 OK [CAPABILITY " + std::string(kCaps) + "] Logged in\r\n");
}

TEST(ImapSession, WrongPasswordIsAuthenticationFailed) {
  Harness h;
  auto out = h.send("a1 LOGIN user@example.com wrong\r\n");
  EXPECT_TRUE(out.starts_with("a1 NO [AUTHENTICATIONFAILED] ")) << out;
  EXPECT_EQ(h.session->account_key(), "");
  EXPECT_TRUE(h.send("a2 SELECT INBOX\r\n").starts_with("a2 BAD Please log in first"));
}

TEST(ImapSession, LoginOutcomesMapToResponseCodes) {
  Harness h;
  h.logins.forced = mail::LoginResult::Outcome::rate_limited;
  EXPECT_EQ(h.send("a LOGIN user@example.com secret\r\n"),
            "a NO [UNAVAILABLE] Too many failed logins; try again in 5 s.\r\n");
  h.logins.forced = mail::LoginResult::Outcome::needs_sign_in;
  auto out = h.send("b LOGIN user@example.com secret\r\n");
  EXPECT_TRUE(out.starts_with("b NO [UNAVAILABLE] ")) << out;
  EXPECT_NE(out.find("https://bridge.example/settings/email-accounts"), std::string::npos);
  h.logins.forced = mail::LoginResult::Outcome::unavailable;
  EXPECT_TRUE(h.send("c LOGIN user@example.com secret\r\n").starts_with("c NO [UNAVAILABLE] "));
  EXPECT_EQ(h.session->account_key(), "");
}

TEST(ImapSession, FailedLoginIsSlowedDownButNotForLong) {
  Harness h;
  SessionOptions options;
  options.failed_login_delay = std::chrono::milliseconds{5000};  // capped at one second
  h.session = std::make_unique<Session>(options, h.logins, h.connection, [] {});
  auto start = std::chrono::steady_clock::now();
  auto out = h.send("a LOGIN user@example.com wrong\r\n");
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(out.starts_with("a NO [AUTHENTICATIONFAILED]"));
  EXPECT_GE(elapsed, std::chrono::milliseconds{900});
  EXPECT_LT(elapsed, std::chrono::milliseconds{1900});
}

TEST(ImapSession, AuthenticatePlainWithInitialResponse) {
  Harness h;
  auto out = h.send("a AUTHENTICATE PLAIN " + plain_response("", "user@example.com", "secret") + "\r\n");
  EXPECT_EQ(out, "a OK [CAPABILITY " + std::string(kCaps) + "] Logged in\r\n");
  EXPECT_EQ(h.logins.last_password, "secret");
}

TEST(ImapSession, AuthenticatePlainTwoStep) {
  Harness h;
  EXPECT_EQ(h.send("a AUTHENTICATE PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(h.send(plain_response("user@example.com", "user@example.com", "secret") + "\r\n"),
            "a OK [CAPABILITY " + std::string(kCaps) + "] Logged in\r\n");
  EXPECT_EQ(h.send("b NOOP\r\n"), "b OK NOOP completed\r\n");
}

TEST(ImapSession, AuthenticateCancelAndErrors) {
  Harness h;
  EXPECT_EQ(h.send("a AUTHENTICATE PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(h.send("*\r\n"), "a BAD Authentication cancelled.\r\n");
  EXPECT_EQ(h.send("b AUTHENTICATE PLAIN\r\n"), "+ \r\n");
  EXPECT_TRUE(h.send("!!!notbase64\r\n").starts_with("b BAD "));
  EXPECT_TRUE(h.send("c AUTHENTICATE PLAIN " + crypto::base64_encode("no-nuls") + "\r\n").starts_with("c BAD "));
  EXPECT_TRUE(h.send("d AUTHENTICATE PLAIN " + plain_response("other@example.com", "user@example.com", "secret") +
                     "\r\n")
                  .starts_with("d NO [AUTHORIZATIONFAILED] "));
  EXPECT_TRUE(h.send("e AUTHENTICATE CRAM-MD5\r\n").starts_with("e NO [CANNOT] "));
  EXPECT_TRUE(h.send("f AUTHENTICATE PLAIN =\r\n").starts_with("f BAD "));
  EXPECT_EQ(h.session->account_key(), "");
  // Still usable afterwards.
  EXPECT_TRUE(h.send("g LOGIN user@example.com secret\r\n").starts_with("g OK "));
}

TEST(ImapSession, PlaintextLoginRefusedOnNonLoopbackWithoutTls) {
  ConnectionInfo info;
  info.peer = "192.0.2.7:40000";
  info.peer_address = "192.0.2.7";
  info.loopback = false;
  info.starttls_available = true;
  Harness h(info);
  auto greeting = h.session->greeting();
  EXPECT_NE(greeting.find(" STARTTLS LOGINDISABLED]"), std::string::npos) << greeting;
  EXPECT_EQ(greeting.find("AUTH=PLAIN"), std::string::npos);
  EXPECT_TRUE(h.send("a LOGIN user@example.com secret\r\n").starts_with("a NO [PRIVACYREQUIRED] "));
  EXPECT_TRUE(h.send("b AUTHENTICATE PLAIN " + plain_response("", "user@example.com", "secret") + "\r\n")
                  .starts_with("b NO [PRIVACYREQUIRED] "));
  EXPECT_EQ(h.logins.calls, 0);
  // After STARTTLS the same connection may log in.
  EXPECT_EQ(h.send("c STARTTLS\r\n"), "c OK Begin TLS negotiation now\r\n");
  EXPECT_EQ(h.action, SessionAction::start_tls);
  h.session->on_tls_started();
  auto caps = h.send("d CAPABILITY\r\n");
  EXPECT_NE(caps.find("AUTH=PLAIN"), std::string::npos);
  EXPECT_EQ(caps.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(caps.find("LOGINDISABLED"), std::string::npos);
  EXPECT_TRUE(h.send("e LOGIN user@example.com secret\r\n").starts_with("e OK "));
}

TEST(ImapSession, StartTlsDiscardsPipelinedPlaintext) {
  ConnectionInfo info;
  info.starttls_available = true;
  Harness h(info);
  auto out = h.send("a STARTTLS\r\nb LOGIN user@example.com secret\r\n");
  EXPECT_EQ(out, "a OK Begin TLS negotiation now\r\n");
  EXPECT_EQ(h.action, SessionAction::start_tls);
  h.session->on_tls_started();
  EXPECT_EQ(h.logins.calls, 0);
  EXPECT_EQ(h.send("c NOOP\r\n"), "c OK NOOP completed\r\n");
  EXPECT_EQ(h.session->account_key(), "");
}

TEST(ImapSession, StartTlsRefusedWhenNotOfferedOrAlreadyTls) {
  Harness h;
  EXPECT_TRUE(h.send("a STARTTLS\r\n").starts_with("a BAD "));
  EXPECT_EQ(h.action, SessionAction::keep_going);
  ConnectionInfo tls;
  tls.tls = true;
  tls.starttls_available = true;
  Harness secure(tls);
  EXPECT_EQ(secure.session->greeting().find("STARTTLS"), std::string::npos);
  EXPECT_TRUE(secure.send("a STARTTLS\r\n").starts_with("a BAD "));
  secure.login();
  EXPECT_TRUE(secure.send("b STARTTLS\r\n").starts_with("b BAD Already logged in"));
}

TEST(ImapSession, CommandsInWrongStateAreBad) {
  Harness h;
  for (const char* command : {"a SELECT INBOX", "a LIST \"\" *", "a FETCH 1 FLAGS", "a STATUS INBOX (MESSAGES)",
                              "a APPEND INBOX {1+}\r\nx", "a IDLE", "a ENABLE UTF8=ACCEPT", "a NAMESPACE"}) {
    EXPECT_TRUE(h.send(std::string(command) + "\r\n").starts_with("a BAD Please log in first")) << command;
  }
  h.login();
  for (const char* command : {"b FETCH 1 FLAGS", "b STORE 1 +FLAGS (\\Seen)", "b SEARCH ALL", "b EXPUNGE", "b CLOSE",
                              "b UNSELECT", "b CHECK", "b COPY 1 Archive", "b MOVE 1 Archive", "b UID FETCH 1 UID"}) {
    EXPECT_TRUE(h.send(std::string(command) + "\r\n").starts_with("b BAD No folder is selected")) << command;
  }
  EXPECT_TRUE(h.send("c LOGIN user@example.com secret\r\n").starts_with("c BAD Already logged in"));
  EXPECT_TRUE(h.send("d AUTHENTICATE PLAIN\r\n").starts_with("d BAD Already logged in"));
}

TEST(ImapSession, MalformedCommandsGetBadAndTheSessionContinues) {
  Harness h;
  auto out = h.send("a FROBNICATE\r\n");
  EXPECT_TRUE(out.starts_with("a BAD ")) << out;
  EXPECT_EQ(h.action, SessionAction::keep_going);
  EXPECT_EQ(h.send("c NOOP\r\n"), "c OK NOOP completed\r\n");
}

TEST(ImapSession, OverlongLineIsFatal) {
  SessionOptions options;
  options.limits.max_line_length = 100;
  Harness h({}, options);
  auto out = h.send("a NOOP " + std::string(200, 'x') + "\r\n");
  EXPECT_NE(out.find("* BYE "), std::string::npos) << out;
  EXPECT_EQ(h.action, SessionAction::close);
  std::string more;
  EXPECT_EQ(h.session->receive("b NOOP\r\n", more), SessionAction::close);
  EXPECT_EQ(more, "");
}

TEST(ImapSession, TooBigLiteralIsNoTooBig) {
  SessionOptions options;
  options.limits.max_literal_size = 10;
  Harness h({}, options);
  h.login();
  EXPECT_EQ(last_line(h.send("a APPEND INBOX {100}\r\n")).substr(0, 14), "a NO [TOOBIG] ");
  EXPECT_EQ(h.send("b NOOP\r\n"), "b OK NOOP completed\r\n");
}

TEST(ImapSession, IdWorksBeforeLogin) {
  SessionOptions options;
  options.version = "1.2.3";
  Harness h({}, options);
  EXPECT_EQ(h.send("1.1 ID (\"name\" \"Mac OS X Mail\" \"version\" \"16.0\")\r\n"),
            "* ID (\"name\" \"MailTrixy Bridge\" \"version\" \"1.2.3\")\r\n1.1 OK ID completed\r\n");
  EXPECT_EQ(h.send("1.2 ID NIL\r\n"), "* ID (\"name\" \"MailTrixy Bridge\" \"version\" \"1.2.3\")\r\n1.2 OK ID completed\r\n");
}

TEST(ImapSession, EnableAndNamespace) {
  Harness h;
  h.login();
  EXPECT_EQ(h.send("a ENABLE UTF8=ACCEPT CONDSTORE\r\n"), "* ENABLED\r\na OK ENABLE completed\r\n");
  EXPECT_EQ(h.send("b NAMESPACE\r\n"), "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\nb OK NAMESPACE completed\r\n");
}

TEST(ImapSession, LogoutSaysByeAndCloses) {
  Harness h;
  h.login();
  h.select();
  EXPECT_EQ(h.send("z LOGOUT\r\n"), "* BYE Logging out\r\nz OK LOGOUT completed\r\n");
  EXPECT_EQ(h.action, SessionAction::close);
  EXPECT_FALSE(h.backend->is_watched("INBOX"));
}

TEST(ImapSession, PipelinedCommandsAreAnsweredInOrder) {
  Harness h;
  auto out = h.send("a NOOP\r\nb LOGIN user@example.com secret\r\nc SELECT INBOX\r\nd NOOP\r\n");
  auto all = lines(out);
  ASSERT_GE(all.size(), 4U);
  EXPECT_EQ(all[0], "a OK NOOP completed");
  EXPECT_TRUE(all[1].starts_with("b OK "));
  EXPECT_EQ(all.back(), "d OK NOOP completed");
}

TEST(ImapSession, CommandsSplitAcrossReads) {
  Harness h;
  EXPECT_EQ(h.send("a LOG"), "");
  EXPECT_EQ(h.send("IN user@example.com sec"), "");
  EXPECT_TRUE(h.send("ret\r\n").starts_with("a OK "));
}

TEST(ImapSession, TimeoutsAndShutdown) {
  Harness h;
  EXPECT_EQ(h.session->idle_timeout(), std::chrono::seconds{60});
  std::string out;
  h.session->on_timeout(out);
  EXPECT_EQ(out, "* BYE Autologout; idle for too long\r\n");
  Harness s;
  s.login();
  s.select();
  std::string bye;
  s.session->on_shutdown(bye);
  EXPECT_EQ(bye, "* BYE Server shutting down\r\n");
  EXPECT_FALSE(s.backend->is_watched("INBOX"));
}

TEST(ImapSession, StreamsLargeOutputThroughTheCallback) {
  SessionOptions options;
  std::string streamed;
  options.stream_output = [&](std::string_view bytes) { streamed += bytes; };
  options.stream_threshold = 1000;
  Harness h({}, options);
  h.login();
  h.fill(20);
  h.select();
  std::string rest = h.send("f FETCH 1:* (BODY.PEEK[])\r\n");
  EXPECT_GT(streamed.size(), 1000U);
  std::string all = streamed + rest;
  EXPECT_NE(all.find("* 20 FETCH"), std::string::npos);
  EXPECT_TRUE(all.ends_with("f OK FETCH completed\r\n"));
  EXPECT_LT(rest.size(), all.size());
}

TEST(ImapSession, PasswordsNeverReachTheLog) {
  std::string captured;
  log::configure(log::Level::debug, log::Format::text);
  log::set_sink([](std::string_view line, void* context) { *static_cast<std::string*>(context) += line; }, &captured);
  Harness h;
  h.send("a LOGIN user@example.com hunter2-wrong\r\n");
  h.send("b AUTHENTICATE PLAIN " + plain_response("", "user@example.com", "hunter2-plain") + "\r\n");
  h.send("c LOGIN user@example.com secret\r\n");
  h.send("d SELECT Nowhere\r\n");
  log::set_sink(nullptr, nullptr);
  log::configure(log::Level::info, log::Format::text);
  EXPECT_FALSE(captured.empty());
  EXPECT_EQ(captured.find("hunter2"), std::string::npos) << captured;
  EXPECT_EQ(captured.find("secret"), std::string::npos) << captured;
  EXPECT_NE(captured.find("imap login"), std::string::npos);
}

}  // namespace
}  // namespace mailtrixy::imap
