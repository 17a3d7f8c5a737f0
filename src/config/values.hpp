#pragma once
// Parsers for the value syntaxes of config/mailtrixy.yaml, shared by the loader (which turns text
// into Settings) and the diagnoses (which re-check Settings that may have come from elsewhere,
// such as the admin page). Each parser takes the bare text and, on failure, returns an Error whose
// message is the reason only ("\"localhost\" is not HOST:PORT ..."); the caller prefixes the
// location (file:line and dotted key, or the environment variable).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::config::detail {

// "HOST:PORT" or "[IPv6]:PORT". The host keeps no brackets. Port 0 (any free port) is allowed.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
// `example` is shown in the error, e.g. "127.0.0.1:1143".
Result<ListenAddress> parse_listen_address(std::string_view text, std::string_view example);

// An absolute http or https URL split into its parts, without any normalisation, so that the
// diagnoses can point at exactly what the user wrote (upper case, trailing slash, query...).
struct HttpUrl {
  std::string scheme;  // as written: "https", "HTTP", ...
  std::string host;    // as written, brackets removed for IPv6
  std::optional<std::uint16_t> port;
  std::string path;                     // "" or starting with '/'
  std::optional<std::string> query;     // text after '?', when there is a '?'
  std::optional<std::string> fragment;  // text after '#', when there is a '#'
};
// `example` is shown in the error, e.g. "https://mail.example.com".
Result<HttpUrl> parse_http_url(std::string_view text, std::string_view example);

// Bytes: a plain non-negative integer, optionally followed by KiB, MiB or GiB ("150MiB").
Result<std::uint64_t> parse_size(std::string_view text);

// Whole seconds: a plain integer (seconds) or number+unit groups with units h, m, s ("90s",
// "5m", "1h30m").
Result<std::chrono::seconds> parse_duration(std::string_view text);

// "YYYY-MM-DD", optionally followed by a time part starting with 'T' or ' ' (as printed by
// `az ad app credential list`), which is ignored.
Result<std::chrono::sys_days> parse_date(std::string_view text);

// 8-4-4-4-12 hexadecimal digits, the shape of Azure's client ids and secret ids.
bool is_guid(std::string_view text);

std::string to_lower_ascii(std::string_view text);

// The value quoted for an error message: "\"text\"", with control characters escaped and long
// values shortened so a pasted blob does not flood the terminal.
std::string quote_value(std::string_view text);

}  // namespace mailtrixy::config::detail
