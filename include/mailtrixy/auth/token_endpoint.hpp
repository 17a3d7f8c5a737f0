#pragma once
// The Microsoft identity platform's token endpoint, {login_url}/{tenant}/oauth2/v2.0/token:
// requests (code redemption, refresh) and the lenient parsing of its answers (graph-facts A5-A7).
//
// Parsing is lenient where Microsoft varies and strict where the bridge depends on a value:
//   - expires_in / ext_expires_in / refresh_in: integer or numeric string ("3599"); expires_in
//     missing or unusable → 3600 s is NOT assumed: the response is malformed (the bridge must know
//     when to refresh);
//   - scope: space-separated, Graph scopes short ("Mail.Send") or qualified
//     ("https://graph.microsoft.com/Mail.Send"), any case; a "%20"-encoded form is decoded;
//     missing scope → empty list (callers treat it as "what was requested");
//   - unknown fields are ignored; token_type must be Bearer (any case) when present.
// Error bodies (A7): `error`, `error_codes`, `error_description` (only its first line is kept:
// the Trace ID / Correlation ID / Timestamp lines are noise for people), `suberror`. A non-JSON
// error body (a proxy's HTML 502) becomes a server_error/malformed classification, never a crash.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/base/redact.hpp"
#include "mailtrixy/base/result.hpp"

namespace mailtrixy::auth {

// What the token endpoint granted.
struct TokenSet {
  Secret<std::string> access_token;
  Secret<std::string> refresh_token;  // empty when offline_access was not granted
  Secret<std::string> id_token;       // empty when openid was not requested
  std::vector<std::string> scopes;    // as granted, normalised (see has_scope)
  std::chrono::system_clock::time_point expires_at{};  // received + expires_in
  std::chrono::seconds expires_in{0};
};

// True when `scopes` grants `wanted`, comparing case-insensitively and treating
// "https://graph.microsoft.com/X" and "X" as the same scope ("offline_access" is matched as is).
bool has_scope(const std::vector<std::string>& scopes, std::string_view wanted);

// An error answer of the token endpoint (or of a callback redirect: error + error_description).
struct TokenEndpointError {
  int http_status = 0;              // 0 for callback errors
  std::string error;                // "invalid_grant", "invalid_client", "access_denied", ...
  std::string suberror;             // "consent_required", "bad_token", ... or ""
  std::vector<std::int64_t> error_codes;  // AADSTS numbers, e.g. {7000215}
  std::string description;          // error_description's first line, e.g. "AADSTS7000215: Invalid client secret provided. ..."
  std::optional<std::chrono::seconds> retry_after;  // from a 429/503 Retry-After header

  // The first AADSTS code, from error_codes or parsed from the description; 0 when none.
  std::int64_t aadsts() const;
};

// The first line of an AADSTS error_description, without "\r\nTrace ID: ..." and what follows.
std::string first_description_line(std::string_view error_description);

// Parses a 200 answer. `received` is when the response arrived (expires_at = received + expires_in).
// Errors name the field that is missing or wrong, never a token value.
Result<TokenSet> parse_token_response(std::string_view json,
                                      std::chrono::system_clock::time_point received);

// Parses a non-200 answer. Always yields something: a body that is not the JSON error shape
// gives error = "" and a description naming the HTTP status.
TokenEndpointError parse_token_error(int http_status, std::string_view body);

// Retry-After: delta-seconds or an HTTP date (relative to `now`); nullopt when absent/unparsable.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

// The claims of an id_token the bridge needs. The payload is decoded WITHOUT checking the
// signature: the token came straight from the token endpoint over a TLS connection whose
// certificate and host name were verified (OpenID Connect Core §3.1.3.7, item 6), so its
// integrity is already guaranteed by the channel; no party but Microsoft could have produced it.
struct IdTokenClaims {
  std::string oid;
  std::string tid;
  std::string preferred_username;
  std::string email;
  std::string name;
};
Result<IdTokenClaims> decode_id_token_claims(std::string_view id_token);

}  // namespace mailtrixy::auth
