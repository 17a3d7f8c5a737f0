#include "mailtrixy/crypto/aead.hpp"

#include <openssl/crypto.h>

#include <ostream>

#include "gcm.hpp"
#include "mailtrixy/base/redact.hpp"
#include "mailtrixy/crypto/hash.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::crypto {

Key Key::generate() {
  Key key;
  std::string random = random_bytes(kSize);
  std::copy(random.begin(), random.end(), key.bytes_.begin());
  // The temporary string is freed right after; wipe it rather than leave key bytes on the heap.
  OPENSSL_cleanse(random.data(), random.size());
  return key;
}

Result<Key> Key::from_bytes(std::string_view raw) {
  if (raw.size() != kSize) {
    return make_error("an encryption key must be exactly " + std::to_string(kSize) +
                      " bytes, but " + std::to_string(raw.size()) + " were given");
  }
  Key key;
  std::copy(raw.begin(), raw.end(), key.bytes_.begin());
  return key;
}

Key::Key(const Key& other) noexcept : bytes_(other.bytes_) {}

Key& Key::operator=(const Key& other) noexcept {
  bytes_ = other.bytes_;
  return *this;
}

Key::Key(Key&& other) noexcept : bytes_(other.bytes_) {
  OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
}

Key& Key::operator=(Key&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

Key::~Key() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

std::string_view Key::reveal() const {
  return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
}

bool operator==(const Key& a, const Key& b) { return constant_time_equal(a.reveal(), b.reveal()); }

std::ostream& operator<<(std::ostream& out, const Key&) { return out << kRedacted; }

std::string seal(const Key& key, std::string_view plaintext, std::string_view associated_data) {
  const std::string nonce = random_bytes(kSealNonceSize);
  const detail::GcmOutput sealed =
      detail::aes256gcm_encrypt(key, nonce, plaintext, associated_data);
  std::string blob;
  blob.reserve(kSealOverhead + plaintext.size());
  blob += static_cast<char>(kSealVersion);
  blob += nonce;
  blob += sealed.ciphertext;
  blob += sealed.tag;
  return blob;
}

Result<std::string> open(const Key& key, std::string_view blob, std::string_view associated_data) {
  if (blob.empty()) return make_error("the encrypted data is empty");
  const auto version = static_cast<unsigned char>(blob[0]);
  if (version != kSealVersion) {
    return make_error("the encrypted data has unknown format version " + std::to_string(version) +
                      " (this build reads version " + std::to_string(kSealVersion) +
                      "); it was written by a newer release or is not encrypted data");
  }
  if (blob.size() < kSealOverhead) {
    return make_error("the encrypted data is truncated: " + std::to_string(blob.size()) +
                      " bytes, at least " + std::to_string(kSealOverhead) + " expected");
  }
  const std::string_view nonce = blob.substr(1, kSealNonceSize);
  const std::string_view ciphertext =
      blob.substr(1 + kSealNonceSize, blob.size() - kSealOverhead);
  const std::string_view tag = blob.substr(blob.size() - kSealTagSize);
  std::string plaintext;
  if (!detail::aes256gcm_decrypt(key, nonce, ciphertext, associated_data, tag, plaintext)) {
    return make_error(
        "the encrypted data failed authentication: wrong key, modified data or wrong context");
  }
  return plaintext;
}

}  // namespace mailtrixy::crypto
