#include "mailtrixy/net/certificate.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>

namespace mailtrixy::net {
namespace {

namespace fs = std::filesystem;

constexpr long kValidityDays = 825;
constexpr long kBackdateSeconds = 5 * 60;

template <auto Free>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;

// The reason OpenSSL gave last, for the rare failure inside the library itself.
std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

Error openssl_error(std::string_view what) {
  return make_error("cannot generate the self-signed certificate: " + std::string(what) +
                    " failed (" + openssl_reason() + ")");
}

Result<PkeyPtr> generate_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("generating the P-256 key");
  return key;
}

Result<void> add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  ExtPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
    return openssl_error(std::string("adding the ") + OBJ_nid2sn(nid) + " extension");
  }
  return {};
}

Result<void> set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return openssl_error("drawing a random serial number");
  // Serials are positive INTEGERs: a clear top bit avoids a 17th (sign) byte, a set next bit
  // keeps the number exactly 16 bytes long (and never zero); 126 random bits remain.
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x3f) | 0x40);
  BnPtr number(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!number || !BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(cert))) {
    return openssl_error("setting the serial number");
  }
  return {};
}

Result<X509Ptr> build_certificate(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  if (!cert) return openssl_error("allocating the certificate");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return openssl_error("setting version 3");
  if (auto serial = set_random_serial(cert.get()); !serial) return serial.error();
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(kValidityDays), 0,
                        nullptr)) {
    return openssl_error("setting the validity period");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) return openssl_error("setting the public key");

  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto add_name_entry = [name](const char* field, const char* value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC,
                                      reinterpret_cast<const unsigned char*>(value), -1, -1, 0) == 1;
  };
  if (!add_name_entry("O", "MailTrixy Bridge") || !add_name_entry("CN", "localhost")) {
    return openssl_error("setting the subject name");
  }
  if (X509_set_issuer_name(cert.get(), name) != 1) return openssl_error("setting the issuer name");

  const std::pair<int, const char*> extensions[] = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"},
      {NID_subject_key_identifier, "hash"},
  };
  for (const auto& [nid, value] : extensions) {
    if (auto added = add_extension(cert.get(), nid, value); !added) return added.error();
  }
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) return openssl_error("signing the certificate");
  return cert;
}

template <typename Write>
Result<std::string> to_pem(std::string_view what, Write write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return openssl_error("encoding the " + std::string(what));
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string errno_text(int error) { return std::generic_category().message(error); }

// A file written next to its final name and renamed into place, so a crash never leaves a
// half-written certificate or key behind under the real name.
class PendingFile {
 public:
  PendingFile(fs::path target, std::string_view what) : target_(std::move(target)), what_(what) {}
  ~PendingFile() {
    if (!temporary_.empty()) ::unlink(temporary_.c_str());
  }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  Result<void> write(const std::string& contents, mode_t mode) {
    std::string name = target_.string() + ".tmp-XXXXXX";
    // mkstemp creates the file 0600 with O_EXCL, so the key is never readable by others.
    const int fd = ::mkstemp(name.data());
    if (fd < 0) return failure("create a temporary file next to", errno);
    temporary_ = name;
    const auto fail_and_close = [&](std::string_view action) {
      const int error = errno;
      ::close(fd);
      return failure(action, error);
    };
    // fchmod rather than relying on the umask, which could hide bits the file must have.
    if (::fchmod(fd, mode) != 0) return fail_and_close("set the permissions of");
    std::size_t written = 0;
    while (written < contents.size()) {
      const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return fail_and_close("write");
      written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return fail_and_close("flush");
    if (::close(fd) != 0) return failure("close", errno);
    return {};
  }

  Result<void> commit() {
    if (::rename(temporary_.c_str(), target_.c_str()) != 0) return failure("rename into place", errno);
    temporary_.clear();
    return {};
  }

 private:
  Error failure(std::string_view action, int error) const {
    return make_error("cannot " + std::string(action) + " the " + what_ + " " + target_.string() +
                      ": " + errno_text(error));
  }

  fs::path target_;
  std::string what_;
  std::string temporary_;
};

void sync_directory(const fs::path& directory) {
  const int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);  // best effort: the rename is durable on most file systems without it
    ::close(fd);
  }
}

Result<void> create_parent(const fs::path& file, std::string_view what) {
  const fs::path parent = file.parent_path();
  if (parent.empty()) return {};
  std::error_code error;
  fs::create_directories(parent, error);
  if (error) {
    return make_error("cannot create the directory " + parent.string() + " for the " +
                      std::string(what) + " " + file.string() + ": " + error.message());
  }
  return {};
}

Result<bool> exists(const fs::path& path, std::string_view key) {
  std::error_code error;
  const auto status = fs::symlink_status(path, error);
  if (error && error != std::errc::no_such_file_or_directory && error != std::errc::not_a_directory) {
    return make_error("cannot check " + std::string(key) + " " + path.string() + ": " +
                      error.message());
  }
  return fs::exists(status);
}

}  // namespace

Result<bool> ensure_self_signed_certificate(const fs::path& cert_path, const fs::path& key_path) {
  if (cert_path.empty() || key_path.empty()) {
    return make_error("tls.cert and tls.key must both be set to file paths");
  }
  const auto cert_exists = exists(cert_path, "tls.cert");
  if (!cert_exists) return cert_exists.error();
  const auto key_exists = exists(key_path, "tls.key");
  if (!key_exists) return key_exists.error();

  if (*cert_exists && *key_exists) return false;
  if (*cert_exists) {
    return make_error("tls.cert " + cert_path.string() + " exists but tls.key " + key_path.string() +
                      " is missing; restore the key, or delete the certificate to have a new "
                      "self-signed pair generated");
  }
  if (*key_exists) {
    return make_error("tls.key " + key_path.string() + " exists but tls.cert " + cert_path.string() +
                      " is missing; restore the certificate, or delete the key to have a new "
                      "self-signed pair generated");
  }

  ERR_clear_error();
  auto key = generate_key();
  if (!key) return key.error();
  auto cert = build_certificate(key->get());
  if (!cert) return cert.error();
  auto key_pem = to_pem("private key", [&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key->get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  if (!key_pem) return key_pem.error();
  auto cert_pem = to_pem("certificate", [&](BIO* bio) { return PEM_write_bio_X509(bio, cert->get()); });
  if (!cert_pem) return cert_pem.error();

  if (auto made = create_parent(key_path, "private key"); !made) return made.error();
  if (auto made = create_parent(cert_path, "certificate"); !made) return made.error();

  // Both files are complete on disk before either gets its real name, which keeps the window
  // in which only one of them exists as short as two renames.
  PendingFile key_file(key_path, "private key");
  PendingFile cert_file(cert_path, "certificate");
  if (auto written = key_file.write(*key_pem, 0600); !written) return written.error();
  if (auto written = cert_file.write(*cert_pem, 0644); !written) return written.error();
  if (auto done = key_file.commit(); !done) return done.error();
  if (auto done = cert_file.commit(); !done) return done.error();
  sync_directory(key_path.parent_path());
  sync_directory(cert_path.parent_path());
  return true;
}

}  // namespace mailtrixy::net
