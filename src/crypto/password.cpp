#include "mailtrixy/crypto/password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/hash.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::crypto {
namespace {

constexpr std::string_view kPrefix = "$scrypt$";
constexpr std::size_t kSaltSize = 16;
constexpr std::size_t kHashSize = 32;

// What an encoded hash may ask of us: the limits keep a hostile or corrupted hash from
// exhausting memory or CPU.
constexpr unsigned kMaxLog2N = 24;
constexpr unsigned kMaxR = 64;
constexpr unsigned kMaxP = 64;
constexpr std::uint64_t kMaxMemoryBytes = std::uint64_t{256} << 20;
constexpr std::size_t kMinSaltSize = 4, kMaxSaltSize = 64;
constexpr std::size_t kMinHashSize = 16, kMaxHashSize = 64;

struct ParsedHash {
  ScryptParams params;
  std::string salt;
  std::string hash;
};

// What OpenSSL's scrypt allocates (its own formula: B is p*128*r, V is 128*r*(N+2)).
std::uint64_t scrypt_memory(const ScryptParams& params) {
  const std::uint64_t n = std::uint64_t{1} << params.log2_n;
  return std::uint64_t{128} * params.r * (n + 2) + std::uint64_t{128} * params.r * params.p;
}

Result<void> check_params(const ScryptParams& params) {
  if (params.log2_n < 1 || params.log2_n > kMaxLog2N) {
    return make_error("scrypt ln must be between 1 and " + std::to_string(kMaxLog2N));
  }
  if (params.r < 1 || params.r > kMaxR) {
    return make_error("scrypt r must be between 1 and " + std::to_string(kMaxR));
  }
  if (params.p < 1 || params.p > kMaxP) {
    return make_error("scrypt p must be between 1 and " + std::to_string(kMaxP));
  }
  if (scrypt_memory(params) > kMaxMemoryBytes) {
    return make_error("scrypt parameters ln=" + std::to_string(params.log2_n) +
                      ",r=" + std::to_string(params.r) + " need more than " +
                      std::to_string(kMaxMemoryBytes >> 20) + " MiB of memory");
  }
  return {};
}

// Unpadded standard base64, the convention of modular crypt / PHC strings.
std::string encode_b64(std::string_view bytes) {
  std::string text = base64_encode(bytes);
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

Result<std::string> decode_b64(std::string_view text) {
  if (text.find('=') != std::string_view::npos) {
    return make_error("base64 fields of a password hash carry no '=' padding");
  }
  std::string padded(text);
  padded.append((4 - padded.size() % 4) % 4, '=');
  return base64_decode(padded);
}

bool parse_unsigned(std::string_view text, unsigned& out) {
  if (text.empty() || text.size() > 9) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

// "ln=15,r=8,p=1", exactly in that order (one canonical spelling, nothing else accepted).
bool parse_params(std::string_view text, ScryptParams& params) {
  const auto take = [&text](std::string_view name, unsigned& value, bool last) {
    if (text.substr(0, name.size()) != name) return false;
    text.remove_prefix(name.size());
    const std::size_t end = last ? text.size() : text.find(',');
    if (end == std::string_view::npos) return false;
    if (!parse_unsigned(text.substr(0, end), value)) return false;
    text.remove_prefix(last ? end : end + 1);
    return true;
  };
  return take("ln=", params.log2_n, false) && take("r=", params.r, false) &&
         take("p=", params.p, true);
}

Result<ParsedHash> parse(std::string_view encoded) {
  if (encoded.substr(0, kPrefix.size()) != kPrefix) {
    return make_error("a password hash must start with \"$scrypt$\"; create one with "
                      "`mailtrixy hash-password`");
  }
  std::vector<std::string_view> fields;
  std::string_view rest = encoded.substr(kPrefix.size());
  while (true) {
    const std::size_t dollar = rest.find('$');
    fields.push_back(rest.substr(0, dollar));
    if (dollar == std::string_view::npos) break;
    rest.remove_prefix(dollar + 1);
  }
  if (fields.size() != 3) {
    return make_error("a password hash must have the form $scrypt$ln=N,r=N,p=N$SALT$HASH");
  }
  ParsedHash parsed;
  if (!parse_params(fields[0], parsed.params)) {
    return make_error("the parameters of the password hash must read ln=N,r=N,p=N");
  }
  if (auto valid = check_params(parsed.params); !valid) return valid.error();
  auto salt = decode_b64(fields[1]);
  if (!salt) return make_error("the salt of the password hash is not valid base64");
  auto hash = decode_b64(fields[2]);
  if (!hash) return make_error("the hash value of the password hash is not valid base64");
  if (salt->size() < kMinSaltSize || salt->size() > kMaxSaltSize) {
    return make_error("the salt of the password hash must be " + std::to_string(kMinSaltSize) +
                      " to " + std::to_string(kMaxSaltSize) + " bytes");
  }
  if (hash->size() < kMinHashSize || hash->size() > kMaxHashSize) {
    return make_error("the hash value of the password hash must be " +
                      std::to_string(kMinHashSize) + " to " + std::to_string(kMaxHashSize) +
                      " bytes");
  }
  parsed.salt = std::move(salt).value();
  parsed.hash = std::move(hash).value();
  return parsed;
}

std::string derive(std::string_view password, std::string_view salt, const ScryptParams& params,
                   std::size_t length) {
  std::string out(length, '\0');
  // A little headroom over the exact need: OpenSSL compares against its own rounding.
  const std::uint64_t max_memory = scrypt_memory(params) + (std::uint64_t{1} << 20);
  static constexpr char kEmpty = '\0';
  if (EVP_PBE_scrypt(password.empty() ? &kEmpty : password.data(), password.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(),
                     std::uint64_t{1} << params.log2_n, params.r, params.p, max_memory,
                     reinterpret_cast<unsigned char*>(out.data()), out.size()) != 1) {
    throw std::runtime_error("OpenSSL scrypt failed (out of memory?)");
  }
  return out;
}

}  // namespace

std::string hash_password(std::string_view password) { return hash_password(password, {}); }

std::string hash_password(std::string_view password, const ScryptParams& params) {
  if (auto valid = check_params(params); !valid) throw std::invalid_argument(valid.error().message);
  const std::string salt = random_bytes(kSaltSize);
  std::string hash = derive(password, salt, params, kHashSize);
  std::string encoded = std::string(kPrefix) + "ln=" + std::to_string(params.log2_n) +
                        ",r=" + std::to_string(params.r) + ",p=" + std::to_string(params.p) +
                        "$" + encode_b64(salt) + "$" + encode_b64(hash);
  OPENSSL_cleanse(hash.data(), hash.size());
  return encoded;
}

bool verify_password(std::string_view password, std::string_view encoded) {
  auto parsed = parse(encoded);
  if (!parsed) return false;
  std::string computed;
  try {
    computed = derive(password, parsed->salt, parsed->params, parsed->hash.size());
  } catch (const std::runtime_error&) {
    return false;
  }
  const bool match = constant_time_equal(computed, parsed->hash);
  OPENSSL_cleanse(computed.data(), computed.size());
  return match;
}

Result<void> validate_password_hash(std::string_view encoded) {
  auto parsed = parse(encoded);
  if (!parsed) return parsed.error();
  return {};
}

}  // namespace mailtrixy::crypto
