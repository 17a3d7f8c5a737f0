#pragma once
// Session: one IMAP connection's protocol state, sans-I/O. The transport (the listener in
// imap_server) moves bytes; the session owns the parser, the state machine (not authenticated ->
// authenticated -> selected -> logout), the command table (one file per command under
// src/imap/commands/), the selected folder's sequence-number view and its pending updates.
//
// Transport contract:
//   - Send greeting() first.
//   - For every chunk read from the socket call receive(bytes, out); write everything appended
//     to `out` (in order) to the client; then act on the returned SessionAction.
//   - The session calls the `wake` function given at construction, from any thread, when the
//     backend reported changes for the selected folder. The transport then calls on_wake(out) on
//     the session's own serialised context and writes `out` (untagged EXISTS/EXPUNGE/FETCH while
//     IDLE; nothing otherwise — pending updates then go out with the next command's response).
//   - receive(), on_wake(), on_timeout() and on_shutdown() are never called concurrently for one
//     session (the transport serialises them). They may block: backend calls (RocksDB, Graph) and
//     password hashing run inside them, so the transport runs them on threads that may block.
//   - start_tls: flush `out`, run the TLS handshake, then call on_tls_started(). A failed
//     handshake closes the connection.
//   - close: flush `out`, then close the connection.
//   - If nothing arrives for idle_timeout(), call on_timeout(out), write it and close.
//   - On server shutdown call on_shutdown(out), write it and close.
//
// The session never writes a response line longer than needed and never sends an EXPUNGE while a
// FETCH, STORE or SEARCH (non-UID) is running (RFC 3501 7.4.1); it follows RFC 3501/9051 for
// everything else (see docs/imap.md).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mailtrixy/imap/parser.hpp"
#include "mailtrixy/mail/login.hpp"

namespace mailtrixy::imap {

class StructureCache;  // structure_cache.hpp

struct ConnectionInfo {
  std::string peer;          // "127.0.0.1:54321", for logs
  std::string peer_address;  // "127.0.0.1", for rate limiting
  bool loopback = true;      // peer is 127.0.0.0/8 or ::1
  bool tls = false;          // the connection is encrypted (implicit TLS, or after STARTTLS)
  bool starttls_available = false;  // plain listener with a TLS context: offer STARTTLS
  // The peer is a mail proxy listed in cluster.trusted_proxies (nginx replays the client's LOGIN
  // over plain IMAP): plaintext LOGIN is allowed as from loopback (docs/scaling.md).
  bool trusted_proxy = false;
};

struct SessionOptions {
  ParserLimits limits;
  // Before authentication (RFC 9051 suggests short); after, and during IDLE, at least 30 minutes.
  std::chrono::seconds unauthenticated_timeout{60};
  std::chrono::seconds autologout{30 * 60};
  // Shown in the greeting and ID.
  std::string server_name = "MailTrixy Bridge";
  std::string version;
  // Shared by every session of a server (one per listener process): parsed MIME structures and
  // rendered BODYSTRUCTUREs, so that a second FETCH BODYSTRUCTURE costs no backend fetch.
  // nullptr: no cache (every body-dependent FETCH item downloads the message).
  std::shared_ptr<StructureCache> structure_cache;
  // After a failed or rate-limited login the answer is held back this long (capped at one
  // second whatever is set here), which slows password guessing without tying up the thread.
  // Tests set 0.
  std::chrono::milliseconds failed_login_delay{1000};
  // Optional streaming of long responses. When set, the session calls it from inside receive()
  // or on_wake() with the output produced so far (whenever it exceeds stream_threshold bytes,
  // e.g. during a FETCH of many bodies) and then forgets those bytes; the transport writes them
  // to the client, in order, before returning (it may block; that is the back-pressure). The
  // rest still goes into `out` as usual. When unset, everything is appended to `out`, so a FETCH
  // of many large bodies is held in memory until receive() returns.
  std::function<void(std::string_view)> stream_output;
  std::size_t stream_threshold = 256 * 1024;
};

enum class SessionAction { keep_going, start_tls, close };

class Session {
 public:
  // `logins` must outlive the session. `wake` may be called from any thread, any time until the
  // session is destroyed, and must be cheap (post to the transport's executor).
  Session(SessionOptions options, mail::LoginService& logins, ConnectionInfo info, std::function<void()> wake);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // "* OK [CAPABILITY ...] MailTrixy Bridge ready.\r\n"
  std::string greeting() const;

  SessionAction receive(std::string_view bytes, std::string& out);
  SessionAction on_wake(std::string& out);
  // After a successful STARTTLS handshake: the connection is now encrypted; bytes buffered
  // before the handshake have been discarded.
  void on_tls_started();
  // "* BYE Autologout; idle for too long\r\n"
  void on_timeout(std::string& out);
  // "* BYE Server shutting down\r\n"
  void on_shutdown(std::string& out);

  // How long the transport waits for client bytes before on_timeout().
  std::chrono::seconds idle_timeout() const;
  // For logs and metrics: the account key once authenticated, else "".
  const std::string& account_key() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailtrixy::imap
