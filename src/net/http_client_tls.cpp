// The TLS client stream of HttpClient: SNI, certificate and host name verification.

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "http_client_stream.hpp"

namespace mailtrixy::net::detail {
namespace {

namespace beast = boost::beast;

// See http_stream_tls.cpp: handlers run on the stream's own executor.
template <class Handler>
auto bound(const asio::any_io_executor& executor, Handler handler) {
  return asio::bind_executor(executor, std::move(handler));
}

class ClientTlsStream final : public HttpStream {
 public:
  ClientTlsStream(asio::ip::tcp::socket socket, asio::ssl::context& context, const std::string& host,
                  bool host_is_ip_address)
      : stream_(std::move(socket), context) {
    SSL* ssl = stream_.native_handle();
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
  }

  executor_type get_executor() override { return stream_.get_executor(); }
  bool tls() const override { return true; }
  void expires_after(std::chrono::steady_clock::duration timeout) override { lowest().expires_after(timeout); }
  void cancel() override { lowest().cancel(); }
  void close() override { lowest().close(); }
  bool is_open() const override { return beast::get_lowest_layer(stream_).socket().is_open(); }
  void shutdown_send() override {}

  long verify_result() { return SSL_get_verify_result(stream_.native_handle()); }

 protected:
  void start_read(asio::mutable_buffer buffer, IoHandler handler) override {
    stream_.async_read_some(buffer, bound(stream_.get_executor(), std::move(handler)));
  }
  void start_write(const WriteBuffers& buffers, IoHandler handler) override {
    stream_.async_write_some(buffers, bound(stream_.get_executor(), std::move(handler)));
  }
  void start_handshake(DoneHandler handler) override {
    stream_.async_handshake(asio::ssl::stream_base::client, bound(stream_.get_executor(), std::move(handler)));
  }
  void start_shutdown(DoneHandler handler) override {
    stream_.async_shutdown(bound(stream_.get_executor(), std::move(handler)));
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  beast::ssl_stream<beast::tcp_stream> stream_;
};

}  // namespace

std::unique_ptr<HttpStream> make_client_tls_stream(asio::ip::tcp::socket socket, asio::ssl::context& context,
                                                   const std::string& host, bool host_is_ip_address) {
  return std::make_unique<ClientTlsStream>(std::move(socket), context, host, host_is_ip_address);
}

long tls_verify_result(HttpStream& stream) {
  auto* tls = dynamic_cast<ClientTlsStream*>(&stream);
  return tls != nullptr ? tls->verify_result() : 0;
}

}  // namespace mailtrixy::net::detail
