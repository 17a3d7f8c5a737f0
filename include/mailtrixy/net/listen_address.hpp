#pragma once
// Listener addresses as written in the configuration: "host:port".
//
//   127.0.0.1:8443     IPv4 address
//   [::1]:1993         IPv6 address, always in brackets (a bare "::1:1993" is ambiguous)
//   localhost:1143     a host name, resolved when the listener starts
//   0.0.0.0:8443       every IPv4 interface ("[::]:8443" for IPv6)
//   127.0.0.1:0        port 0 asks the kernel for a free port (tests)
//
// Parsing checks the form only; whether the host resolves and the port is free is found out
// when a listener binds (HttpServer::start reports both as one clear line).

#include <cstdint>
#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::net {

struct ListenAddress {
  std::string host;  // without the IPv6 brackets
  std::uint16_t port = 0;

  // "host:port", with brackets around an IPv6 host; parse_listen_address(to_string()) round-trips.
  std::string to_string() const;
};

// Splits "host:port". Errors (one sentence that quotes the input) for an empty string, a missing
// or empty host, a missing, non-numeric or out-of-range port, an unbracketed IPv6 address and
// unbalanced brackets.
Result<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace mailtrixy::net
