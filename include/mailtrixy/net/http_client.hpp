#pragma once
// An HTTP/1.1 client (HTTPS or plain HTTP) for the bridge's calls to the Microsoft identity
// platform and Microsoft Graph. Boost.Beast does the protocol; like http_server.hpp, this header
// keeps Beast, Asio and OpenSSL out of every file that includes it.
//
// Model
//   - The client owns an io_context and `threads` threads that run it. Every request is one
//     coroutine on those threads. send() may be called from any thread except the client's own:
//     it hands the request over and blocks until the outcome is known. send_async() returns at
//     once and calls the callback on a client thread; the callback must not block (and so must not
//     call send()).
//   - Connections are kept alive and pooled per scheme://host:port: after a complete response
//     that allows keep-alive the connection goes back to the pool (at most
//     max_idle_connections_per_host idle ones per origin; extra ones are closed). An idle
//     connection is dropped after idle_connection_timeout, or when the server closed it.
//   - A request sent on a reused (pooled) connection that fails before any byte of the response
//     arrived (the server closed the idle connection just as we used it) is retried once, on a
//     fresh connection. That is the only retry here: backoff, Retry-After and concurrency limits
//     belong to the callers (the Graph client, the token manager).
//
// TLS
//   - The server certificate is verified against the system trust store plus, when given, the
//     PEM bundle in extra_ca_file (the emulator's certificate, microsoft.ca_file), and its name
//     against the URL's host (DNS names by subjectAltName with RFC 6125 wildcard rules; IP
//     addresses against IP subjectAltNames). SNI is sent for host names. TLS 1.2 minimum.
//   - There is no switch to turn verification off.
//
// Requests
//   - url: absolute http:// or https:// URL (parsed with Boost.URL); the request-target is its
//     path and query as written (already percent-encoded). Userinfo and fragments are refused.
//   - Host, Content-Length (when there is a body or the method is POST/PUT/PATCH), User-Agent
//     (unless set) and Connection are added by the client; a Host, Content-Length,
//     Transfer-Encoding or Connection header in `headers` is an invalid_request error.
//   - timeout covers the whole exchange: resolving, connecting, the TLS handshake, sending and
//     receiving the complete response. connect_timeout additionally bounds resolve + connect + TLS.
//   - Responses may be Content-Length delimited, chunked or delimited by the connection closing;
//     bodies larger than max_response_body_bytes fail with response_too_large.
//   - Redirects are returned to the caller as they are, never followed.
//
// Errors
//   Every failure is an Error with one sentence naming the origin (scheme://host:port) and what
//   happened, e.g. "HTTPS request to https://login.microsoftonline.com:443 failed: the server's
//   certificate is not trusted (self-signed certificate); add its CA to microsoft.ca_file".
//   Messages never include the URL's path or query, the headers or the body: they may carry codes,
//   tokens or secrets. An HTTP error status (4xx, 5xx) is not an Error: it is a response.
//   The optional HttpFailure out-parameter says which kind of failure it was, so callers can tell
//   "surely not sent" (resolve, connect, tls) from "may have been processed" (timeout,
//   connection_lost, truncated) when deciding whether a non-idempotent request may be repeated.
//
// Stopping
//   The destructor (or stop()) cancels every request in flight (each completes with
//   HttpFailure::shut_down), closes every connection and joins the threads; later requests fail
//   at once with shut_down. Calling stop() from a client thread (from a send_async callback)
//   throws std::logic_error.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/net/http_server.hpp"  // HttpHeaders

namespace mailtrixy::net {

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;     // absolute: https://host[:port]/path?query
  HttpHeaders headers;  // e.g. {"Authorization", "Bearer ..."}, {"Content-Type", "..."}
  std::string body;
  std::chrono::milliseconds timeout{30000};
};

struct HttpClientResponse {
  int status = 0;
  HttpHeaders headers;  // in arrival order; repeated headers stay separate entries
  std::string body;     // de-chunked; never decompressed (the client sends no Accept-Encoding)

  // The first header with this name, compared case-insensitively; nullopt when absent. The view
  // points into `headers`.
  std::optional<std::string_view> header(std::string_view name) const;
};

enum class HttpFailure {
  none,                // success (the out-parameter is set to this on success)
  invalid_request,     // bad URL or method, forbidden header: nothing was sent
  resolve,             // the host name did not resolve: nothing was sent
  connect,             // refused, unreachable: nothing was sent
  tls,                 // handshake failed, certificate or host name not trusted: nothing was sent
  timeout,             // no complete response within the timeout: the server may have acted
  connection_lost,     // reset or closed after the request was (partly) sent: may have acted
  truncated,           // the response ended early: the server acted
  response_too_large,  // body over max_response_body_bytes: the server acted
  protocol,            // not a valid HTTP/1.x response
  shut_down,           // the client is stopping
};

// "timeout", "connection_lost", ... for logs and metrics.
std::string_view to_string(HttpFailure failure);

struct HttpClientOptions {
  std::filesystem::path extra_ca_file;  // PEM bundle trusted besides the system store; empty: none
  int threads = 1;                      // I/O threads, at least 1
  std::size_t max_idle_connections_per_host = 4;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds idle_connection_timeout{50000};  // below servers' usual 60 s
  std::size_t max_response_body_bytes = 256 * 1024 * 1024;
  std::string user_agent = "mailtrixy";
};

class HttpClient {
 public:
  // Errors: threads < 1, an extra_ca_file that cannot be read or holds no PEM certificate.
  static Result<std::unique_ptr<HttpClient>> create(HttpClientOptions options = {});

  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Blocks until the response is complete or the request failed. Throws std::logic_error when
  // called on one of the client's threads (it would wait for itself).
  Result<HttpClientResponse> send(const HttpClientRequest& request, HttpFailure* failure = nullptr);

  // Returns at once; `done` runs exactly once: on a client thread, or, for a request still in
  // flight when the client stops, on the thread calling stop() (with HttpFailure::shut_down);
  // for a request refused at once (invalid, client stopped) on the calling thread, before
  // send_async returns. `done` must not call stop().
  using Callback = std::function<void(Result<HttpClientResponse> result, HttpFailure failure)>;
  void send_async(HttpClientRequest request, Callback done);

  // Cancels requests in flight, closes connections, joins threads. Idempotent.
  void stop();

  // Connections opened so far (for tests and metrics: keep-alive reuse keeps it low).
  std::size_t connections_opened() const;
  // Idle pooled connections right now.
  std::size_t idle_connections() const;

  struct Core;  // the Asio/Beast side, defined inside the net module

 private:
  explicit HttpClient(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

// Percent-encodes `text` for application/x-www-form-urlencoded bodies and query strings: every
// byte except ALPHA / DIGIT / "-" / "." / "_" / "~" becomes %XX (a space is %20).
std::string url_encode_component(std::string_view text);

// Builds "k1=v1&k2=v2" with both names and values encoded by url_encode_component().
std::string form_encode(const HttpHeaders& fields);

}  // namespace mailtrixy::net
