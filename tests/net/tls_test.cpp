#include "mailtrixy/net/tls.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <cstdio>
#include <string>

#include "mailtrixy/net/certificate.hpp"
#include "test_support.hpp"

namespace mailtrixy::net {
namespace {

using testing::TempDir;

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ensure_self_signed_certificate(cert_, key_).ok());
    ASSERT_TRUE(ensure_self_signed_certificate(other_cert_, other_key_).ok());
  }
  TempDir dir_;
  std::filesystem::path cert_ = dir_ / "server.crt";
  std::filesystem::path key_ = dir_ / "server.key";
  std::filesystem::path other_cert_ = dir_ / "other.crt";
  std::filesystem::path other_key_ = dir_ / "other.key";
};

TEST_F(TlsContextTest, LoadsAGeneratedPairWithTheHardenedSettings) {
  const auto tls = make_server_tls(cert_, key_);
  ASSERT_TRUE(tls.ok()) << tls.error().message;
  SSL_CTX* context = tls->native_handle();
  ASSERT_NE(context, nullptr);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(context), TLS1_2_VERSION);
  const auto options = SSL_CTX_get_options(context);
  EXPECT_TRUE(options & SSL_OP_NO_COMPRESSION);
  EXPECT_TRUE(options & SSL_OP_NO_RENEGOTIATION);
  EXPECT_TRUE(options & SSL_OP_CIPHER_SERVER_PREFERENCE);
  EXPECT_NE(SSL_CTX_get0_certificate(context), nullptr);

  // Every TLS 1.2 suite offered is ECDHE with an AEAD cipher.
  SSL* ssl = SSL_new(context);
  STACK_OF(SSL_CIPHER)* ciphers = SSL_get1_supported_ciphers(ssl);
  int tls12_suites = 0;
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    const std::string name = SSL_CIPHER_get_name(cipher);
    if (name.rfind("TLS_", 0) == 0) continue;  // TLS 1.3 suites, left at OpenSSL's defaults
    ++tls12_suites;
    EXPECT_EQ(name.rfind("ECDHE-", 0), 0u) << name;
    EXPECT_TRUE(SSL_CIPHER_is_aead(cipher)) << name;
  }
  EXPECT_GT(tls12_suites, 0);
  sk_SSL_CIPHER_free(ciphers);
  SSL_free(ssl);
}

TEST_F(TlsContextTest, CopiesShareOneContext) {
  const auto tls = make_server_tls(TlsFiles{cert_, key_});
  ASSERT_TRUE(tls.ok());
  const TlsServerContext copy = *tls;
  EXPECT_EQ(copy.native_handle(), tls->native_handle());
}

TEST_F(TlsContextTest, AcceptsACertificateFollowedByItsChain) {
  // The second certificate stands in for an intermediate: it must be loaded as chain, not ignored.
  testing::write_text(dir_ / "chain.crt", testing::read_text(cert_) + testing::read_text(other_cert_));
  const auto tls = make_server_tls(dir_ / "chain.crt", key_);
  ASSERT_TRUE(tls.ok()) << tls.error().message;
  STACK_OF(X509)* chain = nullptr;
  ASSERT_EQ(SSL_CTX_get0_chain_certs(tls->native_handle(), &chain), 1);
  ASSERT_NE(chain, nullptr);
  EXPECT_EQ(sk_X509_num(chain), 1);
}

TEST_F(TlsContextTest, NamesAMissingCertificateFile) {
  const auto tls = make_server_tls(dir_ / "absent.crt", key_);
  ASSERT_FALSE(tls.ok());
  EXPECT_EQ(tls.error().message,
            "cannot read the TLS certificate " + (dir_ / "absent.crt").string() + ": No such file or directory");
}

TEST_F(TlsContextTest, NamesAMissingKeyFile) {
  const auto tls = make_server_tls(cert_, dir_ / "absent.key");
  ASSERT_FALSE(tls.ok());
  EXPECT_EQ(tls.error().message,
            "cannot read the TLS private key " + (dir_ / "absent.key").string() + ": No such file or directory");
}

TEST_F(TlsContextTest, RejectsAFileWithoutACertificate) {
  testing::write_text(dir_ / "garbage.crt", "this is not PEM\n");
  const auto tls = make_server_tls(dir_ / "garbage.crt", key_);
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.error().message.find("the TLS certificate " + (dir_ / "garbage.crt").string() +
                                     " holds no PEM certificate"),
            std::string::npos)
      << tls.error().message;
}

TEST_F(TlsContextTest, RejectsAKeyGivenAsCertificate) {
  const auto tls = make_server_tls(key_, key_);
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.error().message.find("holds no PEM certificate"), std::string::npos) << tls.error().message;
}

TEST_F(TlsContextTest, RejectsAKeyOfAnotherCertificate) {
  const auto tls = make_server_tls(cert_, other_key_);
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.error().message.find("the TLS private key " + other_key_.string() +
                                     " does not belong to the certificate " + cert_.string()),
            std::string::npos)
      << tls.error().message;
}

TEST_F(TlsContextTest, RejectsAnEncryptedKeyWithoutPrompting) {
  FILE* in = std::fopen(key_.c_str(), "r");
  ASSERT_NE(in, nullptr);
  EVP_PKEY* key = PEM_read_PrivateKey(in, nullptr, nullptr, nullptr);
  std::fclose(in);
  ASSERT_NE(key, nullptr);
  const auto encrypted = dir_ / "encrypted.key";
  FILE* out = std::fopen(encrypted.c_str(), "w");
  ASSERT_NE(out, nullptr);
  char passphrase[] = "correct horse";
  ASSERT_EQ(PEM_write_PKCS8PrivateKey(out, key, EVP_aes_256_cbc(), passphrase, sizeof passphrase - 1, nullptr,
                                      nullptr),
            1);
  std::fclose(out);
  EVP_PKEY_free(key);

  const auto tls = make_server_tls(cert_, encrypted);
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.error().message.find(encrypted.string() + " is protected by a passphrase"), std::string::npos)
      << tls.error().message;
}

}  // namespace
}  // namespace mailtrixy::net
