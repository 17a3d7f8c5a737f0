#pragma once
// The Asio side of TlsServerContext, for the net module's own sources only.

#include <boost/asio/ssl/context.hpp>

#include "mailtrixy/net/tls.hpp"

namespace mailtrixy::net {

struct TlsServerContext::Impl {
  boost::asio::ssl::context context{boost::asio::ssl::context::tls_server};
};

inline boost::asio::ssl::context& asio_context(const TlsServerContext& tls) {
  return tls.impl()->context;
}

}  // namespace mailtrixy::net
