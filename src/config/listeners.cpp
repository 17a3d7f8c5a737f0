#include "listeners.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace mailtrixy::config::detail {
namespace {

const sockaddr_in& as_ipv4(const sockaddr_storage& storage) {
  return reinterpret_cast<const sockaddr_in&>(storage);
}
const sockaddr_in6& as_ipv6(const sockaddr_storage& storage) {
  return reinterpret_cast<const sockaddr_in6&>(storage);
}

bool ipv4_is_loopback(const in_addr& address) {
  return (ntohl(address.s_addr) >> 24) == 127;
}

// ::ffff:a.b.c.d
bool ipv6_is_v4_mapped(const in6_addr& address) {
  static constexpr unsigned char kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(address.s6_addr, kPrefix, sizeof kPrefix) == 0;
}

}  // namespace

bool Endpoint::is_loopback() const {
  if (family() == AF_INET) return ipv4_is_loopback(as_ipv4(address).sin_addr);
  if (family() == AF_INET6) {
    const in6_addr& v6 = as_ipv6(address).sin6_addr;
    if (std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0) return true;
    return ipv6_is_v4_mapped(v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

bool Endpoint::is_wildcard() const {
  if (family() == AF_INET) return as_ipv4(address).sin_addr.s_addr == htonl(INADDR_ANY);
  if (family() == AF_INET6)
    return std::memcmp(&as_ipv6(address).sin6_addr, &in6addr_any, sizeof(in6_addr)) == 0;
  return false;
}

bool Endpoint::same_address(const Endpoint& other) const {
  if (family() != other.family()) return false;
  if (family() == AF_INET) return as_ipv4(address).sin_addr.s_addr == as_ipv4(other.address).sin_addr.s_addr;
  if (family() == AF_INET6) {
    return std::memcmp(&as_ipv6(address).sin6_addr, &as_ipv6(other.address).sin6_addr, sizeof(in6_addr)) == 0;
  }
  return false;
}

std::string Endpoint::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &as_ipv4(address).sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(as_ipv4(address).sin_port));
  }
  if (family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &as_ipv6(address).sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(as_ipv6(address).sin6_port));
  }
  return "(unknown address family)";
}

Result<std::vector<Endpoint>> resolve_listen_address(const ListenAddress& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  const int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return make_error(std::string(rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc)));
  }
  const std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, &::freeaddrinfo);

  std::vector<Endpoint> endpoints;
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    if (entry->ai_family != AF_INET && entry->ai_family != AF_INET6) continue;
    if (entry->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Endpoint endpoint;
    std::memcpy(&endpoint.address, entry->ai_addr, entry->ai_addrlen);
    endpoint.length = entry->ai_addrlen;
    bool duplicate = false;
    for (const Endpoint& known : endpoints) duplicate = duplicate || known.same_address(endpoint);
    if (!duplicate) endpoints.push_back(endpoint);
  }
  if (endpoints.empty()) return make_error("it has no IPv4 or IPv6 address");
  return endpoints;
}

BindProbe probe_bind(const Endpoint& endpoint) {
  const int fd = ::socket(endpoint.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {BindOutcome::failed, std::strerror(errno)};
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  // Probe exactly this address: a dual-stack [::] socket would also claim the IPv4 port.
  if (endpoint.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);

  BindProbe probe;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&endpoint.address), endpoint.length) != 0) {
    const int error = errno;
    probe.detail = std::strerror(error);
    switch (error) {
      case EADDRINUSE: probe.outcome = BindOutcome::in_use; break;
      case EACCES:
      case EPERM: probe.outcome = BindOutcome::permission_denied; break;
      case EADDRNOTAVAIL: probe.outcome = BindOutcome::not_local; break;
      default: probe.outcome = BindOutcome::failed; break;
    }
  }
  ::close(fd);
  return probe;
}

}  // namespace mailtrixy::config::detail
