#pragma once
// Digests, MACs and comparison of secrets.

#include <cstddef>
#include <string>
#include <string_view>

namespace mailtrixy::crypto {

inline constexpr std::size_t kSha256Size = 32;

// SHA-256 of `data`: 32 raw bytes, or 64 lower-case hex digits. (PKCE S256 is
// base64url_encode(sha256(verifier)).)
std::string sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

// HMAC-SHA-256 (RFC 2104) of `data` under `key`: 32 raw bytes. Any key length is accepted; keys
// shorter than 32 bytes weaken it.
std::string hmac_sha256(std::string_view key, std::string_view data);

// True when `a` and `b` are equal. The time taken depends only on the lengths, never on where
// the contents differ, so it is the comparison to use for passwords, tokens, MACs and hashes.
// (The length itself is not hidden; compare fixed-length digests when that matters.)
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace mailtrixy::crypto
