#include "mailtrixy/net/certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include "test_support.hpp"

namespace mailtrixy::net {
namespace {

using testing::TempDir;

struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

X509Ptr load_certificate(const std::filesystem::path& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return nullptr;
  X509Ptr cert(PEM_read_X509(file, nullptr, nullptr, nullptr));
  std::fclose(file);
  return cert;
}

PkeyPtr load_key(const std::filesystem::path& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return nullptr;
  PkeyPtr key(PEM_read_PrivateKey(file, nullptr, nullptr, nullptr));
  std::fclose(file);
  return key;
}

unsigned file_mode(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777;
}

std::set<std::string> subject_alt_names(X509* cert) {
  std::set<std::string> names;
  auto* entries = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; entries != nullptr && i < sk_GENERAL_NAME_num(entries); ++i) {
    const GENERAL_NAME* entry = sk_GENERAL_NAME_value(entries, i);
    if (entry->type == GEN_DNS) {
      names.insert("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(entry->d.dNSName)),
                                        static_cast<std::size_t>(ASN1_STRING_length(entry->d.dNSName))));
    } else if (entry->type == GEN_IPADD) {
      const int length = ASN1_STRING_length(entry->d.iPAddress);
      char text[64] = {};
      inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(entry->d.iPAddress), text, sizeof text);
      names.insert(std::string("IP:") + text);
    }
  }
  GENERAL_NAMES_free(entries);
  return names;
}

// What `curl --cacert server.crt` does: trust exactly this certificate, verify it as a TLS
// server certificate for `host`.
bool verifies_as_own_trust_anchor(X509* cert, const char* host) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, cert);
  X509_STORE_CTX* context = X509_STORE_CTX_new();
  X509_STORE_CTX_init(context, store, cert, nullptr);
  X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(context), host, 0);
  const bool ok = X509_verify_cert(context) == 1;
  X509_STORE_CTX_free(context);
  X509_STORE_free(store);
  return ok;
}

TEST(SelfSignedCertificate, CreatesBothFilesAndParentDirectoriesWithTightPermissions) {
  TempDir dir;
  const auto cert = dir / "certs/nested/server.crt";
  const auto key = dir / "keys/server.key";
  const auto created = ensure_self_signed_certificate(cert, key);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(*created);
  EXPECT_EQ(file_mode(key), 0600u);
  EXPECT_EQ(file_mode(cert), 0644u);
  // No temporary files left next to them.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(cert.parent_path()), {}), 1);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(key.parent_path()), {}), 1);
}

TEST(SelfSignedCertificate, HasTheDocumentedContents) {
  TempDir dir;
  ASSERT_TRUE(ensure_self_signed_certificate(dir / "server.crt", dir / "server.key").ok());
  X509Ptr cert = load_certificate(dir / "server.crt");
  PkeyPtr key = load_key(dir / "server.key");
  ASSERT_TRUE(cert && key);

  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_verify(cert.get(), key.get()), 1) << "self-signature";
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);

  char common_name[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, common_name, sizeof common_name);
  EXPECT_STREQ(common_name, "localhost");

  char group[32] = {};
  ASSERT_EQ(EVP_PKEY_get_group_name(key.get(), group, sizeof group, nullptr), 1);
  EXPECT_STREQ(group, "prime256v1");

  EXPECT_EQ(subject_alt_names(cert.get()), (std::set<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:::1"}));
  EXPECT_EQ(X509_check_ca(cert.get()), 0) << "must be an end-entity certificate (CA:FALSE)";
  EXPECT_TRUE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER);
  EXPECT_TRUE(X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE);

  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr);
  EXPECT_EQ(BN_num_bits(serial), 127);
  EXPECT_FALSE(BN_is_negative(serial));
  BN_free(serial);

  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())), 1);
  EXPECT_EQ(days, 825);  // plus the 5 minutes of backdating
  EXPECT_EQ(seconds, 300);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0) << "valid already";

  EXPECT_TRUE(verifies_as_own_trust_anchor(cert.get(), "localhost"));
  EXPECT_FALSE(verifies_as_own_trust_anchor(cert.get(), "example.com"));
}

TEST(SelfSignedCertificate, EachPairIsFresh) {
  TempDir dir;
  ASSERT_TRUE(ensure_self_signed_certificate(dir / "a.crt", dir / "a.key").ok());
  ASSERT_TRUE(ensure_self_signed_certificate(dir / "b.crt", dir / "b.key").ok());
  X509Ptr a = load_certificate(dir / "a.crt");
  X509Ptr b = load_certificate(dir / "b.crt");
  ASSERT_TRUE(a && b);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.get()), X509_get0_serialNumber(b.get())), 0);
  EXPECT_NE(testing::read_text(dir / "a.key"), testing::read_text(dir / "b.key"));
}

TEST(SelfSignedCertificate, LeavesAnExistingPairUntouched) {
  TempDir dir;
  testing::write_text(dir / "server.crt", "admin's certificate");
  testing::write_text(dir / "server.key", "admin's key");
  const auto created = ensure_self_signed_certificate(dir / "server.crt", dir / "server.key");
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_FALSE(*created);
  EXPECT_EQ(testing::read_text(dir / "server.crt"), "admin's certificate");
  EXPECT_EQ(testing::read_text(dir / "server.key"), "admin's key");
}

TEST(SelfSignedCertificate, RefusesWhenOnlyTheCertificateExists) {
  TempDir dir;
  testing::write_text(dir / "server.crt", "admin's certificate");
  const auto created = ensure_self_signed_certificate(dir / "server.crt", dir / "server.key");
  ASSERT_FALSE(created.ok());
  const std::string& message = created.error().message;
  EXPECT_NE(message.find("tls.cert " + (dir / "server.crt").string() + " exists but tls.key"), std::string::npos)
      << message;
  EXPECT_NE(message.find((dir / "server.key").string() + " is missing"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(dir / "server.key"));
  EXPECT_EQ(testing::read_text(dir / "server.crt"), "admin's certificate");
}

TEST(SelfSignedCertificate, RefusesWhenOnlyTheKeyExists) {
  TempDir dir;
  testing::write_text(dir / "server.key", "admin's key");
  const auto created = ensure_self_signed_certificate(dir / "server.crt", dir / "server.key");
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("tls.key " + (dir / "server.key").string() + " exists but tls.cert"),
            std::string::npos)
      << created.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir / "server.crt"));
}

TEST(SelfSignedCertificate, ReportsADirectoryThatCannotBeCreated) {
  TempDir dir;
  testing::write_text(dir / "plain-file", "not a directory");
  const auto created = ensure_self_signed_certificate(dir / "plain-file/certs/server.crt", dir / "server.key");
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("cannot create the directory " + (dir / "plain-file/certs").string()),
            std::string::npos)
      << created.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir / "server.key")) << "no half pair left behind";
}

}  // namespace
}  // namespace mailtrixy::net
