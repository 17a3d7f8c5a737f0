#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "http_client_stream.hpp"
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

// One TLS stream for both sides: the server's connections and HttpClient's; only the handshake
// role and, on the client side, peer verification differ.
class TlsStream final : public HttpStream {
 public:
  TlsStream(asio::ip::tcp::socket socket, asio::ssl::context& context, asio::ssl::stream_base::handshake_type role)
      : stream_(std::move(socket), context), role_(role) {}

  SSL* ssl() { return stream_.native_handle(); }
  long verify_result() { return SSL_get_verify_result(stream_.native_handle()); }

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
    stream_.async_handshake(role_, bound(stream_.get_executor(), std::move(handler)));
  }
  void start_shutdown(DoneHandler handler) override {
    stream_.async_shutdown(bound(stream_.get_executor(), std::move(handler)));
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  beast::ssl_stream<beast::tcp_stream> stream_;
  asio::ssl::stream_base::handshake_type role_;
};

}  // namespace

std::unique_ptr<HttpStream> make_tls_stream(asio::ip::tcp::socket socket, asio::ssl::context& context) {
  return std::make_unique<TlsStream>(std::move(socket), context, asio::ssl::stream_base::server);
}

std::unique_ptr<HttpStream> make_client_tls_stream(asio::ip::tcp::socket socket, asio::ssl::context& context,
                                                   const std::string& host, bool host_is_ip_address) {
  auto stream = std::make_unique<TlsStream>(std::move(socket), context, asio::ssl::stream_base::client);
  SSL* ssl = stream->ssl();
  // SNI carries host names only (RFC 6066 §3 forbids literal IP addresses).
  // (SSL_set_tlsext_host_name is a macro with an old-style cast; this is what it expands to.)
  if (!host_is_ip_address) {
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (host_is_ip_address) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  return stream;
}

long tls_verify_result(HttpStream& stream) {
  auto* tls = dynamic_cast<TlsStream*>(&stream);
  return tls != nullptr ? tls->verify_result() : 0;
}

}  // namespace mailtrixy::net::detail
