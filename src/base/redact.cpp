#include "mailtrixy/base/redact.hpp"

#include <regex>

namespace mailtrixy {
namespace {

// Names whose values are credentials wherever they appear as key=value, key: value or
// "key":"value" (form bodies, query strings, JSON, YAML, headers).
constexpr const char* kSecretKeys =
    "access_token|refresh_token|id_token|client_secret|client_assertion|code_verifier|code|"
    "password|passwd|secret|token|master_key|bridge_password";

const std::regex& key_value_pattern() {
  // group 1: the key and separator kept as is; the value runs to the next delimiter.
  static const std::regex pattern(
      std::string("((?:\\b|\")(?:") + kSecretKeys +
          ")\"?\\s*[=:]\\s*\"?)(?!\\[redacted\\])[^\"&,;\\s}]+",
      std::regex::icase | std::regex::optimize);
  return pattern;
}

const std::regex& bearer_pattern() {
  static const std::regex pattern("(\\b(?:Bearer|Basic)\\s+)[A-Za-z0-9._~+/=-]+",
                                  std::regex::icase | std::regex::optimize);
  return pattern;
}

// An Authorization header loses its whole value, scheme included.
const std::regex& authorization_header_pattern() {
  static const std::regex pattern("(\\bauthorization\\s*:\\s*)[^\\r\\n]+",
                                  std::regex::icase | std::regex::optimize);
  return pattern;
}

const std::regex& jwt_pattern() {
  // Three base64url segments, the first a JSON header ("eyJ" is base64 of '{"').
  static const std::regex pattern("eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*",
                                  std::regex::optimize);
  return pattern;
}

}  // namespace

std::string redact_text(std::string_view text) {
  std::string out(text);
  out = std::regex_replace(out, authorization_header_pattern(), "$1" + std::string(kRedacted));
  out = std::regex_replace(out, jwt_pattern(), std::string(kRedacted));
  out = std::regex_replace(out, bearer_pattern(), "$1" + std::string(kRedacted));
  out = std::regex_replace(out, key_value_pattern(), "$1" + std::string(kRedacted));
  return out;
}

}  // namespace mailtrixy
