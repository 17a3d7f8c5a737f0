#include <boost/asio/bind_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/tcp_stream.hpp>

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

class PlainStream final : public HttpStream {
 public:
  explicit PlainStream(asio::ip::tcp::socket socket) : stream_(std::move(socket)) {}

  executor_type get_executor() override { return stream_.get_executor(); }
  bool tls() const override { return false; }
  void expires_after(std::chrono::steady_clock::duration timeout) override { stream_.expires_after(timeout); }
  void cancel() override { stream_.cancel(); }
  void close() override { stream_.close(); }
  bool is_open() const override { return stream_.socket().is_open(); }
  void shutdown_send() override {
    error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }

 protected:
  void start_read(asio::mutable_buffer buffer, IoHandler handler) override {
    stream_.async_read_some(buffer, bound(stream_.get_executor(), std::move(handler)));
  }
  void start_write(const WriteBuffers& buffers, IoHandler handler) override {
    stream_.async_write_some(buffers, bound(stream_.get_executor(), std::move(handler)));
  }
  void start_handshake(DoneHandler handler) override {
    asio::post(stream_.get_executor(), asio::append(bound(stream_.get_executor(), std::move(handler)), error_code{}));
  }
  void start_shutdown(DoneHandler handler) override {
    asio::post(stream_.get_executor(), asio::append(bound(stream_.get_executor(), std::move(handler)), error_code{}));
  }

 private:
  beast::tcp_stream stream_;
};

}  // namespace

std::unique_ptr<HttpStream> make_plain_stream(asio::ip::tcp::socket socket) {
  return std::make_unique<PlainStream>(std::move(socket));
}

}  // namespace mailtrixy::net::detail
