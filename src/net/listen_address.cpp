#include "mailtrixy/net/listen_address.hpp"

#include <charconv>

namespace mailtrixy::net {

std::string ListenAddress::to_string() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  const std::string expected = "; expected host:port such as 127.0.0.1:8443 or [::1]:8443";
  if (text.empty()) {
    return make_error("listen address is empty" + expected);
  }

  std::string_view host;
  std::string_view port_text;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return make_error("listen address " + quoted + " has an unclosed '['" + expected);
    }
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return make_error("listen address " + quoted + " has no port after the ']'" + expected);
    }
    port_text = rest.substr(1);
    if (host.find(':') == std::string_view::npos) {
      return make_error("listen address " + quoted +
                        " puts brackets around something that is not an IPv6 address" + expected);
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return make_error("listen address " + quoted + " has no port" + expected);
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return make_error("listen address " + quoted +
                        " looks like an IPv6 address without brackets; write it as [address]:port");
    }
    if (host.find_first_of("[]") != std::string_view::npos) {
      return make_error("listen address " + quoted + " has a stray bracket" + expected);
    }
  }

  if (host.empty()) {
    return make_error("listen address " + quoted +
                      " has no host; use 0.0.0.0 (or [::]) to listen on every interface" +
                      expected);
  }
  if (host.find_first_of(" \t\r\n/") != std::string_view::npos) {
    return make_error("listen address " + quoted + " has a host with invalid characters" +
                      expected);
  }
  if (port_text.empty()) {
    return make_error("listen address " + quoted + " has an empty port" + expected);
  }
  unsigned long port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return make_error("listen address " + quoted + " has port \"" + std::string(port_text) +
                      "\", which is not a number from 0 to 65535");
  }
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace mailtrixy::net
