#include "mailtrixy/crypto/hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>

#include "mailtrixy/crypto/encoding.hpp"

namespace mailtrixy::crypto {

std::string sha256(std::string_view data) {
  std::string digest(kSha256Size, '\0');
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(digest.data()), &length,
                 EVP_sha256(), nullptr) != 1 ||
      length != kSha256Size) {
    throw std::runtime_error("OpenSSL failed to compute SHA-256");
  }
  return digest;
}

std::string sha256_hex(std::string_view data) { return hex_encode(sha256(data)); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string mac(kSha256Size, '\0');
  std::size_t length = 0;
  // A non-null pointer even for an empty key or message: OpenSSL rejects null.
  static constexpr unsigned char kEmpty = 0;
  const void* key_data = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  const auto* message = data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_data, key.size(), message,
                data.size(), reinterpret_cast<unsigned char*>(mac.data()), mac.size(),
                &length) == nullptr ||
      length != kSha256Size) {
    throw std::runtime_error("OpenSSL failed to compute HMAC-SHA-256");
  }
  return mac;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace mailtrixy::crypto
