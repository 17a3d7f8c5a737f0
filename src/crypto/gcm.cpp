#include "gcm.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <stdexcept>

namespace mailtrixy::crypto::detail {
namespace {

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

CipherContext new_context() {
  CipherContext context(EVP_CIPHER_CTX_new());
  if (!context) throw std::runtime_error("OpenSSL could not allocate a cipher context");
  return context;
}

const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

// The EVP update functions take int lengths; feed large inputs in pieces.
constexpr std::size_t kMaxChunk = std::size_t{1} << 30;

void check(int status, const char* what) {
  if (status != 1) throw std::runtime_error(std::string("OpenSSL AES-256-GCM failed: ") + what);
}

using UpdateFunction = int (*)(EVP_CIPHER_CTX*, unsigned char*, int*, const unsigned char*, int);

// Runs `update` over `input`, appending output to `out` (or nowhere, for associated data).
// Returns false only when `update` reports failure.
bool update_all(EVP_CIPHER_CTX* context, UpdateFunction update, std::string_view input,
                std::string* out) {
  std::size_t offset = 0;
  while (offset < input.size()) {
    const std::size_t chunk = std::min(input.size() - offset, kMaxChunk);
    int written = 0;
    // `out` was sized to the input: GCM is a stream mode, output length equals input length.
    unsigned char* destination = out ? reinterpret_cast<unsigned char*>(out->data() + offset) : nullptr;
    if (update(context, destination, &written, bytes_of(input.substr(offset, chunk)),
               static_cast<int>(chunk)) != 1) {
      return false;
    }
    offset += chunk;
  }
  return true;
}

// Fetched once: an implicit fetch on every init costs a locked lookup in the provider store.
const EVP_CIPHER* aes256gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) throw std::runtime_error("OpenSSL does not provide AES-256-GCM");
  return cipher;
}

}  // namespace

GcmOutput aes256gcm_encrypt(const Key& key, std::string_view nonce, std::string_view plaintext,
                            std::string_view associated_data) {
  if (nonce.size() != kSealNonceSize) throw std::invalid_argument("AES-GCM nonce must be 12 bytes");
  const CipherContext context = new_context();
  check(EVP_EncryptInit_ex2(context.get(), aes256gcm(), bytes_of(key.reveal()),
                            bytes_of(nonce), nullptr),
        "init");
  check(update_all(context.get(), EVP_EncryptUpdate, associated_data, nullptr) ? 1 : 0,
        "associated data");
  GcmOutput output;
  output.ciphertext.assign(plaintext.size(), '\0');
  check(update_all(context.get(), EVP_EncryptUpdate, plaintext, &output.ciphertext) ? 1 : 0,
        "encrypt");
  unsigned char final_block[16];
  int final_length = 0;
  check(EVP_EncryptFinal_ex(context.get(), final_block, &final_length), "final");
  output.tag.assign(kSealTagSize, '\0');
  check(EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kSealTagSize),
                            output.tag.data()),
        "tag");
  return output;
}

bool aes256gcm_decrypt(const Key& key, std::string_view nonce, std::string_view ciphertext,
                       std::string_view associated_data, std::string_view tag,
                       std::string& plaintext) {
  plaintext.clear();
  if (nonce.size() != kSealNonceSize || tag.size() != kSealTagSize) return false;
  const CipherContext context = new_context();
  check(EVP_DecryptInit_ex2(context.get(), aes256gcm(), bytes_of(key.reveal()),
                            bytes_of(nonce), nullptr),
        "init");
  if (!update_all(context.get(), EVP_DecryptUpdate, associated_data, nullptr)) return false;
  std::string output(ciphertext.size(), '\0');
  if (!update_all(context.get(), EVP_DecryptUpdate, ciphertext, &output)) return false;
  // The ctrl call takes a non-const pointer but only reads the expected tag.
  std::string expected_tag(tag);
  check(EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kSealTagSize),
                            expected_tag.data()),
        "set tag");
  unsigned char final_block[16];
  int final_length = 0;
  if (EVP_DecryptFinal_ex(context.get(), final_block, &final_length) != 1) {
    // Unauthenticated plaintext must never escape.
    OPENSSL_cleanse(output.data(), output.size());
    return false;
  }
  plaintext = std::move(output);
  return true;
}

}  // namespace mailtrixy::crypto::detail
