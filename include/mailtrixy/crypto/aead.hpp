#pragma once
// Authenticated encryption of records at rest: AES-256-GCM with a random 96-bit nonce per seal.
//
// A sealed blob is self-describing:
//
//   +---------+-------------+----------------------+----------+
//   | version | nonce (12)  | ciphertext (= |plain|)| tag (16) |
//   +---------+-------------+----------------------+----------+
//     0x01
//
// so it is 29 bytes longer than the plaintext. The version byte lets a later release change the
// algorithm while still opening old records. `associated_data` is authenticated but not stored:
// the caller passes the same bytes to open(), which is how a record is bound to its location
// (the store uses family name + '\0' + record key) so a blob copied elsewhere no longer opens.
//
// Random 96-bit nonces are safe for up to about 2^32 seals under one key (NIST SP 800-38D §8.3);
// the bridge stays far below that for the life of a master key.

#include <array>
#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::crypto {

// A 256-bit symmetric key. Its bytes are wiped (OPENSSL_cleanse) when it is destroyed or moved
// from, compare in constant time, and print as "[redacted]" — including in test failure output —
// so a key cannot end up in a log by accident. A moved-from Key holds zero bytes; do not use it.
class Key {
 public:
  static constexpr std::size_t kSize = 32;

  // A fresh random key.
  static Key generate();
  // Exactly kSize raw bytes; anything else is an error.
  static Result<Key> from_bytes(std::string_view raw);

  Key(const Key& other) noexcept;
  Key& operator=(const Key& other) noexcept;
  Key(Key&& other) noexcept;
  Key& operator=(Key&& other) noexcept;
  ~Key();

  // The raw bytes, for code that must hand them to a cipher or write the key file.
  std::string_view reveal() const;

  friend bool operator==(const Key& a, const Key& b);
  friend std::ostream& operator<<(std::ostream& out, const Key& key);

 private:
  Key() = default;
  std::array<unsigned char, kSize> bytes_{};
};

inline constexpr unsigned char kSealVersion = 0x01;
inline constexpr std::size_t kSealNonceSize = 12;
inline constexpr std::size_t kSealTagSize = 16;
inline constexpr std::size_t kSealOverhead = 1 + kSealNonceSize + kSealTagSize;

// Encrypts and authenticates `plaintext`, authenticates `associated_data`, and returns the blob
// described above. Throws std::runtime_error only if OpenSSL itself fails (out of memory).
std::string seal(const Key& key, std::string_view plaintext, std::string_view associated_data);

// The plaintext of a blob made by seal() with the same key and associated data. Fails with a
// clear error — never a crash, never partial plaintext — when the blob is truncated, has an
// unknown version, or does not authenticate (wrong key, modified bytes, other associated data).
Result<std::string> open(const Key& key, std::string_view blob, std::string_view associated_data);

}  // namespace mailtrixy::crypto
