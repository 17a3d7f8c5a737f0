#include "values.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <limits>
#include <utility>

namespace mailtrixy::config::detail {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex_digit(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}
bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// Parses a run of decimal digits; false on overflow or when `text` is not all digits.
bool parse_unsigned(std::string_view text, std::uint64_t& out) {
  if (!all_digits(text)) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

bool is_hostname_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

// A DNS name or IPv4 literal; IPv6 literals are checked separately (they arrive without brackets).
bool is_plausible_hostname(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (!is_hostname_char(c)) return false;
  }
  return true;
}

bool is_plausible_ipv6(std::string_view host) {
  if (host.find(':') == std::string_view::npos) return false;
  for (char c : host) {
    if (!is_hex_digit(c) && c != ':' && c != '.' && c != '%' &&
        !std::isalnum(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

bool has_whitespace_or_control(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::string to_lower_ascii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::string quote_value(std::string_view text) {
  constexpr std::size_t kMaxShown = 80;
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : text) {
    if (shown == kMaxShown) {
      out += "...";
      break;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                        '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
          out += "\\x";
          out += kHex[static_cast<unsigned char>(c) >> 4];
          out += kHex[static_cast<unsigned char>(c) & 0xf];
        } else {
          out += c;
        }
    }
    ++shown;
  }
  out += '"';
  return out;
}

Result<ListenAddress> parse_listen_address(std::string_view text, std::string_view example) {
  const std::string not_host_port =
      quote_value(text) + " is not HOST:PORT (example: " + std::string(example) + ")";
  if (text.empty()) return make_error("is empty; write HOST:PORT (example: " + std::string(example) + ")");
  if (has_whitespace_or_control(text)) return make_error(not_host_port + "; remove the spaces");

  std::string_view host;
  std::string_view port_text;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error(not_host_port + "; an IPv6 address is written [ADDRESS]:PORT, e.g. [::1]:1143");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (!is_plausible_ipv6(host)) {
      return make_error(quote_value(host) + " in " + quote_value(text) + " is not an IPv6 address");
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return make_error(not_host_port);
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return make_error(not_host_port + "; write IPv6 addresses in brackets, e.g. [::1]:1143");
    }
    if (host.empty()) {
      return make_error(
          quote_value(text) +
          " has no host; use 127.0.0.1 for this machine only or 0.0.0.0 for every interface (example: " +
          std::string(example) + ")");
    }
    if (!is_plausible_hostname(host)) {
      return make_error(quote_value(host) + " in " + quote_value(text) + " is not a host name or IP address");
    }
  }

  std::uint64_t port = 0;
  if (port_text.empty() || !all_digits(port_text)) {
    return make_error(not_host_port + "; the port must be a number");
  }
  if (!parse_unsigned(port_text, port) || port > 65535) {
    return make_error("port " + std::string(port_text) + " in " + quote_value(text) +
                      " is out of range (0-65535)");
  }
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(port)};
}

Result<HttpUrl> parse_http_url(std::string_view text, std::string_view example) {
  const std::string not_url =
      quote_value(text) + " is not an http:// or https:// URL (example: " + std::string(example) + ")";
  if (text.empty()) return make_error("is empty; write a URL such as " + std::string(example));
  if (has_whitespace_or_control(text)) return make_error(quote_value(text) + " contains spaces; remove them");

  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return make_error(not_url);
  HttpUrl url;
  url.scheme = std::string(text.substr(0, scheme_end));
  const std::string scheme_lower = to_lower_ascii(url.scheme);
  if (scheme_lower != "http" && scheme_lower != "https") return make_error(not_url);

  std::string_view rest = text.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  if (authority.find('@') != std::string_view::npos) {
    return make_error(quote_value(text) + " contains a user name; remove the part before '@'");
  }
  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return make_error(not_url);
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return make_error(not_url);
      has_port = true;
      port_text = after.substr(1);
    }
    if (!is_plausible_ipv6(host)) return make_error(not_url);
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (host.empty())
      return make_error(quote_value(text) + " has no host name (example: " + std::string(example) + ")");
    if (!is_plausible_hostname(host)) {
      return make_error(quote_value(host) + " in " + quote_value(text) + " is not a host name or IP address");
    }
  }
  url.host = std::string(host);
  if (has_port) {
    std::uint64_t port = 0;
    if (!parse_unsigned(port_text, port) || port == 0 || port > 65535) {
      return make_error("port " + quote_value(port_text) + " in " + quote_value(text) +
                        " is not a number from 1 to 65535");
    }
    url.port = static_cast<std::uint16_t>(port);
  }

  const auto fragment_start = rest.find('#');
  if (fragment_start != std::string_view::npos) {
    url.fragment = std::string(rest.substr(fragment_start + 1));
    rest = rest.substr(0, fragment_start);
  }
  const auto query_start = rest.find('?');
  if (query_start != std::string_view::npos) {
    url.query = std::string(rest.substr(query_start + 1));
    rest = rest.substr(0, query_start);
  }
  url.path = std::string(rest);
  return url;
}

Result<std::uint64_t> parse_size(std::string_view text) {
  const std::string not_size =
      quote_value(text) +
      " is not a size in bytes; write a whole number of bytes, optionally with KiB, MiB "
      "or GiB (example: 150MiB)";
  if (!text.empty() && text.front() == '-')
    return make_error(quote_value(text) + " is negative; sizes must be 0 or more");
  std::size_t digits_end = 0;
  while (digits_end < text.size() && is_digit(text[digits_end])) ++digits_end;
  if (digits_end == 0) return make_error(not_size);

  std::uint64_t number = 0;
  if (!parse_unsigned(text.substr(0, digits_end), number))
    return make_error(quote_value(text) + " is too large");

  std::string_view unit = text.substr(digits_end);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  std::uint64_t multiplier = 1;
  if (unit.empty()) {
    multiplier = 1;
  } else if (unit == "KiB") {
    multiplier = 1ULL << 10;
  } else if (unit == "MiB") {
    multiplier = 1ULL << 20;
  } else if (unit == "GiB") {
    multiplier = 1ULL << 30;
  } else {
    return make_error(not_size);
  }
  if (number > std::numeric_limits<std::uint64_t>::max() / multiplier) {
    return make_error(quote_value(text) + " is too large");
  }
  return number * multiplier;
}

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  const std::string not_duration =
      quote_value(text) +
      " is not a duration; write whole seconds with a unit s, m or h (examples: 60s, 5m, 1h30m)";
  if (text.empty()) return make_error("is empty; write a duration such as 60s, 5m or 1h");
  if (text.front() == '-') return make_error(quote_value(text) + " is negative; durations must be positive");

  // Anything longer than ~31 years is a typo, and the limit keeps the sum far from overflow.
  constexpr std::uint64_t kMaxSeconds = 1'000'000'000ULL;
  std::uint64_t number = 0;
  if (all_digits(text)) {
    if (!parse_unsigned(text, number) || number > kMaxSeconds)
      return make_error(quote_value(text) + " is too long");
    return std::chrono::seconds(static_cast<std::chrono::seconds::rep>(number));
  }

  std::uint64_t total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t digits_end = 0;
    while (digits_end < rest.size() && is_digit(rest[digits_end])) ++digits_end;
    if (digits_end == 0 || digits_end == rest.size()) return make_error(not_duration);
    if (!parse_unsigned(rest.substr(0, digits_end), number) || number > kMaxSeconds) {
      return make_error(quote_value(text) + " is too long");
    }
    rest.remove_prefix(digits_end);
    std::uint64_t unit_seconds = 0;
    if (rest.starts_with("ms")) {
      return make_error(quote_value(text) + " uses milliseconds; durations are whole seconds (example: 1s)");
    }
    switch (rest.front()) {
      case 'h': unit_seconds = 3600; break;
      case 'm': unit_seconds = 60; break;
      case 's': unit_seconds = 1; break;
      default: return make_error(not_duration);
    }
    rest.remove_prefix(1);
    total += number * unit_seconds;
    if (total > kMaxSeconds) return make_error(quote_value(text) + " is too long");
  }
  return std::chrono::seconds(static_cast<std::chrono::seconds::rep>(total));
}

Result<std::chrono::sys_days> parse_date(std::string_view text) {
  const std::string not_date = quote_value(text) + " is not a date; write YYYY-MM-DD (example: 2026-03-31)";
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return make_error(not_date);
  if (text.size() > 10 && text[10] != 'T' && text[10] != ' ') return make_error(not_date);
  std::uint64_t year = 0;
  std::uint64_t month = 0;
  std::uint64_t day = 0;
  if (!parse_unsigned(text.substr(0, 4), year) || !parse_unsigned(text.substr(5, 2), month) ||
      !parse_unsigned(text.substr(8, 2), day)) {
    return make_error(not_date);
  }
  const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(year)),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return make_error(quote_value(text.substr(0, 10)) + " is not a valid calendar date");
  return std::chrono::sys_days(date);
}

bool is_guid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !is_hex_digit(text[i])) return false;
  }
  return true;
}

}  // namespace mailtrixy::config::detail
