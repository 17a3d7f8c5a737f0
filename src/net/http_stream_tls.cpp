#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "http_stream.hpp"

namespace mailtrixy::net::detail {
namespace {

namespace beast = boost::beast;

// Asio 1.26's any_completion_executor (the executor of an any_completion_handler) cannot be
// required to be non-blocking, which Beast's stream asks of a handler's executor. The stream's
// own executor can: it is the connection's strand, the one the coroutine runs on anyway.
template <class Handler>
auto bound(const asio::any_io_executor& executor, Handler handler) {
  return asio::bind_executor(executor, std::move(handler));
}

class TlsStream final : public HttpStream {
 public:
  TlsStream(asio::ip::tcp::socket socket, asio::ssl::context& context) : stream_(std::move(socket), context) {}

  executor_type get_executor() override { return stream_.get_executor(); }
  bool tls() const override { return true; }
  void expires_after(std::chrono::steady_clock::duration timeout) override { lowest().expires_after(timeout); }
  void cancel() override { lowest().cancel(); }
  void close() override { lowest().close(); }
  bool is_open() const override { return beast::get_lowest_layer(stream_).socket().is_open(); }
  void shutdown_send() override {}

 protected:
  void start_read(asio::mutable_buffer buffer, IoHandler handler) override {
    stream_.async_read_some(buffer, bound(stream_.get_executor(), std::move(handler)));
  }
  void start_write(const WriteBuffers& buffers, IoHandler handler) override {
    stream_.async_write_some(buffers, bound(stream_.get_executor(), std::move(handler)));
  }
  void start_handshake(DoneHandler handler) override {
    stream_.async_handshake(asio::ssl::stream_base::server, bound(stream_.get_executor(), std::move(handler)));
  }
  void start_shutdown(DoneHandler handler) override {
    stream_.async_shutdown(bound(stream_.get_executor(), std::move(handler)));
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  beast::ssl_stream<beast::tcp_stream> stream_;
};

}  // namespace

std::unique_ptr<HttpStream> make_tls_stream(asio::ip::tcp::socket socket, asio::ssl::context& context) {
  return std::make_unique<TlsStream>(std::move(socket), context);
}

}  // namespace mailtrixy::net::detail
