#pragma once
// Internal: raw AES-256-GCM with a caller-chosen nonce. aead.cpp builds the versioned blob on top;
// the tests use it directly to check the published known-answer vectors. Nothing else may call
// it: reusing a nonce under one key breaks GCM completely, which is why the public seal() always
// draws a fresh random nonce.

#include <string>
#include <string_view>

#include "mailtrixy/crypto/aead.hpp"

namespace mailtrixy::crypto::detail {

struct GcmOutput {
  std::string ciphertext;
  std::string tag;  // kSealTagSize bytes
};

// `nonce` must be kSealNonceSize bytes. Throws std::runtime_error if OpenSSL fails.
GcmOutput aes256gcm_encrypt(const Key& key, std::string_view nonce, std::string_view plaintext,
                            std::string_view associated_data);

// Fills `plaintext` and returns true only when the tag authenticates; otherwise returns false
// and leaves `plaintext` empty.
bool aes256gcm_decrypt(const Key& key, std::string_view nonce, std::string_view ciphertext,
                       std::string_view associated_data, std::string_view tag,
                       std::string& plaintext);

}  // namespace mailtrixy::crypto::detail
