#include "mailtrixy/config/address_range.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace mailtrixy::config {

bool AddressRange::contains(const std::array<std::uint8_t, 16>& candidate) const {
  int remaining = prefix_bits;
  for (std::size_t i = 0; i < 16 && remaining > 0; ++i, remaining -= 8) {
    const int bits = remaining >= 8 ? 8 : remaining;
    const auto mask = static_cast<std::uint8_t>(0xFF << (8 - bits));
    if ((candidate[i] & mask) != (address[i] & mask)) return false;
  }
  return true;
}

Result<std::array<std::uint8_t, 16>> parse_ip_address(std::string_view text) {
  std::array<std::uint8_t, 16> bytes{};
  const std::string copy(text);
  in_addr v4{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    bytes[10] = 0xFF;
    bytes[11] = 0xFF;
    std::memcpy(bytes.data() + 12, &v4, 4);
    return bytes;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
    std::memcpy(bytes.data(), &v6, 16);
    return bytes;
  }
  return make_error("\"" + copy + "\" is not an IP address");
}

Result<AddressRange> parse_address_range(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string_view host = text.substr(0, slash);
  auto address = parse_ip_address(host);
  if (!address) {
    return make_error("\"" + std::string(text) +
                      "\" is not an IP address or range; write one such as 192.0.2.10 or 10.0.0.0/8");
  }
  const bool v4 = host.find(':') == std::string_view::npos;
  AddressRange range;
  range.address = *address;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    int bits = -1;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    const int maximum = v4 ? 32 : 128;
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || bits < 0 ||
        bits > maximum) {
      return make_error("\"" + std::string(text) + "\" has a prefix length that is not 0-" +
                        std::to_string(maximum) + "; write one such as " + (v4 ? "10.0.0.0/8" : "2001:db8::/32"));
    }
    range.prefix_bits = v4 ? bits + 96 : bits;
    // Host bits set: the network address with those bits cleared is what the user most likely meant.
    for (int bit = range.prefix_bits; bit < 128; ++bit) {
      if ((range.address[static_cast<std::size_t>(bit / 8)] >> (7 - bit % 8)) & 1) {
        return make_error("\"" + std::string(text) +
                          "\" has bits set beyond its prefix; write the network address (e.g. 10.0.0.0/8) or "
                          "a single address without a prefix");
      }
    }
  }
  return range;
}

Result<AddressRanges> AddressRanges::parse(const std::vector<std::string>& entries) {
  AddressRanges ranges;
  for (const std::string& entry : entries) {
    auto range = parse_address_range(entry);
    if (!range) return make_error(range.error().message);
    ranges.ranges_.push_back(*range);
  }
  return ranges;
}

bool AddressRanges::contains(std::string_view address) const {
  if (ranges_.empty()) return false;
  auto parsed = parse_ip_address(address);
  if (!parsed) return false;
  for (const AddressRange& range : ranges_) {
    if (range.contains(*parsed)) return true;
  }
  return false;
}

}  // namespace mailtrixy::config
