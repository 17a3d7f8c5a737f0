#include "tokens.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/hash.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::emulator {
namespace {

std::string format_guid(std::string bytes) {
  const std::string hex = crypto::hex_encode(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::tm utc_parts(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  return parts;
}

std::string format_time(std::chrono::system_clock::time_point when, const char* date_time_separator,
                        const char* suffix) {
  const std::tm t = utc_parts(when);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d%s%02d:%02d:%02d%s", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, date_time_separator, t.tm_hour, t.tm_min, t.tm_sec, suffix);
  return buffer;
}

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct BignumDeleter {
  void operator()(BIGNUM* number) const { BN_free(number); }
};

std::string bignum_bytes(const EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return {};
  std::unique_ptr<BIGNUM, BignumDeleter> number(raw);
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(number.get())), '\0');
  BN_bn2bin(number.get(), reinterpret_cast<unsigned char*>(bytes.data()));
  return bytes;
}

}  // namespace

std::string new_guid() {
  std::string bytes = crypto::random_bytes(16);
  bytes[6] = static_cast<char>((static_cast<unsigned char>(bytes[6]) & 0x0F) | 0x40);
  bytes[8] = static_cast<char>((static_cast<unsigned char>(bytes[8]) & 0x3F) | 0x80);
  return format_guid(std::move(bytes));
}

std::string derived_guid(std::string_view purpose, std::string_view name) {
  std::string input(purpose);
  input += '\0';
  input += name;
  std::string bytes = crypto::sha256(input).substr(0, 16);
  bytes[6] = static_cast<char>((static_cast<unsigned char>(bytes[6]) & 0x0F) | 0x50);
  bytes[8] = static_cast<char>((static_cast<unsigned char>(bytes[8]) & 0x3F) | 0x80);
  return format_guid(std::move(bytes));
}

std::string personal_account_id(std::string_view address) {
  std::string input = "msa-puid";
  input += '\0';
  input += lower(address);
  std::string hex = crypto::hex_encode(crypto::sha256(input).substr(0, 8));
  // Real ids never start with a zero digit run that would make them look shorter when parsed
  // as a number; keeping the first digit non-zero keeps them 16 digits in every rendering.
  if (hex[0] == '0') hex[0] = '1';
  return hex;
}

bool looks_like_guid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position) {
      if (text[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

std::string identity_timestamp(std::chrono::system_clock::time_point when) {
  return format_time(when, " ", "Z");
}

std::string precise_timestamp(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  const auto ticks = duration_cast<nanoseconds>(when.time_since_epoch()).count() % 1'000'000'000 / 100;
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%07dZ", static_cast<int>(ticks < 0 ? 0 : ticks));
  return format_time(when, "T", fraction);
}

std::string graph_date(std::chrono::system_clock::time_point when) { return format_time(when, "T", ""); }

std::string iso_seconds(std::chrono::system_clock::time_point when) { return format_time(when, "T", "Z"); }

std::int64_t unix_seconds(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

std::string pkce_s256_challenge(std::string_view verifier) {
  return crypto::base64url_encode(crypto::sha256(verifier));
}

bool pkce_verifies(std::string_view method, std::string_view challenge, std::string_view verifier) {
  if (method == "S256") return crypto::constant_time_equal(pkce_s256_challenge(verifier), challenge);
  if (method == "plain") return crypto::constant_time_equal(verifier, challenge);
  return false;
}

struct JwtSigner::Impl {
  std::unique_ptr<EVP_PKEY, EvpPkeyDeleter> key;
  std::string kid;
  std::string encoded_header;
};

JwtSigner::JwtSigner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JwtSigner::JwtSigner(JwtSigner&&) noexcept = default;
JwtSigner& JwtSigner::operator=(JwtSigner&&) noexcept = default;
JwtSigner::~JwtSigner() = default;

Result<JwtSigner> JwtSigner::generate() {
  auto impl = std::make_unique<Impl>();
  impl->key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
  if (!impl->key) return make_error("cannot generate the RSA key that signs id tokens (OpenSSL failed)");
  // Microsoft's kid values are base64url strings of about 27 characters.
  impl->kid = crypto::base64url_encode(crypto::sha256(bignum_bytes(impl->key.get(), OSSL_PKEY_PARAM_RSA_N)))
                  .substr(0, 27);
  impl->encoded_header =
      crypto::base64url_encode(R"({"typ":"JWT","alg":"RS256","kid":")" + impl->kid + R"("})");
  return JwtSigner(std::move(impl));
}

std::string JwtSigner::sign(std::string_view payload_json) const {
  std::string signing_input = impl_->encoded_header + "." + crypto::base64url_encode(payload_json);
  std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter> context(EVP_MD_CTX_new());
  std::size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (!context ||
      EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, impl_->key.get()) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &length, data, signing_input.size()) != 1) {
    throw std::runtime_error("OpenSSL failed to sign an id token");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     signing_input.size()) != 1) {
    throw std::runtime_error("OpenSSL failed to sign an id token");
  }
  signature.resize(length);
  return signing_input + "." + crypto::base64url_encode(signature);
}

bool JwtSigner::verify(std::string_view jwt) const {
  const auto last_dot = jwt.rfind('.');
  if (last_dot == std::string_view::npos || jwt.find('.') == last_dot) return false;
  const std::string_view signing_input = jwt.substr(0, last_dot);
  auto signature = crypto::base64url_decode(jwt.substr(last_dot + 1));
  if (!signature) return false;
  std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter> context(EVP_MD_CTX_new());
  if (!context ||
      EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, impl_->key.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                          signature->size(), reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

const std::string& JwtSigner::kid() const { return impl_->kid; }

std::string JwtSigner::jwks_json() const {
  const std::string modulus = crypto::base64url_encode(bignum_bytes(impl_->key.get(), OSSL_PKEY_PARAM_RSA_N));
  const std::string exponent = crypto::base64url_encode(bignum_bytes(impl_->key.get(), OSSL_PKEY_PARAM_RSA_E));
  return R"({"keys":[{"kty":"RSA","use":"sig","kid":")" + impl_->kid + R"(","n":")" + modulus + R"(","e":")" +
         exponent + R"("}]})";
}

}  // namespace mailtrixy::emulator
