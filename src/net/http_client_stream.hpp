#pragma once
// Client-side byte streams for HttpClient, behind the same HttpStream interface the server uses,
// so Beast's HTTP algorithms are instantiated once for both plain and TLS connections.

#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>

#include "http_stream.hpp"

namespace boost::asio::ssl {
class context;
}

namespace mailtrixy::net::detail {

// A TLS client stream over a connected socket. SNI is set for host names; the peer certificate
// is verified against `context`'s trust store and against `host` (a DNS name or an IP address).
// The handshake (async_handshake) is the client side.
std::unique_ptr<HttpStream> make_client_tls_stream(asio::ip::tcp::socket socket, asio::ssl::context& context,
                                                   const std::string& host, bool host_is_ip_address);

// For a TLS stream made above, after a failed handshake: OpenSSL's certificate verification
// result (X509_V_OK = 0 when the failure was not about the certificate). 0 for other streams.
long tls_verify_result(HttpStream& stream);

}  // namespace mailtrixy::net::detail
