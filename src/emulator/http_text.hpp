#pragma once
// Small text helpers for the emulator's HTTP surfaces: percent-decoding, form and query
// parsing, URL and HTML escaping. Plain functions over strings, no I/O.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtrixy::emulator {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// Percent-decodes `text`; with `plus_is_space` (form bodies and query strings) '+' becomes ' '.
// A '%' not followed by two hex digits is kept as is, like browsers and Microsoft do.
std::string percent_decode(std::string_view text, bool plus_is_space);

// Splits "a=1&b=2" (application/x-www-form-urlencoded, also query strings) into decoded pairs,
// in order; empty pieces are skipped, a piece without '=' has an empty value.
FormFields parse_form(std::string_view text);

// The first value of `name` (exact, case-sensitive as OAuth parameters are); nullopt if absent.
std::optional<std::string> form_value(const FormFields& fields, std::string_view name);

// Percent-encodes everything except RFC 3986 unreserved characters; for query components.
std::string url_encode(std::string_view text);
// The form-encoding Microsoft's login service uses on redirects: ' ' as '+', and lower-case hex
// ("AADSTS65004%3a+User+declined..."), so redirects look like the real ones.
std::string form_encode_lower(std::string_view text);

// Escapes & < > " ' for HTML text and attribute values.
std::string html_escape(std::string_view text);

// ASCII case-insensitive comparison and lower-casing.
bool iequals(std::string_view a, std::string_view b);
std::string ascii_lower(std::string_view text);

// Splits on `separator`, keeping empty pieces.
std::vector<std::string_view> split(std::string_view text, char separator);

}  // namespace mailtrixy::emulator
