#include "mailtrixy/crypto/random.hpp"

#include <gtest/gtest.h>

#include <set>

#include "mailtrixy/crypto/encoding.hpp"

namespace mailtrixy::crypto {
namespace {

TEST(CryptoRandom, BytesHaveTheRequestedLength) {
  EXPECT_EQ(random_bytes(0), "");
  EXPECT_EQ(random_bytes(1).size(), 1u);
  EXPECT_EQ(random_bytes(4096).size(), 4096u);
}

TEST(CryptoRandom, BytesDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(random_bytes(16)).second);
}

TEST(CryptoRandom, BytesCoverEveryValue) {
  // 64 KiB of uniform bytes misses a given value with probability (255/256)^65536 ~ 1e-111.
  const std::string bytes = random_bytes(65536);
  std::set<unsigned char> values(bytes.begin(), bytes.end());
  EXPECT_EQ(values.size(), 256u);
}

TEST(CryptoRandom, TokenIsUnpaddedBase64UrlOfTheRequestedEntropy) {
  const std::string token = random_token();
  EXPECT_EQ(token.size(), 43u);  // 32 bytes
  EXPECT_EQ(token.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  const auto decoded = base64url_decode(token);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->size(), 32u);
  EXPECT_EQ(random_token(16).size(), 22u);
  EXPECT_NE(random_token(), random_token());
}

}  // namespace
}  // namespace mailtrixy::crypto
