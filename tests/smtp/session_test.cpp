#include "mailtrixy/smtp/session.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mailtrixy/crypto/encoding.hpp"
#include "session_test_support.hpp"

namespace mailtrixy::smtp {
namespace {

using testing::FakeLogins;
using testing::kPassword;
using testing::kUser;
using testing::lines_of;
using testing::plain_credentials;
using testing::RecordingQueue;

class SmtpSession : public ::testing::Test {
 protected:
  void open(bool loopback = true, bool tls = false, bool starttls = true) {
    ConnectionInfo info;
    info.peer = loopback ? "127.0.0.1:5000" : "192.0.2.7:5000";
    info.peer_address = loopback ? "127.0.0.1" : "192.0.2.7";
    info.session_id = "s1";
    info.loopback = loopback;
    info.tls = tls;
    info.starttls_available = starttls;
    session = std::make_unique<Session>(options, logins, queue, info);
  }
  // Sends `input` and returns the reply lines.
  std::vector<std::string> send(const std::string& input, SessionAction expected = SessionAction::keep_going) {
    std::string out;
    last_action = session->receive(input, out);
    EXPECT_EQ(last_action, expected) << input;
    return lines_of(out);
  }
  std::string reply(const std::string& input, SessionAction expected = SessionAction::keep_going) {
    auto lines = send(input, expected);
    EXPECT_EQ(lines.size(), 1u) << input;
    return lines.empty() ? "" : lines.back();
  }
  void authenticate() {
    send("EHLO client.example\r\n");
    EXPECT_EQ(reply("AUTH PLAIN " + plain_credentials() + "\r\n"), "235 2.7.0 Authentication successful");
  }

  SessionOptions options;
  FakeLogins logins;
  RecordingQueue queue;
  std::unique_ptr<Session> session;
  SessionAction last_action = SessionAction::keep_going;
};

TEST_F(SmtpSession, GreetingAndEhloAdvertiseTheExtensions) {
  options.max_message_bytes = 1000;
  open();
  EXPECT_EQ(session->greeting(), "220 localhost ESMTP MailTrixy Bridge ready\r\n");
  const auto lines = send("EHLO client.example\r\n");
  const std::vector<std::string> expected{"250-localhost Hello client.example", "250-PIPELINING", "250-SIZE 1000",
                                          "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250-SMTPUTF8",
                                          "250-AUTH PLAIN LOGIN", "250 STARTTLS"};
  EXPECT_EQ(lines, expected);
}

TEST_F(SmtpSession, NoAuthOrStarttlsAdvertisedWhereNotAllowed) {
  open(/*loopback=*/false, /*tls=*/false, /*starttls=*/true);
  auto lines = send("EHLO x\r\n");
  EXPECT_EQ(lines.back(), "250 STARTTLS");
  for (const auto& line : lines) EXPECT_EQ(line.find("AUTH"), std::string::npos);
  EXPECT_EQ(reply("AUTH PLAIN " + plain_credentials() + "\r\n"),
            "538 5.7.11 Encryption required for authentication; send STARTTLS first");
  EXPECT_TRUE(logins.calls.empty());
  EXPECT_EQ(reply("MAIL FROM:<" + std::string(kUser) + ">\r\n"),
            "530 5.7.0 Authentication required; send STARTTLS, then AUTH");

  open(/*loopback=*/false, /*tls=*/true, /*starttls=*/false);
  lines = send("EHLO x\r\n");
  EXPECT_EQ(lines.back(), "250 AUTH PLAIN LOGIN");
}

TEST_F(SmtpSession, HeloGivesOneLine) {
  open();
  EXPECT_EQ(reply("HELO x\r\n"), "250 localhost Hello x");
  EXPECT_EQ(reply("HELO\r\n"), "501 5.5.4 Syntax: HELO hostname");
}

TEST_F(SmtpSession, SequenceErrors) {
  open();
  EXPECT_EQ(reply("MAIL FROM:<a@b.c>\r\n"), "503 5.5.1 Send EHLO (or HELO) first");
  send("EHLO x\r\n");
  EXPECT_EQ(reply("MAIL FROM:<a@b.c>\r\n"), "530 5.7.0 Authentication required; log in with AUTH first");
  EXPECT_EQ(reply("DATA\r\n"), "530 5.7.0 Authentication required; log in with AUTH first");
  EXPECT_EQ(reply("FOO bar\r\n"), "500 5.5.1 Command not recognized: FOO");
  EXPECT_EQ(reply("\r\n"), "500 5.5.2 Empty command line; send a command such as EHLO");
  EXPECT_EQ(reply("QUIT now\r\n"), "501 5.5.4 Syntax: QUIT (no arguments)");
  authenticate();
  EXPECT_EQ(reply("RCPT TO:<b@c.d>\r\n"), "503 5.5.1 Send MAIL FROM before RCPT TO");
  EXPECT_EQ(reply("DATA\r\n"), "503 5.5.1 Send MAIL FROM and RCPT TO before DATA");
  EXPECT_EQ(reply("MAIL FROM:<" + std::string(kUser) + ">\r\n"), "250 2.1.0 Sender ok");
  EXPECT_EQ(reply("MAIL FROM:<" + std::string(kUser) + ">\r\n"),
            "503 5.5.1 A mail transaction is already open; send RSET to start over");
  EXPECT_EQ(reply("DATA\r\n"), "554 5.5.1 No valid recipients; send RCPT TO before DATA");
  EXPECT_EQ(reply("AUTH PLAIN x\r\n"), "503 5.5.1 Already authenticated");
}

TEST_F(SmtpSession, AuthPlainWithAndWithoutInitialResponse) {
  open();
  send("EHLO x\r\n");
  EXPECT_EQ(reply("AUTH PLAIN\r\n"), "334 ");
  EXPECT_EQ(reply(plain_credentials() + "\r\n"), "235 2.7.0 Authentication successful");
  EXPECT_EQ(session->account_key(), testing::kAccountKey);
  ASSERT_EQ(logins.calls.size(), 1u);
  EXPECT_EQ(logins.calls[0].user, kUser);
  EXPECT_EQ(logins.calls[0].client, "127.0.0.1");
}

TEST_F(SmtpSession, AuthLoginInSteps) {
  open();
  send("EHLO x\r\n");
  EXPECT_EQ(reply("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6");
  EXPECT_EQ(reply(crypto::base64_encode(kUser) + "\r\n"), "334 UGFzc3dvcmQ6");
  EXPECT_EQ(reply(crypto::base64_encode(kPassword) + "\r\n"), "235 2.7.0 Authentication successful");
}

TEST_F(SmtpSession, AuthLoginWithInitialUsername) {
  open();
  send("EHLO x\r\n");
  EXPECT_EQ(reply("AUTH LOGIN " + crypto::base64_encode(kUser) + "\r\n"), "334 UGFzc3dvcmQ6");
  EXPECT_EQ(reply(crypto::base64_encode(kPassword) + "\r\n"), "235 2.7.0 Authentication successful");
}

TEST_F(SmtpSession, AuthFailures) {
  open();
  send("EHLO x\r\n");
  EXPECT_EQ(reply("AUTH PLAIN " + plain_credentials(kUser, "wrong") + "\r\n").substr(0, 10), "535 5.7.8 ");
  EXPECT_EQ(reply("AUTH CRAM-MD5\r\n"), "504 5.5.4 Unrecognized authentication mechanism; use PLAIN or LOGIN");
  EXPECT_EQ(reply("AUTH PLAIN !!!notbase64\r\n"), "501 5.5.2 The authentication response is not valid base64");
  EXPECT_EQ(reply("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6");
  EXPECT_EQ(reply("*\r\n"), "501 5.7.0 Authentication cancelled");
  EXPECT_EQ(reply("AUTH PLAIN " + crypto::base64_encode("no separators") + "\r\n").substr(0, 10), "501 5.5.2 ");
  EXPECT_EQ(reply("AUTH PLAIN " + crypto::base64_encode(std::string("other@x.org") + '\0' + kUser + '\0' + kPassword) + "\r\n")
                .substr(0, 10),
            "535 5.7.8 ");
  // An authzid equal to the user is fine.
  std::string same = std::string(kUser) + '\0' + kUser + '\0' + kPassword;
  EXPECT_EQ(reply("AUTH PLAIN " + crypto::base64_encode(same) + "\r\n"), "235 2.7.0 Authentication successful");
}

TEST_F(SmtpSession, AuthRateLimitedAndNeedsSignIn) {
  open();
  send("EHLO x\r\n");
  logins.forced = mail::LoginResult::Outcome::rate_limited;
  EXPECT_EQ(reply("AUTH PLAIN " + plain_credentials() + "\r\n"), "454 4.7.0 Too many failed logins; try again in 3 seconds");
  logins.forced = mail::LoginResult::Outcome::needs_sign_in;
  const std::string answer = reply("AUTH PLAIN " + plain_credentials() + "\r\n");
  EXPECT_EQ(answer.substr(0, 10), "454 4.7.0 ");
  EXPECT_NE(answer.find("https://localhost:8443/settings/email-accounts"), std::string::npos);
  logins.forced = mail::LoginResult::Outcome::unavailable;
  EXPECT_EQ(reply("AUTH PLAIN " + plain_credentials() + "\r\n"), "454 4.7.0 Temporary authentication failure; try again later");
}

TEST_F(SmtpSession, SenderMustBeTheAccount) {
  open();
  authenticate();
  const std::string refused = reply("MAIL FROM:<mallory@outlook.com>\r\n");
  EXPECT_EQ(refused.substr(0, 10), "553 5.7.1 ");
  EXPECT_NE(refused.find(kUser), std::string::npos);
  EXPECT_EQ(reply("MAIL FROM:<>\r\n").substr(0, 10), "553 5.7.1 ");
  EXPECT_EQ(reply("MAIL FROM:<not an address>\r\n").substr(0, 4), "501 ");
  EXPECT_EQ(reply("MAIL FROM:<bad..dots@x.org>\r\n"), "501 5.1.7 Bad sender address syntax");
  // Case differences do not matter (Microsoft compares case-insensitively).
  EXPECT_EQ(reply("MAIL FROM:<ALICE.SMITH@OUTLOOK.COM>\r\n"), "250 2.1.0 Sender ok");
}

TEST_F(SmtpSession, SendAsHookAllowsMoreSenders) {
  options.may_send_as = [](const std::string& account, const std::string& address) {
    return account == testing::kAccountKey && address == "team@contoso.com";
  };
  open();
  authenticate();
  EXPECT_EQ(reply("MAIL FROM:<team@contoso.com>\r\n"), "250 2.1.0 Sender ok");
  EXPECT_EQ(reply("RSET\r\n"), "250 2.0.0 Ok");
  EXPECT_EQ(reply("MAIL FROM:<other@contoso.com>\r\n").substr(0, 10), "553 5.7.1 ");
}

TEST_F(SmtpSession, MailParameters) {
  options.max_message_bytes = 1000;
  open();
  authenticate();
  const std::string from = "MAIL FROM:<" + std::string(kUser) + ">";
  EXPECT_EQ(reply(from + " SIZE=1001\r\n"),
            "552 5.3.4 Message size exceeds the fixed maximum message size of 1000 bytes");
  EXPECT_EQ(reply(from + " SIZE=99999999999999999999999\r\n"), "501 5.5.4 SIZE needs a number of bytes, as in SIZE=12345");
  EXPECT_EQ(reply(from + " SIZE=\r\n"), "501 5.5.4 SIZE needs a number of bytes, as in SIZE=12345");
  EXPECT_EQ(reply(from + " BODY=BINARYMIME\r\n"), "555 5.5.4 BODY must be 7BIT or 8BITMIME");
  EXPECT_EQ(reply(from + " RET=HDRS\r\n"), "555 5.5.4 MAIL parameter RET is not supported");
  EXPECT_EQ(reply(from + " SIZE=1000 BODY=8bitmime SMTPUTF8 AUTH=<>\r\n"), "250 2.1.0 Sender ok");
}

TEST_F(SmtpSession, Utf8RecipientsNeedSmtputf8) {
  open();
  authenticate();
  const std::string utf8 = "j\xC3\xBCrgen@b\xC3\xBC" "cher.example";
  EXPECT_EQ(reply("MAIL FROM:<" + std::string(kUser) + ">\r\n"), "250 2.1.0 Sender ok");
  EXPECT_EQ(reply("RCPT TO:<" + utf8 + ">\r\n").substr(0, 10), "553 5.6.7 ");
  EXPECT_EQ(reply("RSET\r\n"), "250 2.0.0 Ok");
  EXPECT_EQ(reply("MAIL FROM:<" + std::string(kUser) + "> SMTPUTF8\r\n"), "250 2.1.0 Sender ok");
  EXPECT_EQ(reply("RCPT TO:<" + utf8 + ">\r\n"), "250 2.1.5 Recipient ok");
  send("DATA\r\n");
  EXPECT_EQ(reply("Subject: x\r\n\r\nhi\r\n.\r\n"), "250 2.0.0 Ok: queued as q1");
  ASSERT_EQ(queue.submissions.size(), 1u);
  EXPECT_EQ(queue.submissions[0].recipients, std::vector<std::string>{utf8});
}

TEST_F(SmtpSession, RecipientErrorsAndDuplicates) {
  options.max_recipients = 2;
  open();
  authenticate();
  send("MAIL FROM:<" + std::string(kUser) + ">\r\n");
  EXPECT_EQ(reply("RCPT TO:<bob@x.org> NOTIFY=NEVER\r\n"), "555 5.5.4 RCPT parameter NOTIFY is not supported");
  EXPECT_EQ(reply("RCPT TO:<>\r\n").substr(0, 10), "501 5.1.3 ");
  EXPECT_EQ(reply("RCPT TO:<Postmaster>\r\n").substr(0, 10), "501 5.1.3 ");
  EXPECT_EQ(reply("RCPT FROM:<bob@x.org>\r\n").substr(0, 10), "501 5.5.4 ");
  EXPECT_EQ(reply("RCPT TO:<bob@x.org>\r\n"), "250 2.1.5 Recipient ok");
  EXPECT_EQ(reply("RCPT TO:<BOB@X.ORG>\r\n"), "250 2.1.5 Recipient ok (already given)");
  EXPECT_EQ(reply("RCPT TO:<carol@x.org>\r\n"), "250 2.1.5 Recipient ok");
  EXPECT_EQ(reply("RCPT TO:<dave@x.org>\r\n").substr(0, 10), "452 4.5.3 ");
  send("DATA\r\n");
  EXPECT_EQ(reply("\r\n.\r\n"), "250 2.0.0 Ok: queued as q1");
  ASSERT_EQ(queue.submissions.size(), 1u);
  EXPECT_EQ(queue.submissions[0].recipients, (std::vector<std::string>{"bob@x.org", "carol@x.org"}));
}

TEST_F(SmtpSession, PipelinedTransactionIsAnsweredInOrder) {
  open();
  authenticate();
  const std::string from = std::string(kUser);
  auto lines = send("MAIL FROM:<" + from + ">\r\nRCPT TO:<bob@x.org>\r\nRCPT TO:<bad address>\r\nRCPT TO:<carol@y.org>\r\n"
                    "DATA\r\nTo: bob@x.org\r\nSubject: hi\r\n\r\n..dot\r\nbare\nline\r\n.\r\nNOOP\r\nQUIT\r\n",
                    SessionAction::close);
  const std::vector<std::string> expected{"250 2.1.0 Sender ok",
                                          "250 2.1.5 Recipient ok",
                                          "501 5.1.3 Bad recipient address syntax; use RCPT TO:<name@domain>",
                                          "250 2.1.5 Recipient ok",
                                          "354 End data with <CR><LF>.<CR><LF>",
                                          "250 2.0.0 Ok: queued as q1",
                                          "250 2.0.0 Ok",
                                          "221 2.0.0 Bye"};
  EXPECT_EQ(lines, expected);
  ASSERT_EQ(queue.submissions.size(), 1u);
  const mail::Submission& submission = queue.submissions[0];
  EXPECT_EQ(submission.account_key, testing::kAccountKey);
  EXPECT_EQ(submission.envelope_from, from);
  EXPECT_EQ(submission.recipients, (std::vector<std::string>{"bob@x.org", "carol@y.org"}));
  EXPECT_EQ(submission.mime, "To: bob@x.org\r\nSubject: hi\r\n\r\n.dot\r\nbare\r\nline\r\n");
  EXPECT_EQ(submission.client, "127.0.0.1:5000");
}

TEST_F(SmtpSession, DataArrivingInPieces) {
  open();
  authenticate();
  send("MAIL FROM:<" + std::string(kUser) + ">\r\nRCPT TO:<bob@x.org>\r\n");
  EXPECT_EQ(reply("DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>");
  EXPECT_EQ(session->idle_timeout(), options.data_timeout);
  EXPECT_TRUE(send("Subject: a\r\n\r\nbody\r").empty());
  EXPECT_TRUE(send("\n.").empty());
  EXPECT_EQ(reply("\r\n"), "250 2.0.0 Ok: queued as q1");
  EXPECT_EQ(session->idle_timeout(), options.command_timeout);
  EXPECT_EQ(queue.submissions.at(0).mime, "Subject: a\r\n\r\nbody\r\n");
}

TEST_F(SmtpSession, OversizeDataIsRefusedAfterTheFinalDot) {
  options.max_message_bytes = 100;
  open();
  authenticate();
  send("MAIL FROM:<" + std::string(kUser) + ">\r\nRCPT TO:<bob@x.org>\r\nDATA\r\n");
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(send(std::string(998, 'x') + "\r\n").empty());
  EXPECT_EQ(reply(".\r\n"), "552 5.3.4 Message size exceeds the fixed maximum message size of 100 bytes");
  EXPECT_TRUE(queue.submissions.empty());
  // The session is usable afterwards and the transaction is gone.
  EXPECT_EQ(reply("RCPT TO:<bob@x.org>\r\n"), "503 5.5.1 Send MAIL FROM before RCPT TO");
}

TEST_F(SmtpSession, QueueFailuresAreTranslated) {
  open();
  authenticate();
  queue.failure = mail::MailError{mail::ErrorCode::unavailable, "The database is not writable; try again later."};
  send("MAIL FROM:<" + std::string(kUser) + ">\r\nRCPT TO:<bob@x.org>\r\nDATA\r\n");
  EXPECT_EQ(reply("x\r\n.\r\n"), "451 4.3.0 The database is not writable; try again later.");
  queue.failure = mail::MailError{mail::ErrorCode::too_big, "Too big for Microsoft."};
  send("MAIL FROM:<" + std::string(kUser) + ">\r\nRCPT TO:<bob@x.org>\r\nDATA\r\n");
  EXPECT_EQ(reply("x\r\n.\r\n"), "552 5.3.4 Too big for Microsoft.");
}

TEST_F(SmtpSession, StarttlsDiscardsPipelinedPlaintextAndResetsState) {
  open(/*loopback=*/true);
  authenticate();
  auto lines = send("STARTTLS\r\nMAIL FROM:<" + std::string(kUser) + ">\r\n", SessionAction::start_tls);
  EXPECT_EQ(lines, std::vector<std::string>{"220 2.0.0 Ready to start TLS"});
  session->on_tls_started();
  EXPECT_EQ(session->account_key(), "");
  EXPECT_EQ(reply("MAIL FROM:<" + std::string(kUser) + ">\r\n"), "503 5.5.1 Send EHLO (or HELO) first");
  lines = send("EHLO x\r\n");
  EXPECT_EQ(lines.back(), "250 AUTH PLAIN LOGIN");  // no STARTTLS any more
  EXPECT_EQ(reply("STARTTLS\r\n"), "503 5.5.1 The connection is already encrypted");
}

TEST_F(SmtpSession, StarttlsUnavailable) {
  open(true, false, /*starttls=*/false);
  EXPECT_EQ(reply("STARTTLS\r\n"), "454 4.7.0 TLS is not available on this listener; use the implicit-TLS port");
}

TEST_F(SmtpSession, SmallVerbs) {
  open();
  EXPECT_EQ(reply("NOOP anything\r\n"), "250 2.0.0 Ok");
  EXPECT_EQ(reply("VRFY bob\r\n").substr(0, 10), "252 2.5.0 ");
  EXPECT_EQ(reply("EXPN staff\r\n").substr(0, 10), "502 5.5.1 ");
  EXPECT_EQ(reply("HELP\r\n").substr(0, 10), "214 2.0.0 ");
  EXPECT_EQ(reply("BDAT 10 LAST\r\n").substr(0, 10), "502 5.5.1 ");
  EXPECT_EQ(reply("QUIT\r\n", SessionAction::close), "221 2.0.0 Bye");
}

TEST_F(SmtpSession, OverlongLineAndTooManyErrors) {
  options.max_errors = 3;
  open();
  EXPECT_EQ(reply(std::string(5000, 'A') + "\r\n"), "500 5.5.2 Line too long; at most 4096 bytes per command");
  EXPECT_EQ(reply("NOOP\r\n"), "250 2.0.0 Ok");  // resets the count
  send("X\r\nY\r\n");
  auto lines = send("Z\r\nNOOP\r\n", SessionAction::close);
  EXPECT_EQ(lines.back(), "421 4.7.0 Too many errors; closing the connection");
}

TEST_F(SmtpSession, TimeoutAndShutdownReplies) {
  open();
  std::string out;
  session->on_timeout(out);
  EXPECT_EQ(out, "421 4.4.2 localhost Error: timeout exceeded\r\n");
  out.clear();
  session->on_shutdown(out);
  EXPECT_EQ(out, "421 4.3.2 Service shutting down\r\n");
  EXPECT_EQ(session->idle_timeout(), std::chrono::seconds(300));
}

TEST_F(SmtpSession, EhloAndRsetEndTheTransactionButKeepAuthentication) {
  open();
  authenticate();
  send("MAIL FROM:<" + std::string(kUser) + ">\r\n");
  send("EHLO again\r\n");
  EXPECT_EQ(reply("RCPT TO:<bob@x.org>\r\n"), "503 5.5.1 Send MAIL FROM before RCPT TO");
  EXPECT_EQ(reply("MAIL FROM:<" + std::string(kUser) + ">\r\n"), "250 2.1.0 Sender ok");
}

}  // namespace
}  // namespace mailtrixy::smtp
