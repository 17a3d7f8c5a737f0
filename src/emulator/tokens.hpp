#pragma once
// Identifiers, timestamps, PKCE and signed JWTs for the emulated identity platform.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::emulator {

// A random (version 4) GUID in lower case: "0000aaaa-11bb-cccc-dd22-eeeeee333333".
std::string new_guid();

// A GUID derived from `name` alone (SHA-256 based, version 5 layout): the same name always gives
// the same GUID. `purpose` separates the id spaces ("oid", "tenant", ...).
std::string derived_guid(std::string_view purpose, std::string_view name);

// The 16 lower-case hex digits Microsoft uses as a personal account's Graph id, derived from the
// address (case-insensitively).
std::string personal_account_id(std::string_view address);

// True for the 8-4-4-4-12 hex form, either case (the shape of a pasted "Secret ID").
bool looks_like_guid(std::string_view text);

// Time formats of the identity platform and of Graph (all UTC):
//   identity_timestamp  "2016-01-09 02:02:12Z"           error JSON and error_description
//   precise_timestamp   "2021-01-05T05:09:31.5970000Z"   quoted inside AADSTS50173/700082 texts
//   graph_date          "2021-07-23T10:07:16"            Graph error innerError.date (no zone)
//   iso_seconds         "2018-09-09T03:15:05Z"           JSON date-time properties
std::string identity_timestamp(std::chrono::system_clock::time_point when);
std::string precise_timestamp(std::chrono::system_clock::time_point when);
std::string graph_date(std::chrono::system_clock::time_point when);
std::string iso_seconds(std::chrono::system_clock::time_point when);
std::int64_t unix_seconds(std::chrono::system_clock::time_point when);

// PKCE (RFC 7636). The S256 challenge is base64url(SHA-256(verifier)) without padding.
std::string pkce_s256_challenge(std::string_view verifier);
// True when `verifier` answers `challenge` under `method` ("S256" or "plain", case-sensitive as
// Microsoft treats them); false for any other method.
bool pkce_verifies(std::string_view method, std::string_view challenge, std::string_view verifier);

// RS256 JWTs signed with an RSA-2048 key made when the emulator starts (so tokens from an
// earlier run never verify). The public half is served as a JWKS at
// {login_url}/{tenant}/discovery/v2.0/keys.
class JwtSigner {
 public:
  static Result<JwtSigner> generate();

  JwtSigner(JwtSigner&&) noexcept;
  JwtSigner& operator=(JwtSigner&&) noexcept;
  ~JwtSigner();

  // "<header>.<payload>.<signature>"; the header is {"typ":"JWT","alg":"RS256","kid":kid()}.
  // `payload_json` must be a JSON object (the caller builds it).
  std::string sign(std::string_view payload_json) const;
  // True when `jwt` carries a valid signature from this key (tests, token introspection).
  bool verify(std::string_view jwt) const;

  const std::string& kid() const;
  // {"keys":[{"kty":"RSA","use":"sig","kid":...,"n":...,"e":...}]}
  std::string jwks_json() const;

 private:
  struct Impl;
  explicit JwtSigner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailtrixy::emulator
