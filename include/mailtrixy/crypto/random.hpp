#pragma once
// Cryptographically secure randomness from OpenSSL's DRBG (seeded by the kernel).
//
// Failure to produce random bytes is not an expected outcome: continuing without them would
// mean predictable keys, tokens or nonces, so both functions throw std::runtime_error instead of
// returning an error value.

#include <cstddef>
#include <string>

namespace mailtrixy::crypto {

// `count` random bytes.
std::string random_bytes(std::size_t count);

// `bytes` random bytes as base64url without padding: an opaque token safe in URLs, cookies,
// headers and file names (OAuth state, PKCE verifier, session ids, bridge passwords).
// The default of 32 bytes gives 256 bits; never use fewer than 16 bytes (128 bits) for secrets.
std::string random_token(std::size_t bytes = 32);

}  // namespace mailtrixy::crypto
