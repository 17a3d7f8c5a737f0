#include "mailtrixy/crypto/encoding.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::crypto {
namespace {

// RFC 4648 §10.
const std::vector<std::pair<std::string, std::string>> kBase64Vectors = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

TEST(CryptoBase64, Rfc4648Vectors) {
  for (const auto& [plain, encoded] : kBase64Vectors) {
    EXPECT_EQ(base64_encode(plain), encoded) << plain;
    const auto decoded = base64_decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(CryptoBase64Url, Rfc4648VectorsWithoutPadding) {
  for (const auto& [plain, encoded] : kBase64Vectors) {
    std::string unpadded = encoded;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    EXPECT_EQ(base64url_encode(plain), unpadded) << plain;
    const auto decoded = base64url_decode(unpadded);
    ASSERT_TRUE(decoded.ok()) << unpadded << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, plain);
    // Correct padding is tolerated in the URL-safe form, where it is optional (RFC 4648 §5).
    const auto padded = base64url_decode(encoded);
    ASSERT_TRUE(padded.ok()) << encoded;
    EXPECT_EQ(*padded, plain);
  }
}

TEST(CryptoBase64, AlphabetsDifferInTheLastTwoCharacters) {
  const std::string bytes("\xfb\xff", 2);
  EXPECT_EQ(base64_encode(bytes), "+/8=");
  EXPECT_EQ(base64url_encode(bytes), "-_8");
  EXPECT_FALSE(base64_decode("-_8=").ok());
  EXPECT_FALSE(base64url_decode("+/8").ok());
}

TEST(CryptoBase64, RoundTripsEveryLengthAndByteValue) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  for (std::size_t length = 0; length <= 100; ++length) {
    const std::string bytes = random_bytes(length);
    EXPECT_EQ(*base64_decode(base64_encode(bytes)), bytes);
    EXPECT_EQ(*base64url_decode(base64url_encode(bytes)), bytes);
  }
  EXPECT_EQ(*base64_decode(base64_encode(all_bytes)), all_bytes);
  EXPECT_EQ(*base64url_decode(base64url_encode(all_bytes)), all_bytes);
}

TEST(CryptoBase64, RejectsMalformedInput) {
  const std::vector<std::string> malformed = {
      "Zg",         // padding missing
      "Zg=",        // padding short
      "Zg===",      // padding long
      "Zm9v====",   // padding where none belongs
      "Z",          // a single leftover character cannot encode a byte
      "Z===",       // same, padded
      "Zh==",       // non-zero unused bits: not the canonical encoding of "f"
      "Zm9=",       // same for two bytes
      "Zm9v\n",     // no whitespace
      "Zm 9v",      //
      "=Zm9",       // padding first
      "Zm=9",       // padding in the middle
      "Zm9v!A==",   // outside the alphabet
      std::string("Zm9\0", 4),
      "\xc3\xa9\xc3\xa9",  // non-ASCII
  };
  for (const auto& text : malformed) {
    const auto decoded = base64_decode(text);
    EXPECT_FALSE(decoded.ok()) << "accepted: " << text;
    if (!decoded.ok()) {
      EXPECT_NE(decoded.error().message.find("base64"), std::string::npos);
    }
  }
}

TEST(CryptoBase64Url, RejectsMalformedInput) {
  for (const char* text : {"Z", "Zh", "Zg=", "Zg===", "Zm9v=", "Zm+v", "Zm/v", "Zm9v ", "Zm=9"}) {
    EXPECT_FALSE(base64url_decode(text).ok()) << "accepted: " << text;
  }
}

TEST(CryptoBase64, ErrorsDoNotEchoTheInput) {
  const auto decoded = base64_decode("secretsecret!");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message.find("secret"), std::string::npos) << decoded.error().message;
  EXPECT_NE(decoded.error().message.find("position 13"), std::string::npos)
      << decoded.error().message;
}

TEST(CryptoHex, Rfc4648Base16Vector) {
  EXPECT_EQ(hex_encode("foobar"), "666f6f626172");
  EXPECT_EQ(*hex_decode("666F6F626172"), "foobar");
  EXPECT_EQ(*hex_decode("666f6f626172"), "foobar");
  EXPECT_EQ(hex_encode(std::string("\x00\xff", 2)), "00ff");
  EXPECT_EQ(*hex_decode(""), "");
}

TEST(CryptoHex, RejectsMalformedInput) {
  EXPECT_FALSE(hex_decode("abc").ok());
  EXPECT_FALSE(hex_decode("zz").ok());
  EXPECT_FALSE(hex_decode("0x00").ok());
  const auto bad = hex_decode("00g0");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("position 3"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace mailtrixy::crypto
