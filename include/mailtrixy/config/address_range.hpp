#pragma once
// Address ranges for cluster.trusted_proxies: "192.0.2.10", "10.0.0.0/8", "2001:db8::/32",
// "::1". IPv4 addresses are kept as IPv4-mapped IPv6 (::ffff:a.b.c.d), so a listener that reports
// a mapped peer ("::ffff:10.1.2.3") matches the range "10.0.0.0/8" too.
//
// The loader validates each entry with parse_address_range (errors name the entry and show an
// example); the front-ends get an AddressRanges::contains predicate from the app and never see
// the YAML. Host names are refused: a proxy is trusted by the address it connects from.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::config {

struct AddressRange {
  std::array<std::uint8_t, 16> address{};  // IPv6, or IPv4-mapped IPv6
  int prefix_bits = 128;                   // of the 128 bits (an IPv4 /8 is stored as /104)

  bool contains(const std::array<std::uint8_t, 16>& candidate) const;
};

// "IP" or "IP/PREFIX" (0-32 for IPv4, 0-128 for IPv6). Bits beyond the prefix must be zero
// ("10.1.2.3/8" is refused: it is most likely a typo for one address or for "10.0.0.0/8").
Result<AddressRange> parse_address_range(std::string_view text);

// An IP address (no port, no brackets) as 16 bytes; IPv4 becomes IPv4-mapped.
Result<std::array<std::uint8_t, 16>> parse_ip_address(std::string_view text);

class AddressRanges {
 public:
  // Errors: the first entry that does not parse, with why.
  static Result<AddressRanges> parse(const std::vector<std::string>& entries);

  // True when `address` (as a listener reports its peer, e.g. "127.0.0.1" or "::1") lies in one
  // of the ranges; false for anything that is not an IP address.
  bool contains(std::string_view address) const;
  bool empty() const { return ranges_.empty(); }

 private:
  std::vector<AddressRange> ranges_;
};

}  // namespace mailtrixy::config
