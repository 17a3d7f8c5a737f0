#pragma once
// ImapServer: the IMAP listeners. It accepts TCP connections, runs TLS (implicit on tls_listen,
// STARTTLS on listen when a certificate is configured) and moves bytes between each socket and
// one sans-I/O session per connection (session.hpp; its "Transport contract" is what this class
// implements). Asio and OpenSSL stay inside the .cpp files.
//
// Threads
//   - `io_threads` threads run every socket, timer and TLS operation; they never call a session.
//   - `worker_threads` threads call the sessions (receive, on_wake, on_timeout, on_shutdown,
//     on_tls_started), which may block on Graph, RocksDB or password hashing. Calls for one
//     connection never overlap and run in the order the events happened; different connections
//     run in parallel. An idle connection holds no thread: only its socket, a timer, its session
//     and (with TLS) OpenSSL's state, whose I/O buffers are released while idle.
//
// Per connection
//   - The greeting is sent first (after the handshake on the implicit-TLS listener).
//   - Bytes read are handed to receive() in arrival order; its output is written in order, then
//     its action is taken: start_tls flushes the output and runs the handshake (a failed or
//     stalled handshake closes the connection); close flushes and closes.
//   - wake (called by the session's backend from any thread) schedules on_wake(); its output is
//     written like any other. A session may also stream a long response while it is being
//     produced (ConnectionHooks::write).
//   - Back-pressure: while more than max_pending_output bytes wait to be written (a slow
//     reader), nothing more is read from that client and on_wake() is deferred, so memory per
//     connection stays bounded by what one command produces.
//   - Timeouts: when nothing arrives for the session's idle_timeout() (read again after every
//     call, so it follows the session's state: short before login, 30 minutes after and during
//     IDLE), on_timeout()'s "* BYE" is written and the connection closed. A client that reads
//     nothing for that long while output waits is disconnected without a BYE (it would not read
//     it). The TLS handshake has tls_handshake_timeout.
//   - Over max_connections, a new connection gets "* BYE Too many connections; try again later"
//     and is closed.
//   - Closing sends TLS close_notify when TLS is up, half-closes TCP and drains what the client
//     still sends for up to a second, so the client reads the final BYE/OK instead of a reset.
//
// Stopping
//   stop(grace) closes the listeners, gives every connection on_shutdown()'s "* BYE" (after a
//   session call in progress finishes) and closes it; connections still open after `grace`
//   are closed by force; then it joins its threads. A session call that is blocked (a Graph
//   request) delays the join until it returns. Idempotent; the destructor calls stop(0).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/imap/session.hpp"
#include "mailtrixy/mail/login.hpp"
#include "mailtrixy/net/tls.hpp"

namespace mailtrixy::imap {

// What the server drives for one connection. imap::Session is the real one (see
// session_factory()); tests of the transport use small doubles. The calls are those of Session,
// with the same meaning.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual std::string greeting() = 0;
  virtual SessionAction receive(std::string_view bytes, std::string& out) = 0;
  virtual SessionAction on_wake(std::string& out) = 0;
  virtual void on_tls_started() = 0;
  virtual void on_timeout(std::string& out) = 0;
  virtual void on_shutdown(std::string& out) = 0;
  virtual std::chrono::seconds idle_timeout() const = 0;
  // For logs: the account key once authenticated, else "".
  virtual std::string account_key() const = 0;
};

// What the server gives each new handler.
struct ConnectionHooks {
  // Schedules on_wake(). Cheap, callable from any thread at any time (also after the connection
  // closed: then it does nothing).
  std::function<void()> wake;
  // For SessionOptions::stream_output: called from inside a session call (on its worker
  // thread), it queues the bytes for the client ahead of that call's `out` and blocks while
  // more than max_pending_output bytes wait to be written, so a FETCH of many bodies is never
  // held in memory whole. Returns at once once the connection is closed (the bytes are dropped).
  std::function<void(std::string_view)> write;
};

// Makes the handler of a new connection. Called on a worker thread.
using HandlerFactory =
    std::function<std::unique_ptr<ConnectionHandler>(const ConnectionInfo& info, ConnectionHooks hooks)>;

struct ImapServerOptions {
  std::string listen;                // "host:port": plain, with STARTTLS when `tls` is set; "" disables
  std::string tls_listen;            // "host:port": implicit TLS (needs `tls`); "" disables
  std::optional<net::TlsFiles> tls;  // certificate and key (TLS 1.2+, net's server settings)
  int io_threads = 2;                // 1..64
  int worker_threads = 16;           // 1..1024: session calls that may block at the same time
  std::size_t max_connections = 10000;
  std::size_t max_pending_output = 256 * 1024;  // bytes queued for one client before back-pressure
  std::chrono::seconds tls_handshake_timeout{30};
  // Whether a peer address ("10.0.0.5") is a trusted mail proxy (ConnectionInfo::trusted_proxy);
  // unset: none is.
  std::function<bool(std::string_view peer_address)> is_trusted_proxy;
};

class ImapServer {
 public:
  // Binds every configured listener before returning (ports are final, clients may connect at
  // once). Errors, one sentence each: invalid options, tls_listen without a certificate, a
  // listen address that does not parse or resolve, a port that cannot be bound ("cannot listen
  // on 127.0.0.1:1143: address already in use; ..."), an unusable certificate or key.
  static Result<std::unique_ptr<ImapServer>> start(ImapServerOptions options, HandlerFactory factory);

  ~ImapServer();
  ImapServer(const ImapServer&) = delete;
  ImapServer& operator=(const ImapServer&) = delete;

  // The bound "host:port" (IPv6 in brackets) and port of each listener; "" and 0 when disabled.
  std::string address() const;
  std::uint16_t port() const;
  std::string tls_address() const;
  std::uint16_t tls_port() const;

  // Connections open right now (for metrics and tests).
  std::size_t connections() const;

  void stop(std::chrono::milliseconds grace);

  struct Core;  // the Asio side, defined in src/imap_server

 private:
  explicit ImapServer(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

// The factory the bridge uses: one imap::Session per connection. `logins` must outlive every
// session (stop the server first). Only available when the imap module is built (the
// imap_server target then defines MAILTRIXY_HAVE_IMAP_SESSION).
HandlerFactory session_factory(SessionOptions options, mail::LoginService& logins);

}  // namespace mailtrixy::imap
