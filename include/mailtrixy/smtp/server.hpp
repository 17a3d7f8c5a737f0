#pragma once
// SmtpServer: the SMTP submission listeners (product spec §7): `smtp.listen` (plain TCP, STARTTLS
// offered) and `smtp.tls_listen` (implicit TLS, RFC 8314). Each connection runs one
// smtp::Session; this file is only the transport: sockets, TLS, timeouts and shutdown. Asio and
// OpenSSL stay in the .cpp.
//
// Model
//   - `io_threads` threads run the sockets; each connection is one coroutine on its own strand.
//   - Session::receive() may block (password hashing in LoginService::login, the synced write in
//     SubmissionQueue::enqueue), so it runs on a separate pool of `worker_threads`; the socket
//     threads never block. One connection's calls never overlap.
//   - Timeouts come from the session (5 min between commands, 10 min inside DATA); a client that
//     stops reading our replies for as long is dropped too. The TLS handshake (implicit or after
//     STARTTLS) must finish within tls_handshake_timeout.
//   - Past max_connections a new client gets "421 4.3.2 Too many connections" and is closed.
//
// Stopping
//   stop(grace) stops accepting and tells every session to stop: an idle one gets
//   "421 4.3.2 Service shutting down" at once; one inside receive() (checking a password, queueing
//   a message) finishes it, gets its reply (e.g. the 250 of a queued message) and then the 421.
//   After `grace` whatever is left is closed. Idempotent; the destructor calls stop(0).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/mail/login.hpp"
#include "mailtrixy/mail/submission.hpp"
#include "mailtrixy/net/tls.hpp"
#include "mailtrixy/smtp/session.hpp"

namespace mailtrixy::smtp {

struct ServerOptions {
  std::string listen;      // "host:port", plain with STARTTLS (needs tls for STARTTLS); "" disables
  std::string tls_listen;  // "host:port", implicit TLS (needs tls); "" disables
  std::optional<net::TlsFiles> tls;
  SessionOptions session;
  // Whether a peer address ("10.0.0.5") is a trusted mail proxy (ConnectionInfo::trusted_proxy);
  // unset: none is.
  std::function<bool(std::string_view peer_address)> is_trusted_proxy;
  int io_threads = 2;
  int worker_threads = 4;
  std::size_t max_connections = 500;
  std::chrono::seconds tls_handshake_timeout{30};
};

class SmtpServer {
 public:
  // Binds every configured listener or none: errors name the listener ("smtp.listen: cannot
  // listen on 127.0.0.1:1587: address already in use; ..."), a missing TLS configuration for
  // tls_listen, or an unusable certificate. `logins` and `queue` must outlive the server.
  static Result<std::unique_ptr<SmtpServer>> start(ServerOptions options, mail::LoginService& logins,
                                                   mail::SubmissionQueue& queue);
  ~SmtpServer();
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  // The bound "host:port" of each listener (the real port when 0 was asked); "" when disabled.
  std::string address() const;
  std::string tls_address() const;

  void stop(std::chrono::milliseconds grace);

  struct Core;

 private:
  explicit SmtpServer(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

}  // namespace mailtrixy::smtp
