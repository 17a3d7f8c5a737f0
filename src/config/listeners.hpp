#pragma once
// Resolving listen addresses and probing whether they can be bound, with plain POSIX sockets so
// that the config module needs no networking library.

#include <sys/socket.h>

#include <string>
#include <vector>

#include "mailtrixy/base/result.hpp"
#include "values.hpp"

namespace mailtrixy::config::detail {

struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;

  int family() const { return address.ss_family; }
  bool is_loopback() const;
  bool is_wildcard() const;                        // 0.0.0.0 or ::
  bool same_address(const Endpoint& other) const;  // ignoring the port
  std::string to_string() const;                   // "127.0.0.1:1143", "[::1]:1143"
};

// Every address HOST resolves to for listening (getaddrinfo with AI_PASSIVE), without duplicates.
Result<std::vector<Endpoint>> resolve_listen_address(const ListenAddress& address);

enum class BindOutcome { free, in_use, permission_denied, not_local, failed };
struct BindProbe {
  BindOutcome outcome = BindOutcome::free;
  std::string detail;  // strerror text when the outcome is not `free`
};

// Binds a socket to `endpoint` the way a server would (SO_REUSEADDR, IPv6-only for IPv6) and
// closes it at once.
BindProbe probe_bind(const Endpoint& endpoint);

}  // namespace mailtrixy::config::detail
