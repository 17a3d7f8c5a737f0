#pragma once
// First-start convenience (product spec §3.1): when neither tls.cert nor tls.key exists, the
// bridge creates a self-signed pair so it starts out of the box on https://localhost.
//
// The generated certificate:
//   - key: EC P-256; certificate: X.509 v3, SHA-256 signature, random positive 128-bit serial;
//   - subject and issuer CN=localhost, O=MailTrixy Bridge (self-signed);
//   - valid from 5 minutes ago (clock skew) for 825 days (the longest lifetime Apple's TLS
//     policy accepts for server certificates);
//   - subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1;
//   - basicConstraints critical CA:FALSE, keyUsage critical digitalSignature, extendedKeyUsage
//     serverAuth, subjectKeyIdentifier. As an end-entity certificate it can be pinned as its own
//     trust anchor (`curl --cacert server.crt`, a mail client's "trust this certificate") and
//     browsers accept an exception for it; a CA:TRUE leaf is refused outright by Firefox.
//
// Files are written atomically (temporary file in the same directory, fsync, rename): the key
// with mode 0600 (created that way, never world-readable even briefly), the certificate with
// mode 0644. Missing parent directories are created.

#include <filesystem>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::net {

// Returns true when a new pair was written, false when both files already exist (they are left
// untouched and not even read; make_server_tls() validates them). When exactly one of the two
// exists the pair is inconsistent and this is an Error naming both paths: generating a new half
// would silently replace the admin's certificate or key.
Result<bool> ensure_self_signed_certificate(const std::filesystem::path& cert_path,
                                            const std::filesystem::path& key_path);

}  // namespace mailtrixy::net
