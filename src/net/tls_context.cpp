#include "mailtrixy/net/tls.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <system_error>

#include "mailtrixy/base/log.hpp"
#include "tls_context_impl.hpp"

namespace mailtrixy::net {
namespace {

namespace fs = std::filesystem;

// Mozilla "intermediate" TLS 1.2 suites without finite-field DHE: forward secrecy and AEAD only.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Key material read into memory is wiped when it goes out of scope.
struct WipedString {
  std::string text;
  ~WipedString() { OPENSSL_cleanse(text.data(), text.size()); }
};

std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "no detail from OpenSSL";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

Result<void> read_file(const fs::path& path, std::string_view what, std::string& out) {
  const auto failure = [&](int error) {
    return make_error("cannot read the TLS " + std::string(what) + " " + path.string() + ": " +
                      std::generic_category().message(error));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure(errno);
  out.clear();
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      OPENSSL_cleanse(buffer, sizeof buffer);
      ::close(fd);
      return failure(error);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  OPENSSL_cleanse(buffer, sizeof buffer);
  ::close(fd);
  return {};
}

BioPtr memory_bio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Never let OpenSSL ask for a passphrase on the terminal of a server.
int refuse_passphrase(char*, int, int, void*) { return 0; }

Result<void> load_certificate_chain(SSL_CTX* context, const fs::path& path) {
  std::string pem;
  if (auto read = read_file(path, "certificate", pem); !read) return read;
  BioPtr bio = memory_bio(pem);
  X509Ptr leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, refuse_passphrase, nullptr));
  if (!leaf) {
    ERR_clear_error();
    return make_error("the TLS certificate " + path.string() +
                      " holds no PEM certificate (expected a \"-----BEGIN CERTIFICATE-----\" "
                      "block); point tls.cert at the certificate file");
  }
  if (SSL_CTX_use_certificate(context, leaf.get()) != 1) {
    return make_error("the TLS certificate " + path.string() + " cannot be used: " +
                      openssl_reason());
  }
  if (X509_cmp_current_time(X509_get0_notAfter(leaf.get())) < 0) {
    log::warn("the TLS certificate has expired; clients will refuse it until it is renewed",
              {{"file", path.string()}});
  }
  // The rest of the file is the chain of intermediates, sent along with the leaf.
  while (X509Ptr intermediate{PEM_read_bio_X509(bio.get(), nullptr, refuse_passphrase, nullptr)}) {
    if (SSL_CTX_add0_chain_cert(context, intermediate.get()) != 1) {
      return make_error("the TLS certificate chain in " + path.string() + " cannot be used: " +
                        openssl_reason());
    }
    intermediate.release();  // add0: the context owns it now
  }
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();  // the normal end of the file
  } else if (last != 0) {
    return make_error("the TLS certificate chain in " + path.string() + " is damaged: " +
                      openssl_reason());
  }
  return {};
}

Result<void> load_private_key(SSL_CTX* context, const fs::path& path, const fs::path& cert_path) {
  WipedString pem;
  if (auto read = read_file(path, "private key", pem.text); !read) return read;
  BioPtr bio = memory_bio(pem.text);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr));
  if (!key) {
    ERR_clear_error();
    if (pem.text.find("ENCRYPTED") != std::string::npos) {
      return make_error("the TLS private key " + path.string() +
                        " is protected by a passphrase, which a server cannot type; store it "
                        "decrypted (openssl pkey -in KEY -out KEY.plain) with mode 0600");
    }
    return make_error("the TLS private key " + path.string() +
                      " holds no PEM private key (expected a \"-----BEGIN PRIVATE KEY-----\" "
                      "block); point tls.key at the key file");
  }
  if (SSL_CTX_use_PrivateKey(context, key.get()) != 1 || SSL_CTX_check_private_key(context) != 1) {
    ERR_clear_error();
    return make_error("the TLS private key " + path.string() +
                      " does not belong to the certificate " + cert_path.string() +
                      "; configure the matching pair (or delete both to have a self-signed "
                      "pair generated)");
  }
  return {};
}

}  // namespace

TlsServerContext::TlsServerContext(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ssl_ctx_st* TlsServerContext::native_handle() const { return impl_->context.native_handle(); }

Result<TlsServerContext> make_server_tls(const fs::path& cert_path, const fs::path& key_path) {
  ERR_clear_error();
  auto impl = std::make_shared<TlsServerContext::Impl>();
  SSL_CTX* context = impl->context.native_handle();

  SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                   SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE);
  if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(context, kTls12Ciphers) != 1 ||
      SSL_CTX_set1_groups_list(context, kGroups) != 1) {
    return make_error("the TLS library refused the built-in protocol settings (" +
                      openssl_reason() + "); check the system OpenSSL configuration");
  }
  SSL_CTX_set_default_passwd_cb(context, refuse_passphrase);

  if (auto loaded = load_certificate_chain(context, cert_path); !loaded) return loaded.error();
  if (auto loaded = load_private_key(context, key_path, cert_path); !loaded) return loaded.error();
  return TlsServerContext(std::move(impl));
}

}  // namespace mailtrixy::net
