#pragma once
// Between Beast's message types and the plain HttpRequest/HttpResponse of the public header:
// calling the handler and turning its answer into a message that is safe to put on the wire.
// No sockets here, so this compiles without the Asio networking and SSL headers' templates.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "mailtrixy/net/http_server.hpp"

namespace mailtrixy::net::detail {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct Peer {
  std::string address;
  std::uint16_t port = 0;
  bool tls = false;
};

struct PreparedResponse {
  BeastResponse message;
  bool keep_alive = false;  // the connection stays open after this response
  std::chrono::milliseconds delay{0};
  std::function<void()> on_answered;
};

// Runs the handler for one request and returns the response to send. Never throws for anything
// the handler does: exceptions and invalid responses become a 500 and an error log line.
PreparedResponse respond(const HttpHandler& handler, BeastRequest&& request, const Peer& peer,
                         bool keep_alive_allowed);

// A server-generated error (400, 413, 431, 500 ...) that closes the connection.
BeastResponse error_response(int status, unsigned version, std::string_view detail);

// Sets keep-alive (and the matching Connection header for the request's version).
void set_keep_alive(BeastResponse& response, bool keep_alive);

// Runs a response's on_answered exactly once: when fire() is called or, failing that, when the
// notifier is destroyed (the connection died or the server dropped the coroutine).
class AnsweredNotifier {
 public:
  explicit AnsweredNotifier(std::function<void()> callback) : callback_(std::move(callback)) {}
  ~AnsweredNotifier() { fire(); }
  AnsweredNotifier(const AnsweredNotifier&) = delete;
  AnsweredNotifier& operator=(const AnsweredNotifier&) = delete;
  void fire() noexcept;

 private:
  std::function<void()> callback_;
};

}  // namespace mailtrixy::net::detail
