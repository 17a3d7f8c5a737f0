#pragma once
// The byte stream under an HTTP connection, plain TCP or TLS, behind one non-template interface.
//
// Why: Beast's HTTP algorithms and the connection coroutine are templates over the stream type.
// Instantiated for both beast::tcp_stream and beast::ssl_stream they doubled the heaviest part of
// the module's compile time (minutes under the sanitizers). Behind this interface they compile
// once (http_connection.cpp); only the few raw stream operations are compiled per stream type
// (http_stream_plain.cpp, http_stream_tls.cpp). The price is one virtual call and one small
// type-erased handler per read or write, which is noise next to a system call.
//
// The stream satisfies Asio's AsyncReadStream and AsyncWriteStream requirements, so Beast's
// http::async_read/async_write work on it directly. Timeouts are Beast's basic_stream ones: each
// operation started after expires_after() fails with beast::error::timeout once it passes.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>

namespace boost::asio::ssl {
class context;
}

namespace mailtrixy::net::detail {

namespace asio = boost::asio;
using boost::system::error_code;

// The first buffers of a write (a write may be partial, so taking a prefix is correct), held by
// value so the operation in flight owns its copy.
class WriteBuffers {
 public:
  static constexpr std::size_t kMax = 16;

  template <class ConstBufferSequence>
  explicit WriteBuffers(const ConstBufferSequence& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers) && count_ < kMax;
         ++it) {
      const asio::const_buffer buffer(*it);
      if (buffer.size() > 0) items_[count_++] = buffer;
    }
  }
  const asio::const_buffer* begin() const { return items_.data(); }
  const asio::const_buffer* end() const { return items_.data() + count_; }

 private:
  std::array<asio::const_buffer, kMax> items_{};
  std::size_t count_ = 0;
};

class HttpStream {
 public:
  using executor_type = asio::any_io_executor;
  using IoHandler = asio::any_completion_handler<void(error_code, std::size_t)>;
  using DoneHandler = asio::any_completion_handler<void(error_code)>;

  virtual ~HttpStream() = default;

  virtual executor_type get_executor() = 0;
  virtual bool tls() const = 0;

  // Deadline for the operations started from now on (Beast basic_stream semantics).
  virtual void expires_after(std::chrono::steady_clock::duration timeout) = 0;
  // Pending operations complete with operation_aborted; the stream stays usable.
  virtual void cancel() = 0;
  // Closes the socket; pending operations complete with an error.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  // TCP half-close (FIN after the queued data). No-op for TLS, where it would truncate the record.
  virtual void shutdown_send() = 0;

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    // Reading into the first non-empty buffer is a valid partial read.
    asio::mutable_buffer target;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      target = asio::mutable_buffer(*it);
      if (target.size() > 0) break;
    }
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](IoHandler handler, asio::mutable_buffer buffer) { start_read(buffer, std::move(handler)); }, token,
        target);
  }

  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](IoHandler handler, WriteBuffers prefix) { start_write(prefix, std::move(handler)); }, token,
        WriteBuffers(buffers));
  }

  // The server side of the TLS handshake; completes at once for plain TCP.
  template <class Token>
  auto async_handshake(Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [this](DoneHandler handler) { start_handshake(std::move(handler)); }, token);
  }

  // Sends TLS close_notify and waits for the peer's; completes at once for plain TCP.
  template <class Token>
  auto async_shutdown(Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [this](DoneHandler handler) { start_shutdown(std::move(handler)); }, token);
  }

 protected:
  virtual void start_read(asio::mutable_buffer buffer, IoHandler handler) = 0;
  virtual void start_write(const WriteBuffers& buffers, IoHandler handler) = 0;
  virtual void start_handshake(DoneHandler handler) = 0;
  virtual void start_shutdown(DoneHandler handler) = 0;
};

std::unique_ptr<HttpStream> make_plain_stream(asio::ip::tcp::socket socket);
std::unique_ptr<HttpStream> make_tls_stream(asio::ip::tcp::socket socket, asio::ssl::context& context);

}  // namespace mailtrixy::net::detail
