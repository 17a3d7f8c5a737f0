#pragma once
// Password hashing for the admin password and bridge passwords: scrypt (RFC 7914).
//
// hash_password() returns a self-describing string that carries its parameters and salt,
//
//   $scrypt$ln=15,r=8,p=1$<salt, base64 without padding>$<hash, base64 without padding>
//
// (ln = log2 of the CPU/memory cost N), so parameters can be raised later without invalidating
// stored hashes. The default costs about 32 MiB and some 50-100 ms per hash on a modest machine:
// slow enough to make offline guessing expensive, fast enough for interactive logins. Bridge
// passwords are random 128-bit+ secrets, so the hash protects the admin password most.
//
// Verification compares in constant time. Encoded strings are untrusted input (config files,
// the database): a malformed one, or one whose parameters would demand unreasonable memory or
// time (more than 256 MiB), verifies as false rather than crashing or stalling the server.

#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::crypto {

struct ScryptParams {
  unsigned log2_n = 15;  // N = 2^log2_n
  unsigned r = 8;        // block size
  unsigned p = 1;        // parallelism
};

// Hashes with a fresh random 16-byte salt and the default parameters.
std::string hash_password(std::string_view password);
// The same with explicit parameters (tests use cheap ones; raise them when hardware allows).
// Throws std::invalid_argument when the parameters are outside what verify_password() accepts,
// std::runtime_error if OpenSSL fails (out of memory).
std::string hash_password(std::string_view password, const ScryptParams& params);

// True when `password` matches `encoded`; false for a wrong password and for any malformed or
// unacceptable encoded string.
bool verify_password(std::string_view password, std::string_view encoded);

// Explains what is wrong with an encoded hash (for check-config on admin.password_hash), or
// succeeds when verify_password() would be able to use it.
Result<void> validate_password_hash(std::string_view encoded);

}  // namespace mailtrixy::crypto
