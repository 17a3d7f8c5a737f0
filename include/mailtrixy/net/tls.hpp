#pragma once
// Server-side TLS shared by every listener (web UI, IMAP, SMTP) and by the Graph emulator.
//
// make_server_tls() loads a PEM certificate chain and its private key into a server context
// configured the way a current public-facing server should be:
//   - TLS 1.2 minimum (1.0 and 1.1 are refused with a protocol_version alert);
//   - TLS 1.2 suites: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only
//     (Mozilla "intermediate" minus finite-field DHE); TLS 1.3 keeps OpenSSL's default suites;
//   - key-exchange groups X25519, P-256, P-384;
//   - the server's cipher order wins, TLS compression and renegotiation are off;
//   - an encrypted private key is an error, never a passphrase prompt on the terminal.
//
// The header pulls in neither Asio nor OpenSSL: compile time matters and most users only pass
// the context on. Code that runs its own Asio TLS streams (IMAP/SMTP STARTTLS) can wrap the raw
// handle: `SSL_CTX_up_ref(h); boost::asio::ssl::context ctx(h);` (the asio context then owns
// that reference).

#include <filesystem>
#include <memory>

#include "mailtrixy/base/result.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace mailtrixy::net {

// A certificate and its private key, both PEM files; the certificate file may hold the chain
// (leaf first, then intermediates).
struct TlsFiles {
  std::filesystem::path cert;
  std::filesystem::path key;
};

// A ready server context. Copies share one underlying SSL_CTX (cheap, thread-safe to use from
// many connections at once).
class TlsServerContext {
 public:
  struct Impl;  // defined inside the net module
  explicit TlsServerContext(std::shared_ptr<Impl> impl);

  // The OpenSSL SSL_CTX*, valid while any copy of this object lives.
  ssl_ctx_st* native_handle() const;
  const std::shared_ptr<Impl>& impl() const { return impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

// Errors name the file and the problem: missing or unreadable file, no PEM certificate in the
// certificate file, an unusable or encrypted key, a key that does not belong to the certificate.
Result<TlsServerContext> make_server_tls(const std::filesystem::path& cert_path,
                                         const std::filesystem::path& key_path);
inline Result<TlsServerContext> make_server_tls(const TlsFiles& files) {
  return make_server_tls(files.cert, files.key);
}

}  // namespace mailtrixy::net
