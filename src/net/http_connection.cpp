// One HTTP connection = one coroutine on its own strand, over a type-erased HttpStream (plain or
// TLS), so this file is the only place Beast's HTTP algorithms are instantiated.
//
// Expected outcomes (peer closed, timeout, TLS short read, cancelled by stop) come back as values
// through as_tuple; they end the connection quietly. Protocol errors get one error response.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <memory>
#include <string>

#include "http_message.hpp"
#include "http_server_core.hpp"
#include "http_stream.hpp"
#include "mailtrixy/base/log.hpp"

namespace mailtrixy::net {
namespace detail {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// After an error response the client may still be sending the request it started; reading
// (and dropping) that for a moment before closing lets it see the response instead of a reset.
constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::size_t kLingerBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kTlsShutdownTime{1000};

// Errors that simply mean the conversation is over: no response, no noise in the log.
bool is_end_of_conversation(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::connection_aborted ||
         ec == asio::error::broken_pipe || ec == asio::error::bad_descriptor ||
         ec == asio::error::not_connected || ec == beast::error::timeout ||
         ec == asio::ssl::error::stream_truncated;
}

class Connection final : public ConnectionControl {
 public:
  Connection(HttpServer::Core& core, std::unique_ptr<HttpStream> stream, Peer peer)
      : core_(core), stream_(std::move(stream)), peer_(std::move(peer)), delay_timer_(stream_->get_executor()) {}
  ~Connection() override { core_.unregister_connection(this); }

  asio::any_io_executor executor() override { return stream_->get_executor(); }

  void request_stop() override {
    stop_requested_ = true;
    if (idle_) stream_->cancel();
  }

  void force_close() override {
    stop_requested_ = true;
    stream_->close();
    delay_timer_.cancel();
  }

  static asio::awaitable<void> run(std::shared_ptr<Connection> self) { co_await self->serve(); }

 private:
  const HttpServerOptions& options() const { return core_.options; }
  bool should_stop() const { return stop_requested_ || core_.stopping.load(); }

  asio::awaitable<void> serve() {
    if (stream_->tls()) {
      idle_ = true;
      stream_->expires_after(options().idle_timeout);
      auto [ec] = co_await stream_->async_handshake(use_tuple);
      idle_ = false;
      if (ec) {
        log::debug("TLS handshake failed", {{"peer", peer_.address}, {"reason", ec.message()}});
        co_return;
      }
    }
    beast::flat_buffer buffer;
    for (;;) {
      if (should_stop()) break;
      switch (co_await serve_one(buffer)) {
        case Outcome::keep_open:
          continue;
        case Outcome::close:
          co_await close_politely();
          co_return;
        case Outcome::close_draining:
          co_await linger();
          co_return;
        case Outcome::abort:
          break;
      }
      break;
    }
    stream_->close();
  }

  enum class Outcome { keep_open, close, close_draining, abort };

  asio::awaitable<Outcome> serve_one(beast::flat_buffer& buffer) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options().max_header_bytes, UINT32_MAX)));
    parser.body_limit(options().max_body_bytes);

    // Waiting for the next request: this is the state stop() may interrupt.
    idle_ = buffer.size() == 0;
    stream_->expires_after(options().idle_timeout);
    auto [header_ec, header_bytes] = co_await http::async_read_header(*stream_, buffer, parser, use_tuple);
    idle_ = false;
    if (header_ec) co_return co_await reject(header_ec, parser.is_header_done() ? parser.get().version() : 11);

    const unsigned version = parser.get().version();
    if (!parser.is_done() && version >= 11) {  // HTTP/1.0 has no 100 Continue
      const auto expect = parser.get().find(http::field::expect);
      if (expect != parser.get().end() && beast::iequals(expect->value(), "100-continue")) {
        // A fixed status line; written raw rather than through a second Beast serializer type.
        constexpr std::string_view proceed = "HTTP/1.1 100 Continue\r\n\r\n";
        stream_->expires_after(options().idle_timeout);
        auto [ec, n] = co_await asio::async_write(*stream_, asio::buffer(proceed), use_tuple);
        if (ec) co_return Outcome::abort;
      }
    }
    // The body: the timeout is per read, so a large upload is limited by inactivity, not size.
    while (!parser.is_done()) {
      stream_->expires_after(options().idle_timeout);
      auto [ec, n] = co_await http::async_read_some(*stream_, buffer, parser, use_tuple);
      if (ec) co_return co_await reject(ec, version);
    }

    const bool keep_alive_allowed = !should_stop();
    const auto started = std::chrono::steady_clock::now();
    std::string method;
    std::string path;
    if (log::level() == log::Level::debug) {  // the access log is for debugging; keep it off the hot path
      method = std::string(parser.get().method_string());
      path = std::string(parser.get().target().substr(0, parser.get().target().find('?')));
    }
    PreparedResponse prepared = respond(core_.handler, parser.release(), peer_, keep_alive_allowed);
    AnsweredNotifier notifier(std::move(prepared.on_answered));
    if (prepared.delay.count() > 0) {
      delay_timer_.expires_after(prepared.delay);
      auto [ec] = co_await delay_timer_.async_wait(use_tuple);
      if (ec || !stream_->is_open()) co_return Outcome::abort;
    }
    if (prepared.keep_alive && should_stop()) {
      prepared.keep_alive = false;
      set_keep_alive(prepared.message, false);
    }
    // The request counts as answered once its response is complete and handed to the socket: a
    // client that waits for the answer before its next request must never find it still counted.
    notifier.fire();
    const bool written = co_await write(prepared.message);
    if (!method.empty()) {
      const auto elapsed =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      log::debug("HTTP request", {{"peer", peer_.address}, {"method", method}, {"path", path},
                                  {"status", prepared.message.result_int()}, {"ms", elapsed.count()},
                                  {"sent", written ? "yes" : "no"}});
    }
    if (!written) co_return Outcome::abort;
    co_return prepared.keep_alive ? Outcome::keep_open : Outcome::close;
  }

  // Answers a failed read: quietly for an ended conversation, with 400/413/431 for bad input.
  asio::awaitable<Outcome> reject(const boost::system::error_code& ec, unsigned version) {
    int status = 0;
    std::string detail;
    if (ec == http::error::body_limit) {
      status = 413;
      detail = "the request body is larger than " + std::to_string(options().max_body_bytes) + " bytes";
    } else if (ec == http::error::header_limit) {
      status = 431;
      detail = "the request header is larger than " + std::to_string(options().max_header_bytes) + " bytes";
    } else if (is_end_of_conversation(ec)) {
      if (ec == beast::error::timeout) log::debug("HTTP connection timed out", {{"peer", peer_.address}});
      co_return Outcome::abort;
    } else if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      status = 400;
      detail = "the request is not valid HTTP/1.1 (" + ec.message() + ")";
    } else {
      log::debug("HTTP connection failed", {{"peer", peer_.address}, {"reason", ec.message()}});
      co_return Outcome::abort;
    }
    log::debug("HTTP request rejected", {{"peer", peer_.address}, {"status", status}, {"reason", ec.message()}});
    BeastResponse response = error_response(status, version, detail);
    if (!co_await write(response)) co_return Outcome::abort;
    co_return Outcome::close_draining;
  }

  // For HEAD the message has an empty body and the Content-Length of the body it stands for:
  // Beast writes the header block and nothing after it.
  asio::awaitable<bool> write(BeastResponse& response) {
    http::response_serializer<http::string_body> serializer{response};
    // One timeout per chunk: a slow reader of a large response is fine while it makes progress.
    while (!serializer.is_done()) {
      stream_->expires_after(options().idle_timeout);
      auto [ec, n] = co_await http::async_write_some(*stream_, serializer, use_tuple);
      if (ec) co_return false;
    }
    co_return true;
  }

  // Half-close, then read and drop what the client still sends, for a bounded time and amount.
  asio::awaitable<void> linger() {
    stream_->shutdown_send();
    stream_->expires_after(kLingerTime);
    std::array<char, 16384> sink;
    std::size_t drained = 0;
    while (drained < kLingerBytes) {
      auto [ec, n] = co_await stream_->async_read_some(asio::buffer(sink), use_tuple);
      if (ec) break;
      drained += n;
    }
    stream_->close();
  }

  asio::awaitable<void> close_politely() {
    if (!stream_->is_open()) co_return;
    if (stream_->tls()) {
      // close_notify tells the client the response was not cut short; do not wait long for its own.
      stream_->expires_after(kTlsShutdownTime);
      co_await stream_->async_shutdown(use_tuple);  // its outcome changes nothing
    } else {
      stream_->shutdown_send();
    }
    stream_->close();
  }

  HttpServer::Core& core_;
  std::unique_ptr<HttpStream> stream_;
  Peer peer_;
  asio::steady_timer delay_timer_;
  bool idle_ = false;            // waiting for the first byte of a request (or the handshake)
  bool stop_requested_ = false;  // both flags only touched on the connection's strand
};

}  // namespace
}  // namespace detail

void serve_connection(HttpServer::Core& core, std::unique_ptr<detail::HttpStream> stream, detail::Peer peer) {
  using detail::Connection;
  auto connection = std::make_shared<Connection>(core, std::move(stream), std::move(peer));
  if (!core.register_connection(connection)) return;  // stopping: dropping it closes the socket
  auto executor = connection->executor();
  asio::co_spawn(executor, Connection::run(std::move(connection)), [](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      log::error("HTTP connection ended by an unexpected error", {{"error", e.what()}});
    }
  });
}

}  // namespace mailtrixy::net
