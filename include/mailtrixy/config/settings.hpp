#pragma once
// Plain settings structs, one per module, filled only by the config module (the only user of
// yaml-cpp). Every field mirrors a key of config/mailtrixy.yaml (product spec §3.1); the defaults
// here are the documented defaults. Paths are already resolved relative to the config file.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/base/redact.hpp"

namespace mailtrixy::config {

// Where a value that can come from several places was taken from (shown on the admin page and
// by check-config).
enum class Source { defaults, yaml, file, environment, admin_page };

struct WebSettings {
  std::string listen = "127.0.0.1:8443";
  bool tls = true;
};

struct ImapSettings {
  std::string listen = "127.0.0.1:1143";      // plain with STARTTLS; empty disables
  std::string tls_listen = "127.0.0.1:1993";  // implicit TLS; empty disables
};

struct SmtpSettings {
  std::string listen = "127.0.0.1:1587";
  std::string tls_listen = "127.0.0.1:1465";
  std::uint64_t max_message_bytes = 157286400;
};

struct TlsSettings {
  std::filesystem::path cert = "certs/server.crt";
  std::filesystem::path key = "certs/server.key";
};

struct MicrosoftSettings {
  std::string client_id;
  Secret<std::string> client_secret;          // the secret Value, from whichever source won
  Source client_secret_source = Source::defaults;
  std::filesystem::path client_secret_file;   // empty when not configured
  std::string client_secret_expires;          // "YYYY-MM-DD" or empty
  std::string tenant = "common";
  std::string login_url = "https://login.microsoftonline.com";
  std::string graph_url = "https://graph.microsoft.com";
  std::filesystem::path ca_file;              // empty: system trust store only
};

struct AdminSettings {
  std::string username = "admin";
  std::string password_hash;                  // empty disables the admin pages
};

struct SyncSettings {
  std::chrono::seconds poll_interval{60};
  std::chrono::seconds idle_poll_interval{15};
  std::uint64_t body_cache_bytes = 2147483648ULL;
  // Background RFC822.SIZE learning (docs/adr/0006): body downloads per minute; 0 turns it off.
  std::uint64_t size_learning_per_minute = 300;
};

// The outbound SMTP queue (docs/outbox.md).
struct QueueSettings {
  std::chrono::seconds retry_for{48 * 3600};    // then the message bounces (a DSN in the Inbox)
  std::chrono::seconds backoff_initial{30};     // wait after the first failed attempt, doubling
  std::chrono::seconds backoff_max{15 * 60};    // the longest wait between attempts
};

// Several bridges behind a mail-aware proxy such as nginx's mail module (docs/scaling.md).
struct ClusterSettings {
  // The file holding the shared secret nginx sends in X-Mailtrixy-Auth-Key to GET
  // /mail-proxy/auth (and bridges send to each other). Empty disables that endpoint (404).
  std::filesystem::path auth_http_key_file;
  Secret<std::string> auth_http_key;  // the file's content, read at load (trailing whitespace trimmed)
  // IP:PORT the proxy connects to for accounts held by this bridge; empty means imap.listen /
  // smtp.listen (which then must not be a wildcard address for the answer to be usable).
  std::string imap_backend;
  std::string smtp_backend;
  // Web base URLs (https://IP:PORT) of the other bridges, asked for accounts not held here.
  std::vector<std::string> peers;
  std::filesystem::path peer_ca_file;  // PEM trusted for the peers' certificates; empty: system store
  // Client addresses (IP or IP/prefix) of the proxies: they may LOGIN over plain IMAP and use
  // XCLIENT on SMTP.
  std::vector<std::string> trusted_proxies;
};

struct LogSettings {
  log::Level level = log::Level::info;
  log::Format format = log::Format::text;
};

struct Settings {
  std::filesystem::path config_path;          // the file these settings came from
  std::string public_url = "https://localhost:8443";
  std::filesystem::path data_dir = "var";
  WebSettings web;
  ImapSettings imap;
  SmtpSettings smtp;
  TlsSettings tls;
  MicrosoftSettings microsoft;
  AdminSettings admin;
  SyncSettings sync;
  QueueSettings queue;
  ClusterSettings cluster;
  LogSettings log;
};

// The path every redirect URI must end with (spec §3.2).
inline constexpr const char* kCallbackPath = "/email-oauth/microsoft/callback";

}  // namespace mailtrixy::config
