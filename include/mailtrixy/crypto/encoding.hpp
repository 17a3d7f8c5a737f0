#pragma once
// Binary-to-text encodings: base64 (RFC 4648 §4), base64url (RFC 4648 §5) and lower-case hex.
//
// Decoders are strict, because their input is usually a secret typed or pasted by a person
// (MAILTRIXY_MASTER_KEY, a stored hash) and a silently "repaired" value is worse than an error:
//  - only the alphabet's characters are accepted, no whitespace or line breaks (trim first);
//  - padding must be exactly right for base64; base64url accepts it either absent or exactly right;
//  - the unused low bits of the last character must be zero, so every byte string has exactly one
//    accepted encoding.
// Error messages name the problem and its position but never echo the input, which may be secret.

#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::crypto {

// Standard alphabet (A-Z a-z 0-9 + /), padded with '=' to a multiple of 4 characters.
std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);

// URL- and filename-safe alphabet (A-Z a-z 0-9 - _), without padding: the form used by PKCE,
// JWTs and our random tokens.
std::string base64url_encode(std::string_view bytes);
Result<std::string> base64url_decode(std::string_view text);

// Two lower-case hex digits per byte. The decoder accepts either case.
std::string hex_encode(std::string_view bytes);
Result<std::string> hex_decode(std::string_view text);

}  // namespace mailtrixy::crypto
