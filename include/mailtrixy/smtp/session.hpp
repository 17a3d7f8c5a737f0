#pragma once
// Session: one SMTP submission connection's protocol state, sans-I/O (RFC 5321, RFC 6409,
// RFC 4954 AUTH, RFC 3207 STARTTLS, RFC 2920 PIPELINING, RFC 1870 SIZE, RFC 6152 8BITMIME,
// RFC 6531 SMTPUTF8, RFC 2034 ENHANCEDSTATUSCODES). The transport (smtp_server) moves bytes; the
// session owns the input parser, the state (greeted, authenticated, mail transaction), and the
// verb table (one file per verb under src/smtp/verbs/, listed in src/smtp/verbs/table.cpp).
//
// Transport contract:
//   - Write greeting() first.
//   - For every chunk read from the socket call receive(bytes, out); write everything appended to
//     `out` (in order) to the client; then act on the returned SessionAction. Pipelined commands
//     in one chunk are answered in order in one `out`; DATA's 354 comes after the replies to the
//     commands before it, and its message may follow in the same chunk.
//   - receive(), on_timeout() and on_shutdown() are never called concurrently for one session.
//     receive() may block: LoginService::login (password hashing) and SubmissionQueue::enqueue
//     (a synced write) run inside it, so the transport calls it on a thread that may block.
//   - start_tls: write `out` (the "220 2.0.0 Ready to start TLS"), run the TLS handshake, then call
//     on_tls_started(). Whatever the client sent after STARTTLS in plaintext has been discarded.
//     A failed handshake closes the connection.
//   - close: write `out`, then close the connection.
//   - If no byte arrives for idle_timeout() (5 minutes between commands, 10 minutes inside DATA,
//     RFC 5321 4.5.3.2), call on_timeout(out) ("421 4.4.2"), write it and close.
//   - On server shutdown call on_shutdown(out) ("421 4.3.2 Service shutting down"), write it and
//     close.
//
// Policy (docs/smtp.md):
//   - AUTH PLAIN and LOGIN with the mailbox address and the bridge password; before TLS on a
//     connection that is not from loopback AUTH is neither advertised nor accepted (538 5.7.11).
//   - MAIL needs authentication (530 5.7.0). MAIL FROM must be the account's address (compared
//     case-insensitively, as Microsoft does) or an address `may_send_as` allows; otherwise
//     553 5.7.1. The null sender "<>" is refused the same way.
//   - Every accepted RCPT TO is passed on in Submission::recipients, in order, without duplicates;
//     the outbox turns recipients missing from the headers into Bcc and sends to no one else.
//   - "250 2.0.0 Ok: queued as <id>" only after SubmissionQueue::enqueue returned the id.
//   - XCLIENT (Postfix's XCLIENT_README; sent by nginx's mail proxy) only from a trusted proxy
//     (ConnectionInfo::trusted_proxy; 550 5.7.0 otherwise), never inside a mail transaction.
//     Attributes NAME, ADDR, PORT, PROTO, HELO, LOGIN, DESTADDR, DESTPORT (xtext values; nginx
//     sends them raw, so a LOGIN not found decoded is tried as sent); ADDR
//     replaces the client address used for logs and rate limiting; LOGIN=user authenticates as
//     that account through SessionOptions::proxy_login, LOGIN=[UNAVAILABLE] drops it. Success
//     answers 220 with the greeting and returns the session to its initial state (EHLO again).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mailtrixy/mail/login.hpp"
#include "mailtrixy/mail/submission.hpp"
#include "mailtrixy/smtp/parser.hpp"

namespace mailtrixy::smtp {

struct ConnectionInfo {
  std::string peer;          // "127.0.0.1:54321", for logs
  std::string peer_address;  // "127.0.0.1", for rate limiting
  std::string session_id;    // short id for logs
  bool loopback = true;      // the peer is 127.0.0.0/8 or ::1
  bool tls = false;          // the connection is encrypted (implicit TLS, or after STARTTLS)
  bool starttls_available = false;  // plain listener with a TLS context: offer STARTTLS
  // The peer is a mail proxy listed in cluster.trusted_proxies (docs/scaling.md): XCLIENT is
  // advertised and accepted; everyone else gets 550 5.7.0 for it.
  bool trusted_proxy = false;
};

struct SessionOptions {
  ParserLimits limits;
  // Advertised in SIZE and enforced at MAIL (declared SIZE=) and during DATA.
  std::uint64_t max_message_bytes = 157286400;
  // Exchange Online accepts at most 500 recipients per message.
  std::size_t max_recipients = 500;
  // Commands refused in a row (syntax errors, unknown verbs, wrong sequence) before the session
  // gives up on a confused or hostile client with 421.
  int max_errors = 20;
  std::chrono::seconds command_timeout{5 * 60};
  std::chrono::seconds data_timeout{10 * 60};
  // The name in the greeting and the EHLO reply.
  std::string hostname = "localhost";
  // Addresses other than the account's own that it may use in MAIL FROM (send-as / aliases). The
  // account's primary address is always allowed; unset means "only that one".
  std::function<bool(const std::string& account_key, const std::string& address)> may_send_as;
  // XCLIENT LOGIN=user from a trusted proxy (which checked the password itself, through the
  // bridge's auth_http endpoint): resolves the account WITHOUT a password. Outcomes as for
  // LoginService::login (wrong_credentials: no such account here). Unset: XCLIENT LOGIN is
  // refused with 454 4.7.0.
  std::function<mail::LoginResult(std::string_view user, std::string_view client_address)> proxy_login;
};

enum class SessionAction { keep_going, start_tls, close };

class Session {
 public:
  // `logins` and `queue` must outlive the session.
  Session(SessionOptions options, mail::LoginService& logins, mail::SubmissionQueue& queue, ConnectionInfo info);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // "220 localhost ESMTP MailTrixy Bridge ready\r\n"
  std::string greeting() const;

  SessionAction receive(std::string_view bytes, std::string& out);
  // After a successful STARTTLS handshake: the connection is now encrypted and the session is
  // back to its initial state (RFC 3207 4.2: the client must send EHLO again).
  void on_tls_started();
  // "421 4.4.2 <host> Error: timeout exceeded\r\n"
  void on_timeout(std::string& out);
  // "421 4.3.2 Service shutting down\r\n"
  void on_shutdown(std::string& out);

  // How long the transport waits for client bytes before on_timeout().
  std::chrono::seconds idle_timeout() const;
  // For logs and metrics: the account key once authenticated, else "".
  const std::string& account_key() const;

  struct Context;  // the state the verbs share; defined in src/smtp/session_context.hpp

 private:
  std::unique_ptr<Context> context_;
};

}  // namespace mailtrixy::smtp
