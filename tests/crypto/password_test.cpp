#include "mailtrixy/crypto/password.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "mailtrixy/crypto/encoding.hpp"

namespace mailtrixy::crypto {
namespace {

// Cheap parameters keep the tests fast; one test below exercises the defaults.
constexpr ScryptParams kCheap{10, 8, 1};

std::string unpadded_base64(std::string_view bytes) {
  std::string text = base64_encode(bytes);
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

TEST(CryptoPasswordHash, DefaultParametersVerifyAndHaveTheDocumentedForm) {
  const auto start = std::chrono::steady_clock::now();
  const std::string encoded = hash_password("correct horse battery staple");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // $scrypt$ln=15,r=8,p=1$<22 base64 characters: 16-byte salt>$<43: 32-byte hash>
  constexpr std::string_view kPrefix = "$scrypt$ln=15,r=8,p=1$";
  ASSERT_EQ(encoded.substr(0, kPrefix.size()), kPrefix) << encoded;
  ASSERT_EQ(encoded.size(), kPrefix.size() + 22 + 1 + 43) << encoded;
  EXPECT_EQ(encoded[kPrefix.size() + 22], '$') << encoded;
  const std::string salt = encoded.substr(kPrefix.size(), 22);
  const std::string hash = encoded.substr(kPrefix.size() + 23);
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  EXPECT_EQ(salt.find_first_not_of(kAlphabet), std::string::npos) << encoded;
  EXPECT_EQ(hash.find_first_not_of(kAlphabet), std::string::npos) << encoded;
  EXPECT_TRUE(verify_password("correct horse battery staple", encoded));
  EXPECT_FALSE(verify_password("correct horse battery stapler", encoded));
  // The point of the parameters is to be slow for an attacker yet fine for a login.
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  RecordProperty("default_hash_ms",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
}

TEST(CryptoPasswordHash, Rfc7914KnownAnswer) {
  // RFC 7914 §12: scrypt(P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64).
  const std::string derived = hex_decode(
      "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
      "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640").value();
  const std::string encoded =
      "$scrypt$ln=10,r=8,p=16$" + unpadded_base64("NaCl") + "$" + unpadded_base64(derived);
  EXPECT_TRUE(validate_password_hash(encoded).ok());
  EXPECT_TRUE(verify_password("password", encoded));
  EXPECT_FALSE(verify_password("Password", encoded));
}

TEST(CryptoPasswordHash, WrongPasswordFails) {
  const std::string encoded = hash_password("s3cret", kCheap);
  EXPECT_TRUE(verify_password("s3cret", encoded));
  EXPECT_FALSE(verify_password("s3cre", encoded));
  EXPECT_FALSE(verify_password("s3cret ", encoded));
  EXPECT_FALSE(verify_password("", encoded));
}

TEST(CryptoPasswordHash, SaltMakesEveryHashDifferent) {
  const std::string first = hash_password("same", kCheap);
  const std::string second = hash_password("same", kCheap);
  EXPECT_NE(first, second);
  EXPECT_TRUE(verify_password("same", first));
  EXPECT_TRUE(verify_password("same", second));
}

TEST(CryptoPasswordHash, HandlesEmptyAndBinaryPasswords) {
  const std::string empty = hash_password("", kCheap);
  EXPECT_TRUE(verify_password("", empty));
  EXPECT_FALSE(verify_password("x", empty));
  const std::string binary("a\0b\xff", 4);
  const std::string encoded = hash_password(binary, kCheap);
  EXPECT_TRUE(verify_password(binary, encoded));
  EXPECT_FALSE(verify_password("a", encoded));
}

TEST(CryptoPasswordHash, ParametersTravelWithTheHash) {
  const std::string encoded = hash_password("pw", ScryptParams{11, 4, 2});
  EXPECT_EQ(encoded.rfind("$scrypt$ln=11,r=4,p=2$", 0), 0u) << encoded;
  EXPECT_TRUE(verify_password("pw", encoded));
}

TEST(CryptoPasswordHash, RejectsUnacceptableParametersWhenHashing) {
  EXPECT_THROW((void)hash_password("pw", ScryptParams{0, 8, 1}), std::invalid_argument);
  EXPECT_THROW((void)hash_password("pw", ScryptParams{25, 8, 1}), std::invalid_argument);
  EXPECT_THROW((void)hash_password("pw", ScryptParams{20, 8, 1}), std::invalid_argument);  // 1 GiB
  EXPECT_THROW((void)hash_password("pw", ScryptParams{10, 0, 1}), std::invalid_argument);
  EXPECT_THROW((void)hash_password("pw", ScryptParams{10, 8, 0}), std::invalid_argument);
}

TEST(CryptoPasswordHash, MalformedEncodingsAreFalseNeverACrash) {
  const std::string good = hash_password("pw", kCheap);
  const std::size_t salt_start = good.find('$', 8) + 1;
  const std::size_t hash_start = good.find('$', salt_start) + 1;
  const std::string salt = good.substr(salt_start, hash_start - salt_start - 1);
  const std::string hash = good.substr(hash_start);
  ASSERT_TRUE(verify_password("pw", "$scrypt$ln=10,r=8,p=1$" + salt + "$" + hash));

  const std::vector<std::string> malformed = {
      "",
      "pw",
      "$scrypt$",
      "$scrypt$$$",
      "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + hash,
      "$scrypt$ln=10,r=8,p=1$" + salt,                              // hash missing
      "$scrypt$ln=10,r=8,p=1$" + salt + "$" + hash + "$extra",      // field too many
      "$scrypt$ln=10,r=8$" + salt + "$" + hash,                     // p missing
      "$scrypt$r=8,ln=10,p=1$" + salt + "$" + hash,                 // order
      "$scrypt$ln=10,r=8,p=1,x=1$" + salt + "$" + hash,             // unknown parameter
      "$scrypt$ln=ten,r=8,p=1$" + salt + "$" + hash,                // not a number
      "$scrypt$ln=-1,r=8,p=1$" + salt + "$" + hash,
      "$scrypt$ln=+10,r=8,p=1$" + salt + "$" + hash,
      "$scrypt$ln=,r=8,p=1$" + salt + "$" + hash,
      "$scrypt$ln=99999999999999999999,r=8,p=1$" + salt + "$" + hash,
      "$scrypt$ln=0,r=8,p=1$" + salt + "$" + hash,                  // N = 1
      "$scrypt$ln=40,r=8,p=1$" + salt + "$" + hash,                 // absurd memory
      "$scrypt$ln=20,r=8,p=1$" + salt + "$" + hash,                 // 1 GiB: refused, not run
      "$scrypt$ln=10,r=0,p=1$" + salt + "$" + hash,
      "$scrypt$ln=10,r=8,p=0$" + salt + "$" + hash,
      "$scrypt$ln=10,r=8,p=1000000$" + salt + "$" + hash,
      "$scrypt$ln=10,r=8,p=1$" + salt + "=$" + hash,                // padding
      "$scrypt$ln=10,r=8,p=1$" + salt + "$" + hash + "!",           // not base64
      "$scrypt$ln=10,r=8,p=1$$" + hash,                             // empty salt
      "$scrypt$ln=10,r=8,p=1$QUJD$" + hash,                         // salt too short
      "$scrypt$ln=10,r=8,p=1$" + salt + "$QUJD",                    // hash too short
      // Cut by two characters, not one: 42 characters are a valid encoding of a 31-byte hash
      // whenever the last character's spare bits are zero (1 in 16 random hashes), and a
      // 31-byte scrypt value is a legitimate prefix that verifies. 41 never decode.
      "$scrypt$ln=10,r=8,p=1$" + salt + "$" + hash.substr(0, hash.size() - 2),
      " $scrypt$ln=10,r=8,p=1$" + salt + "$" + hash,
      std::string("$scrypt$ln=10,r=8,p=1\0$", 23) + salt + "$" + hash,
  };
  for (const auto& encoded : malformed) {
    EXPECT_FALSE(verify_password("pw", encoded)) << encoded;
    const auto valid = validate_password_hash(encoded);
    EXPECT_FALSE(valid.ok()) << encoded;
    if (!valid.ok()) {
      EXPECT_FALSE(valid.error().message.empty());
    }
  }
}

TEST(CryptoPasswordHash, ValidationExplainsTheProblem) {
  const auto wrong_scheme = validate_password_hash("hunter2");
  ASSERT_FALSE(wrong_scheme.ok());
  EXPECT_NE(wrong_scheme.error().message.find("mailtrixy hash-password"), std::string::npos);
  const auto too_costly = validate_password_hash("$scrypt$ln=22,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  ASSERT_FALSE(too_costly.ok());
  EXPECT_NE(too_costly.error().message.find("MiB"), std::string::npos) << too_costly.error().message;
  EXPECT_TRUE(validate_password_hash(hash_password("pw", kCheap)).ok());
}

}  // namespace
}  // namespace mailtrixy::crypto
