#include "mailtrixy/auth/token_endpoint.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <iomanip>
#include <limits>
#include <sstream>

#include "json_util.hpp"
#include "mailtrixy/crypto/encoding.hpp"

namespace mailtrixy::auth {
namespace {

constexpr std::string_view kGraphResource = "https://graph.microsoft.com/";
constexpr std::string_view kGraphAppId = "00000003-0000-0000-c000-000000000000/";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "https://graph.microsoft.com/Mail.Send" and "Mail.Send" name the same permission.
std::string normalise_scope(std::string_view scope) {
  std::string text = lower(scope);
  for (const std::string_view prefix : {kGraphResource, kGraphAppId}) {
    if (text.starts_with(prefix)) return text.substr(prefix.size());
  }
  return text;
}

// The doc example shows a URL-encoded scope ("https%3A%2F%2Fgraph..."): decode %XX when present.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) != 0 &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2])) != 0) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::vector<std::string> split_scopes(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start])) != 0) ++start;
    std::size_t end = start;
    while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end])) == 0) ++end;
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return out;
}

// expires_in and friends: an integer, or a numeric string (AADv1-like endpoints, MSAL's comment).
std::optional<std::int64_t> lenient_seconds(const rapidjson::Value& object, const char* name) {
  const auto found = object.FindMember(name);
  if (found == object.MemberEnd()) return std::nullopt;
  const rapidjson::Value& value = found->value;
  if (value.IsInt64()) return value.GetInt64();
  if (value.IsUint64()) return std::nullopt;  // absurdly large
  if (value.IsDouble()) {
    const double d = value.GetDouble();
    if (d >= 0 && d < 1e9) return static_cast<std::int64_t>(d);
    return std::nullopt;
  }
  if (value.IsString()) {
    std::int64_t parsed = 0;
    const std::string_view text(value.GetString(), value.GetStringLength());
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (ec == std::errc() && end == text.data() + text.size()) return parsed;
  }
  return std::nullopt;
}

}  // namespace

bool has_scope(const std::vector<std::string>& scopes, std::string_view wanted) {
  const std::string target = normalise_scope(wanted);
  return std::any_of(scopes.begin(), scopes.end(),
                     [&](const std::string& scope) { return normalise_scope(scope) == target; });
}

std::int64_t TokenEndpointError::aadsts() const {
  if (!error_codes.empty()) return error_codes.front();
  const auto at = description.find("AADSTS");
  if (at == std::string::npos) return 0;
  std::int64_t code = 0;
  const char* begin = description.data() + at + 6;
  const char* end = description.data() + description.size();
  const auto [stop, ec] = std::from_chars(begin, end, code);
  return ec == std::errc() && stop != begin ? code : 0;
}

std::string first_description_line(std::string_view error_description) {
  std::size_t end = error_description.find_first_of("\r\n");
  std::string_view line = error_description.substr(0, end);
  // Some renderings keep everything on one line: cut at the trace block too.
  for (const std::string_view marker : {" Trace ID:", "Trace ID:"}) {
    const auto at = line.find(marker);
    if (at != std::string_view::npos) line = line.substr(0, at);
  }
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())) != 0) line.remove_suffix(1);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())) != 0) line.remove_prefix(1);
  return std::string(line);
}

Result<TokenSet> parse_token_response(std::string_view json, std::chrono::system_clock::time_point received) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) {
    return make_error("the token endpoint's answer is not a JSON object");
  }
  TokenSet tokens;
  const auto access = detail::string_member(document, "access_token");
  if (!access || access->empty()) return make_error("the token endpoint's answer has no access_token");
  tokens.access_token = Secret<std::string>(*access);
  if (const auto type = detail::string_member(document, "token_type"); type && lower(*type) != "bearer") {
    return make_error("the token endpoint's answer has token_type \"" + type->substr(0, 20) +
                      "\" where Bearer was expected");
  }
  const auto expires_in = lenient_seconds(document, "expires_in");
  if (!expires_in) return make_error("the token endpoint's answer has no usable expires_in");
  if (*expires_in <= 0 || *expires_in > 7 * 24 * 3600) {
    return make_error("the token endpoint's answer has an implausible expires_in of " + std::to_string(*expires_in) +
                      " seconds");
  }
  tokens.expires_in = std::chrono::seconds(*expires_in);
  tokens.expires_at = received + tokens.expires_in;
  if (const auto refresh = detail::string_member(document, "refresh_token"); refresh && !refresh->empty()) {
    tokens.refresh_token = Secret<std::string>(*refresh);
  }
  if (const auto id = detail::string_member(document, "id_token"); id && !id->empty()) {
    tokens.id_token = Secret<std::string>(*id);
  }
  if (const auto scope = detail::string_member(document, "scope")) {
    const std::string text = scope->find('%') != std::string::npos ? percent_decode(*scope) : *scope;
    tokens.scopes = split_scopes(text);
  }
  return tokens;
}

TokenEndpointError parse_token_error(int http_status, std::string_view body) {
  TokenEndpointError out;
  out.http_status = http_status;
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("error")) {
    out.description = "Microsoft answered HTTP " + std::to_string(http_status) +
                      " without its usual JSON error (perhaps a proxy or an outage page)";
    return out;
  }
  out.error = detail::string_member(document, "error").value_or("");
  out.suberror = detail::string_member(document, "suberror").value_or("");
  out.description = first_description_line(detail::string_member(document, "error_description").value_or(""));
  const auto codes = document.FindMember("error_codes");
  if (codes != document.MemberEnd() && codes->value.IsArray()) {
    for (const auto& code : codes->value.GetArray()) {
      if (code.IsInt64()) out.error_codes.push_back(code.GetInt64());
    }
  }
  if (out.error_codes.empty()) {
    if (const std::int64_t parsed = out.aadsts(); parsed != 0) out.error_codes.push_back(parsed);
  }
  return out;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    return std::chrono::seconds(std::min<std::int64_t>(seconds, 24 * 3600));
  }
  std::tm parts{};
  std::istringstream in{std::string(value)};
  in.imbue(std::locale::classic());
  in >> std::get_time(&parts, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail()) return std::nullopt;
  const std::time_t when = timegm(&parts);
  const auto target = std::chrono::system_clock::from_time_t(when);
  if (target <= now) return std::chrono::seconds(0);
  return std::chrono::duration_cast<std::chrono::seconds>(target - now);
}

Result<IdTokenClaims> decode_id_token_claims(std::string_view id_token) {
  const auto first_dot = id_token.find('.');
  const auto second_dot = first_dot == std::string_view::npos ? first_dot : id_token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos) return make_error("the id_token is not a JWT (header.payload.signature)");
  std::string_view payload = id_token.substr(first_dot + 1, second_dot - first_dot - 1);
  // JWTs use unpadded base64url; tolerate padding from lenient issuers.
  while (!payload.empty() && payload.back() == '=') payload.remove_suffix(1);
  auto decoded = crypto::base64url_decode(payload);
  if (!decoded) return make_error("the id_token's payload is not base64url: " + decoded.error().message);
  rapidjson::Document document;
  document.Parse(decoded->data(), decoded->size());
  if (document.HasParseError() || !document.IsObject()) return make_error("the id_token's payload is not a JSON object");
  IdTokenClaims claims;
  claims.oid = detail::string_member(document, "oid").value_or("");
  claims.tid = detail::string_member(document, "tid").value_or("");
  claims.preferred_username = detail::string_member(document, "preferred_username").value_or("");
  claims.email = detail::string_member(document, "email").value_or("");
  claims.name = detail::string_member(document, "name").value_or("");
  return claims;
}

}  // namespace mailtrixy::auth
