#include "mailtrixy/crypto/aead.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

#include "crypto/gcm.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::crypto {
namespace {

std::string unhex(std::string_view text) {
  auto bytes = hex_decode(text);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::string();
}

Key key_from_hex(std::string_view text) {
  auto key = Key::from_bytes(unhex(text));
  EXPECT_TRUE(key.ok());
  return std::move(key).value();
}

struct GcmVector {
  const char* name;
  const char* key;
  const char* nonce;
  const char* plaintext;
  const char* associated_data;
  const char* ciphertext;
  const char* tag;
};

// McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13-16 (the AES-256 ones,
// also in NIST's GCM validation suite).
constexpr const char* kKey15 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
constexpr GcmVector kGcmVectors[] = {
    {"case 13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"case 14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"case 15", kKey15, "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
     "b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
     "c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"case 16", kKey15, "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
     "b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
     "c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(CryptoAesGcm, KnownAnswerVectors) {
  for (const auto& vector : kGcmVectors) {
    SCOPED_TRACE(vector.name);
    const Key key = key_from_hex(vector.key);
    const auto sealed = detail::aes256gcm_encrypt(key, unhex(vector.nonce), unhex(vector.plaintext),
                                                  unhex(vector.associated_data));
    EXPECT_EQ(hex_encode(sealed.ciphertext), vector.ciphertext);
    EXPECT_EQ(hex_encode(sealed.tag), vector.tag);

    std::string plaintext;
    ASSERT_TRUE(detail::aes256gcm_decrypt(key, unhex(vector.nonce), unhex(vector.ciphertext),
                                          unhex(vector.associated_data), unhex(vector.tag),
                                          plaintext));
    EXPECT_EQ(hex_encode(plaintext), vector.plaintext);
  }
}

TEST(CryptoAesGcm, PublicOpenReadsAVectorFramedAsABlob) {
  const GcmVector& vector = kGcmVectors[3];
  const std::string blob = std::string(1, static_cast<char>(kSealVersion)) + unhex(vector.nonce) +
                           unhex(vector.ciphertext) + unhex(vector.tag);
  const auto plaintext = open(key_from_hex(vector.key), blob, unhex(vector.associated_data));
  ASSERT_TRUE(plaintext.ok()) << plaintext.error().message;
  EXPECT_EQ(hex_encode(*plaintext), vector.plaintext);
}

TEST(CryptoSeal, RoundTrips) {
  const Key key = Key::generate();
  for (const std::string& plaintext :
       {std::string(), std::string("x"), std::string("refresh token value"),
        std::string("\0\1\2binary\xff", 10), random_bytes(100000)}) {
    const std::string ad("tokens\0acct", 11);
    const std::string blob = seal(key, plaintext, ad);
    EXPECT_EQ(blob.size(), plaintext.size() + kSealOverhead);
    EXPECT_EQ(static_cast<unsigned char>(blob[0]), kSealVersion);
    const auto opened = open(key, blob, ad);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(CryptoSeal, HidesThePlaintextAndUsesAFreshNonceEachTime) {
  const Key key = Key::generate();
  const std::string plaintext = "the same secret every time";
  std::set<std::string> blobs, nonces;
  for (int i = 0; i < 100; ++i) {
    const std::string blob = seal(key, plaintext, "ad");
    EXPECT_EQ(blob.find(plaintext), std::string::npos);
    blobs.insert(blob);
    nonces.insert(blob.substr(1, kSealNonceSize));
  }
  EXPECT_EQ(blobs.size(), 100u);
  EXPECT_EQ(nonces.size(), 100u);
}

class CryptoOpenFailure : public ::testing::Test {
 protected:
  const Key key = Key::generate();
  const std::string plaintext = "a refresh token worth protecting";
  const std::string associated_data = std::string("tokens\0account-1", 16);
  const std::string blob = seal(key, plaintext, associated_data);

  void expect_rejected(std::string_view candidate, const Key& with_key, std::string_view ad,
                       std::string_view expected_words) {
    const auto opened = open(with_key, candidate, ad);
    ASSERT_FALSE(opened.ok());
    EXPECT_NE(opened.error().message.find(expected_words), std::string::npos)
        << opened.error().message;
    EXPECT_EQ(opened.error().message.find(plaintext), std::string::npos);
  }
};

TEST_F(CryptoOpenFailure, WrongKey) {
  expect_rejected(blob, Key::generate(), associated_data, "failed authentication");
}

TEST_F(CryptoOpenFailure, WrongAssociatedData) {
  expect_rejected(blob, key, "tokens", "failed authentication");
  expect_rejected(blob, key, std::string("tokens\0account-2", 16), "failed authentication");
  expect_rejected(blob, key, "", "failed authentication");
}

TEST_F(CryptoOpenFailure, AnyFlippedBitAfterTheVersion) {
  for (std::size_t i = 1; i < blob.size(); ++i) {
    for (const unsigned char mask : {0x01, 0x80}) {
      std::string tampered = blob;
      tampered[i] = static_cast<char>(static_cast<unsigned char>(tampered[i]) ^ mask);
      SCOPED_TRACE("byte " + std::to_string(i));
      expect_rejected(tampered, key, associated_data, "failed authentication");
    }
  }
}

TEST_F(CryptoOpenFailure, UnknownVersion) {
  for (const unsigned char version : {0x00, 0x02, 0xff}) {
    std::string other = blob;
    other[0] = static_cast<char>(version);
    expect_rejected(other, key, associated_data, "unknown format version");
  }
}

TEST_F(CryptoOpenFailure, Truncation) {
  expect_rejected("", key, associated_data, "empty");
  for (std::size_t length = 1; length < kSealOverhead; ++length) {
    expect_rejected(blob.substr(0, length), key, associated_data, "truncated");
  }
  // Long enough to parse, but with bytes missing: the tag no longer matches.
  for (std::size_t length = kSealOverhead; length < blob.size(); ++length) {
    expect_rejected(blob.substr(0, length), key, associated_data, "failed authentication");
  }
}

TEST_F(CryptoOpenFailure, ExtraBytes) {
  expect_rejected(blob + "x", key, associated_data, "failed authentication");
}

TEST(CryptoKey, FromBytesRequiresExactly32) {
  EXPECT_TRUE(Key::from_bytes(std::string(32, 'k')).ok());
  for (const std::size_t size : {0, 16, 31, 33, 64}) {
    const auto key = Key::from_bytes(std::string(size, 'k'));
    ASSERT_FALSE(key.ok());
    EXPECT_NE(key.error().message.find("exactly 32 bytes"), std::string::npos);
  }
}

TEST(CryptoKey, ComparesByValueAndCopies) {
  const Key a = Key::generate();
  const Key b = Key::generate();
  EXPECT_FALSE(a == b);
  const Key copy = a;
  EXPECT_TRUE(copy == a);
  EXPECT_EQ(copy.reveal(), a.reveal());
  Key assigned = b;
  assigned = a;
  EXPECT_TRUE(assigned == a);
}

TEST(CryptoKey, MovingWipesTheSource) {
  Key source = Key::generate();
  const std::string original(source.reveal());
  Key destination = std::move(source);
  EXPECT_EQ(destination.reveal(), original);
  EXPECT_EQ(source.reveal(), std::string(Key::kSize, '\0'));  // NOLINT(bugprone-use-after-move)
}

TEST(CryptoKey, NeverPrintsItsBytes) {
  const Key key = Key::from_bytes("0123456789abcdef0123456789abcdef").value();
  std::ostringstream out;
  out << key;
  EXPECT_EQ(out.str(), "[redacted]");
  EXPECT_EQ(::testing::PrintToString(key), "[redacted]");
}

}  // namespace
}  // namespace mailtrixy::crypto
