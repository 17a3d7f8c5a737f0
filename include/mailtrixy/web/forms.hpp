#pragma once
// Reading what browsers send: query strings and application/x-www-form-urlencoded bodies, the
// Cookie header; writing Set-Cookie. Everything here treats its input as hostile: malformed
// escapes make a field unreadable instead of producing partial values, and sizes are bounded.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailtrixy/net/http_server.hpp"

namespace mailtrixy::web {

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, as in forms and query strings).
// nullopt for a '%' not followed by two hex digits, or for a decoded NUL byte.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// Encodes everything but unreserved characters (RFC 3986: A-Z a-z 0-9 - . _ ~).
std::string percent_encode(std::string_view text);

// The fields of a query string or urlencoded form body, in order. Fields whose name or value
// does not decode are dropped (they are never partially read).
class FormFields {
 public:
  static FormFields parse(std::string_view encoded);

  // The first value of `name`, or nullopt.
  std::optional<std::string> get(std::string_view name) const;
  // True when `name` appears more than once (used to refuse ambiguous OAuth parameters).
  bool repeated(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// The value of cookie `name` from the request's Cookie header(s), or nullopt.
std::optional<std::string> read_cookie(const net::HttpRequest& request, std::string_view name);

struct CookieOptions {
  bool secure = true;
  bool http_only = true;
  std::string same_site = "Lax";
  std::string path = "/";
  // Seconds; nullopt makes a session cookie (gone when the browser closes); 0 deletes.
  std::optional<long long> max_age;
};

// A Set-Cookie header value. `value` must be a cookie-octet string (our values are base64url).
std::string set_cookie_value(std::string_view name, std::string_view value, const CookieOptions& options);

// "scheme://host[:port]" of an absolute URL, lower-cased, without a default port; nullopt when
// `url` is not an absolute http(s) URL. Used to compare Origin headers.
std::optional<std::string> origin_of(std::string_view url);

}  // namespace mailtrixy::web
