#pragma once
// A small embeddable HTTP/1.1 server (HTTPS or plain HTTP) for the bridge's web UI and for the
// Graph emulator. Boost.Beast does the protocol; this header keeps Beast, Asio and OpenSSL out
// of every file that includes it (see docs/adr/0003-http-server.md).
//
// Model
//   - `threads` threads run the I/O; every connection is one coroutine on its own strand.
//   - The handler is a plain synchronous function called on one of those threads, once per
//     request, concurrently for different connections: it must be thread-safe and must not block
//     for long (a blocked handler holds one thread; when every thread is blocked, every connection
//     waits). Work that takes time belongs elsewhere (a worker, a queue) with the handler only
//     handing it over. Artificial latency is HttpResponse::delay, which waits on a timer without
//     holding a thread.
//   - HttpResponse::on_answered runs when the response, after its delay, is handed to the socket
//     to be written, or once it is certain it never will be (connection lost, server stopped). It
//     lets a handler keep counters of requests "in flight" that include the delay, e.g. for
//     per-mailbox concurrency limits; it runs before the client can have read the response, so
//     a client that waits for each answer never sees its previous request still counted.
//
// Protocol behaviour
//   - HTTP/1.0 and HTTP/1.1, keep-alive as the request asks (1.1 default on, 1.0 default off);
//     pipelined requests are answered in order; "Expect: 100-continue" is honoured.
//   - Every response carries Date, Server: mailtrixy and Content-Length (set by the server from
//     the body; a Content-Length, Transfer-Encoding or Connection header set by the handler is
//     replaced, except that "Connection: close" from the handler closes the connection).
//   - HEAD requests reach the handler with method "HEAD"; the reply carries the headers and the
//     Content-Length of the body the handler produced, without the body.
//   - A body larger than max_body_bytes → 413, a header block larger than max_header_bytes → 431,
//     an unparsable request → 400; each then closes the connection. A handler that throws → 500
//     with a generic body and an error log line (method and path only: never the query string,
//     headers or body, which may carry credentials). A handler that returns an invalid status
//     (outside 200-599) or header (name not a token, CR/LF/NUL in a value) → 500 likewise.
//   - 204 and 304 responses are sent without a body.
//   - A connection that stays silent for idle_timeout between requests, or stalls that long
//     while sending a request or receiving a response, is closed. Headers must arrive within
//     idle_timeout of the connection becoming idle (slow-header clients cannot hold a connection).
//   - With TLS, a failed handshake is logged at debug level and only ends that connection.
//   - At debug level each request is logged once answered: peer, method, path (no query), status,
//     milliseconds.
//
// Stopping
//   stop(grace) stops accepting, closes idle keep-alive connections at once, lets requests in
//   progress (including their delay) finish and close for up to `grace`, then closes whatever is
//   left and returns. Worst case it returns after grace + 1 s, provided no handler is blocked.
//   It is idempotent; the destructor calls stop(0s). Called from a handler (a server thread) it
//   throws std::logic_error: the server cannot join the thread it is running on.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/net/tls.hpp"

namespace mailtrixy::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;          // as sent, e.g. "GET"
  std::string target;          // the raw request-target, e.g. "/me/messages?$top=10"
  std::string path;            // target up to '?', still percent-encoded
  std::string query;           // after '?', still percent-encoded; empty when there is none
  int version = 11;            // 10 for HTTP/1.0, 11 for HTTP/1.1
  HttpHeaders headers;         // in arrival order; repeated headers stay separate entries
  std::string body;
  std::string remote_address;  // the peer's IP address, without port or brackets
  std::uint16_t remote_port = 0;
  bool tls = false;            // arrived over HTTPS

  // The first header with this name, compared case-insensitively; nullopt when absent. The view
  // points into `headers`.
  std::optional<std::string_view> header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  // The server waits this long (on a timer, holding no thread) before sending the response.
  std::chrono::milliseconds delay{0};
  // Called exactly once, on a server thread, as the response (after its delay) is handed to the
  // socket, or when it cannot be written any more (peer gone, server stopping). Exceptions from
  // it are logged and swallowed.
  std::function<void()> on_answered;

  // Shorthand for the common case: a status, a body and its Content-Type.
  static HttpResponse text(int status, std::string body,
                           std::string content_type = "text/plain; charset=utf-8");
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";           // "host:port", see listen_address.hpp
  std::optional<TlsFiles> tls;                  // nullopt: plain HTTP
  int threads = 2;                              // I/O and handler threads, at least 1
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  std::size_t max_header_bytes = 64 * 1024;     // request line plus all header fields
  std::chrono::seconds idle_timeout{60};
};

class HttpServer {
 public:
  // Binds and listens before returning, so port() is final and clients may connect at once.
  // Errors: invalid options, a listen address that does not parse or resolve ("cannot resolve
  // host ..."), a port that cannot be bound ("cannot listen on 127.0.0.1:8443: address already
  // in use"), an unusable certificate or key (see make_server_tls).
  static Result<std::unique_ptr<HttpServer>> start(HttpServerOptions options, HttpHandler handler);

  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const;  // the bound port (the real one when listen asked for port 0)
  std::string address() const;  // the bound "host:port", IPv6 hosts in brackets
  bool tls() const;

  void stop(std::chrono::milliseconds grace);

  struct Core;  // the Asio/Beast side, defined inside the net module

 private:
  explicit HttpServer(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

// "Mon, 02 Jan 2006 15:04:05 GMT" (RFC 9110 IMF-fixdate), locale-independent; for Date,
// Last-Modified and Expires headers.
std::string http_date(std::chrono::system_clock::time_point when);

// The standard reason phrase ("Not Found"), or "Unknown" for a code without one.
std::string_view http_reason(int status);

}  // namespace mailtrixy::net
