#include "mailtrixy/config/diagnose.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>

#include "files.hpp"
#include "listeners.hpp"
#include "values.hpp"

namespace mailtrixy::config {
namespace {

using detail::quote_value;

constexpr std::string_view kAzureApp = "Azure portal → App registrations → your app";
constexpr std::string_view kRenewalSteps =
    "Certificates & secrets → New client secret → paste the new Value; existing connections keep working "
    "(in the Azure portal under App registrations → your app; put the Value in client_secret_file, "
    "MAILTRIXY_CLIENT_SECRET or Admin → Settings → Integrations, and update client_secret_expires)";
constexpr std::size_t kMaxPemBytes = 1024 * 1024;
constexpr int kExpiryWarningDays = 30;

class Diagnoses {
 public:
  void error(std::string key, std::string message, std::string fix = {}) {
    add(Severity::error, std::move(key), std::move(message), std::move(fix));
  }
  void warning(std::string key, std::string message, std::string fix = {}) {
    add(Severity::warning, std::move(key), std::move(message), std::move(fix));
  }
  void advice(std::string key, std::string message, std::string fix = {}) {
    add(Severity::advice, std::move(key), std::move(message), std::move(fix));
  }
  std::vector<Diagnosis> take() && { return std::move(items_); }

 private:
  void add(Severity severity, std::string key, std::string message, std::string fix) {
    items_.push_back(Diagnosis{severity, std::move(key), std::move(message), std::move(fix)});
  }
  std::vector<Diagnosis> items_;
};

bool has_upper_case(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; });
}

bool is_loopback_literal(std::string_view host) {
  return host.starts_with("127.") || host == "::1" || host == "[::1]";
}

// ---- public_url and the redirect URI ---------------------------------------------------------

void check_public_url(const Settings& settings, Diagnoses& out) {
  const std::string& text = settings.public_url;
  auto url = detail::parse_http_url(text, "https://mail.example.com");
  if (!url) {
    out.error(
        "public_url", url.error().message,
        "set public_url to the address browsers use to reach the bridge, e.g. https://mail.example.com");
    return;
  }
  const std::string scheme = detail::to_lower_ascii(url->scheme);
  const std::string host = detail::to_lower_ascii(url->host);
  const std::string uri = redirect_uri(settings);

  if (scheme == "http" && host != "localhost") {
    if (is_loopback_literal(host)) {
      out.error("public_url",
                "the redirect URI " + uri + " uses http:// with " + url->host +
                    "; Azure accepts http:// redirect URIs only for localhost (the portal refuses http://" +
                    url->host + ")",
                "use http://localhost" + (url->port ? ":" + std::to_string(*url->port) : std::string()) +
                    " for a local test, or an https:// URL");
    } else {
      out.error(
          "public_url",
          "the redirect URI " + uri + " must use https://; Azure accepts http:// only for http://localhost",
          "change public_url to https://" + url->host +
              (url->port ? ":" + std::to_string(*url->port) : std::string()) + url->path +
              " and keep web.tls: true with a certificate browsers trust");
    }
  }

  if (url->query || url->fragment) {
    out.error("public_url",
              quote_value(text) + " has a query or fragment ('?' or '#'), which a redirect URI cannot carry",
              "remove everything from the '?' or '#' on");
  } else if (text.ends_with('/')) {
    std::string trimmed = text;
    while (trimmed.ends_with('/')) trimmed.pop_back();
    out.error("public_url", "ends with '/', so the redirect URI would be " + uri + " with a double slash",
              "remove the trailing slash: public_url: " + trimmed);
  }

  if (has_upper_case(text)) {
    out.warning(
        "public_url",
        "the redirect URI " + uri +
            " has upper-case letters; Azure compares redirect URIs case-sensitively and browsers lower-case "
            "the host, so sign-in can fail with AADSTS50011",
        "write public_url in lower case: " + detail::to_lower_ascii(text) +
            ", and register the lower-case redirect URI in Azure");
  }

  std::string_view path = url->path;
  while (path.ends_with('/')) path.remove_suffix(1);
  if (!path.empty()) {
    out.advice("public_url",
               "public_url has the path " + std::string(path) +
                   ", but the bridge serves its pages at the root of web.listen",
               "put a reverse proxy in front that strips " + std::string(path) +
                   " before forwarding, or remove the path from public_url");
  }
}

void check_web_tls(const Settings& settings, Diagnoses& out) {
  auto url = detail::parse_http_url(settings.public_url, "https://mail.example.com");
  if (!url) return;  // reported by check_public_url
  const std::string scheme = detail::to_lower_ascii(url->scheme);
  const bool http_localhost = scheme == "http" && detail::to_lower_ascii(url->host) == "localhost";

  if (!settings.web.tls && !http_localhost) {
    out.error("web.tls",
              "false is allowed only when public_url is http://localhost (public_url is " +
                  settings.public_url + ")",
              "set web.tls: true, or for a local test set public_url: http://localhost:PORT");
  } else if (settings.web.tls && scheme == "http") {
    out.error(
        "web.tls",
        "true does not work with an http:// public_url: the browser returning from Microsoft would speak "
        "plain HTTP to a TLS port, so the redirect would not reach the bridge",
        "use https:// in public_url, or set web.tls: false (allowed only for http://localhost)");
  }

  // A localhost public_url cannot sit behind a proxy, so its port must be the web listener's.
  auto listen = detail::parse_listen_address(settings.web.listen, "127.0.0.1:8443");
  const std::string host = detail::to_lower_ascii(url->host);
  if (listen && listen->port != 0 && (host == "localhost" || is_loopback_literal(host))) {
    const std::uint16_t browser_port = url->port.value_or(scheme == "https" ? 443 : 80);
    if (browser_port != listen->port) {
      out.warning("web.listen",
                  "public_url sends browsers to port " + std::to_string(browser_port) +
                      " but web.listen is " + settings.web.listen,
                  "use the same port in public_url and web.listen");
    }
  }
}

// ---- listeners -------------------------------------------------------------------------------

struct Listener {
  std::string key;
  std::string text;
  std::string example;
  bool mail = true;  // IMAP/SMTP (as opposed to the web UI)
  bool implicit_tls = false;
  std::optional<detail::ListenAddress> address;
  std::vector<detail::Endpoint> endpoints;
  bool reported = false;  // an error was already given; later checks stay quiet
};

bool overlaps(const Listener& a, const Listener& b) {
  if (!a.address || !b.address || a.address->port != b.address->port || a.address->port == 0) return false;
  for (const auto& x : a.endpoints) {
    for (const auto& y : b.endpoints) {
      if (x.family() != y.family()) continue;
      if (x.same_address(y) || x.is_wildcard() || y.is_wildcard()) return true;
    }
  }
  return false;
}

void check_listeners(const Settings& settings, const DiagnoseOptions& options, Diagnoses& out) {
  std::vector<Listener> listeners = {
      {"web.listen", settings.web.listen, "127.0.0.1:8443", false, settings.web.tls, {}, {}, false},
      {"imap.listen", settings.imap.listen, "127.0.0.1:1143", true, false, {}, {}, false},
      {"imap.tls_listen", settings.imap.tls_listen, "127.0.0.1:1993", true, true, {}, {}, false},
      {"smtp.listen", settings.smtp.listen, "127.0.0.1:1587", true, false, {}, {}, false},
      {"smtp.tls_listen", settings.smtp.tls_listen, "127.0.0.1:1465", true, true, {}, {}, false},
  };
  std::erase_if(listeners, [](const Listener& l) { return l.text.empty(); });

  for (Listener& listener : listeners) {
    auto parsed = detail::parse_listen_address(listener.text, listener.example);
    if (!parsed) {
      out.error(listener.key, parsed.error().message, "write HOST:PORT, e.g. " + listener.example);
      listener.reported = true;
      continue;
    }
    listener.address = *parsed;
    auto resolved = detail::resolve_listen_address(*parsed);
    if (!resolved) {
      out.error(
          listener.key,
          "cannot resolve the host " + quote_value(parsed->host) + ": " + resolved.error().message,
          "use an IP address such as 127.0.0.1 (this machine only) or 0.0.0.0 (every interface), or fix the "
          "host name");
      listener.reported = true;
      continue;
    }
    listener.endpoints = std::move(resolved).value();

    const bool loopback_only = std::all_of(listener.endpoints.begin(), listener.endpoints.end(),
                                           [](const detail::Endpoint& e) { return e.is_loopback(); });
    if (loopback_only) continue;
    if (listener.mail && !listener.implicit_tls) {
      out.warning(
          listener.key,
          listener.text +
              " is reachable from other machines and starts in plaintext; clients there must use STARTTLS "
              "(plaintext login is refused without it)",
          "listen on 127.0.0.1 unless other machines need the bridge; if they do, let the firewall admit "
          "only "
          "them");
    } else if (listener.mail) {
      out.warning(listener.key, listener.text + " is reachable from other machines",
                  "listen on 127.0.0.1 unless other machines need the bridge; if they do, let the firewall "
                  "admit only "
                  "them");
    } else if (!settings.web.tls) {
      out.warning(listener.key, listener.text + " serves plain HTTP (web.tls is false) to other machines",
                  "listen on 127.0.0.1 when web.tls is false");
    }
  }

  for (std::size_t i = 0; i < listeners.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (!overlaps(listeners[j], listeners[i])) continue;
      out.error(listeners[i].key,
                listeners[i].text + " uses the same address and port as " + listeners[j].key + " " +
                    listeners[j].text,
                "give each listener its own port");
      listeners[i].reported = true;
      break;
    }
  }

  if (!options.probe_listeners) return;
  for (Listener& listener : listeners) {
    if (listener.reported || !listener.address || listener.address->port == 0) continue;
    std::size_t not_local = 0;
    for (const detail::Endpoint& endpoint : listener.endpoints) {
      const detail::BindProbe probe = detail::probe_bind(endpoint);
      const std::string port = std::to_string(listener.address->port);
      switch (probe.outcome) {
        case detail::BindOutcome::free: continue;
        case detail::BindOutcome::not_local: ++not_local; continue;
        case detail::BindOutcome::in_use:
          out.error(
              listener.key,
              endpoint.to_string() + " is already in use by another program (is the bridge already running?)",
              "stop the program holding the port (`ss -ltnp 'sport = :" + port +
                  "'` shows it) or choose another port for " + listener.key);
          break;
        case detail::BindOutcome::permission_denied:
          out.error(listener.key,
                    endpoint.to_string() + ": binding port " + port +
                        " needs privileges this user does not have (" + probe.detail + ")",
                    "use a port above 1023, or grant the bridge CAP_NET_BIND_SERVICE");
          break;
        case detail::BindOutcome::failed:
          out.error(listener.key, "cannot listen on " + endpoint.to_string() + ": " + probe.detail,
                    "choose another address for " + listener.key);
          break;
      }
      listener.reported = true;
      break;
    }
    if (!listener.reported && not_local == listener.endpoints.size()) {
      out.error(
          listener.key, listener.text + " is not an address of this machine",
          "use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of this machine's addresses");
    }
  }
}

// ---- files -----------------------------------------------------------------------------------

bool path_exists(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// The PEM content of `path`, or nullopt after reporting why it cannot be used.
std::optional<std::string> read_pem(const std::string& key, const std::filesystem::path& path,
                                    const std::string& what, Diagnoses& out) {
  auto content = detail::read_small_file(path, kMaxPemBytes, what);
  if (!content) {
    out.error(
        key, content.error().message,
        "make " + path.string() + " a readable file for the user running the bridge (check chmod/chown)");
    return std::nullopt;
  }
  if (content->find("-----BEGIN") == std::string::npos) {
    out.error(key, what + " " + path.string() + " is not a PEM file (it has no -----BEGIN line)",
              "convert it to PEM, e.g. openssl x509 -inform der -in FILE -out FILE.pem (certificates) or "
              "openssl pkey -inform der -in FILE -out FILE.pem (keys)");
    return std::nullopt;
  }
  return std::move(content).value();
}

void check_tls_files(const Settings& settings, Diagnoses& out) {
  const auto& cert = settings.tls.cert;
  const auto& key = settings.tls.key;
  const bool have_cert = path_exists(cert);
  const bool have_key = path_exists(key);

  if (!have_cert && !have_key) {
    for (const auto& [name, path] : {std::pair{"tls.cert", cert}, std::pair{"tls.key", key}}) {
      if (auto problem = detail::writable_directory_problem(path.parent_path())) {
        out.error(name, "a self-signed pair cannot be generated at " + path.string() + ": " + *problem,
                  "create the directory and make it writable by the user running the bridge, or point " +
                      std::string(name) + " elsewhere");
        return;
      }
    }
    out.advice(
        "tls.cert",
        "neither " + cert.string() + " nor " + key.string() +
            " exists; a self-signed pair will be generated there on first start",
        "browsers and mail clients will warn about a self-signed certificate; for a bridge others use, put a "
        "real certificate and key at these paths");
    return;
  }
  if (have_cert != have_key) {
    const std::string missing_key = have_cert ? "tls.key" : "tls.cert";
    const auto& missing = have_cert ? key : cert;
    const auto& present = have_cert ? cert : key;
    out.error(missing_key,
              missing.string() + " does not exist but " + present.string() +
                  " does; a self-signed pair is generated only when both are missing",
              "provide both the certificate and its key, or remove both to get a self-signed pair");
    return;
  }

  if (auto pem = read_pem("tls.cert", cert, "the certificate", out)) {
    if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      out.error("tls.cert", "the certificate " + cert.string() + " holds no CERTIFICATE block",
                "point tls.cert at the certificate (are tls.cert and tls.key swapped?)");
    }
  }
  if (auto pem = read_pem("tls.key", key, "the private key", out)) {
    if (pem->find("ENCRYPTED") != std::string::npos) {
      out.error(
          "tls.key",
          "the private key " + key.string() + " is protected by a passphrase, which the bridge cannot enter",
          "store it unencrypted with mode 0600: openssl pkey -in " + key.string() + " -out " + key.string() +
              ".plain");
    } else if (pem->find("PRIVATE KEY-----") == std::string::npos) {
      out.error("tls.key", "the private key " + key.string() + " holds no PRIVATE KEY block",
                "point tls.key at the private key (are tls.cert and tls.key swapped?)");
    }
  }
}

void check_data_dir(const Settings& settings, Diagnoses& out) {
  if (auto problem = detail::writable_directory_problem(settings.data_dir)) {
    out.error(
        "data_dir", *problem,
        "create it and give the user running the bridge write access (mkdir -p DIR && chown USER DIR), or "
        "point data_dir elsewhere");
  }
}

void check_ca_file(const Settings& settings, Diagnoses& out) {
  const auto& path = settings.microsoft.ca_file;
  if (path.empty()) return;
  if (auto pem = read_pem("microsoft.ca_file", path, "the CA bundle", out)) {
    if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      out.error("microsoft.ca_file", "the CA bundle " + path.string() + " holds no CERTIFICATE block",
                "point microsoft.ca_file at a PEM file of CA certificates, or leave it empty");
    }
  }
}

// ---- cluster (docs/scaling.md) ----------------------------------------------------------------

// nginx connects to Auth-Server without resolving it, so a backend must be one IP address.
void check_cluster_backend(const std::string& key, const std::string& backend, const std::string& listen_key,
                           const std::string& listen, Diagnoses& out) {
  const std::string& effective = backend.empty() ? listen : backend;
  const std::string& source = backend.empty() ? listen_key : key;
  if (effective.empty()) {
    out.warning(key, "neither " + key + " nor " + listen_key + " is set, so the mail proxy cannot be sent here",
                "set " + listen_key + " (plain, for the proxy) or " + key + " to this bridge's IP:PORT");
    return;
  }
  auto parsed = detail::parse_listen_address(effective, "10.0.0.1:1143");
  if (!parsed) return;  // the loader or the listener checks report it
  const std::string& host = parsed->host;
  const bool ip = !host.empty() && host.find_first_not_of("0123456789abcdefABCDEF.:") == std::string::npos;
  if (!ip || host == "0.0.0.0" || host == "::" || parsed->port == 0) {
    out.error(key,
              source + " (" + effective + ") is not one IP address and port the mail proxy can connect to; the bridge "
                       "will not start with the auth_http endpoint on",
              "set " + key + " to this bridge's address as nginx reaches it, e.g. 10.0.0.1:1143");
  }
}

void check_cluster(const Settings& settings, Diagnoses& out) {
  const ClusterSettings& cluster = settings.cluster;
  if (cluster.auth_http_key_file.empty()) {
    if (!cluster.peers.empty()) {
      out.warning("cluster.peers", "peers are asked only by the auth_http endpoint, which is off",
                  "set cluster.auth_http_key_file (docs/scaling.md), or remove cluster.peers");
    }
    return;
  }
  check_cluster_backend("cluster.imap_backend", cluster.imap_backend, "imap.listen", settings.imap.listen, out);
  check_cluster_backend("cluster.smtp_backend", cluster.smtp_backend, "smtp.listen", settings.smtp.listen, out);
  if (cluster.trusted_proxies.empty()) {
    out.warning("cluster.trusted_proxies",
                "no trusted proxy is listed, so nginx's XCLIENT is refused (SMTP through the proxy fails) and plain "
                "IMAP LOGIN works only from loopback",
                "list the proxy's address in cluster.trusted_proxies");
  }
  if (!cluster.peer_ca_file.empty()) {
    if (auto pem = read_pem("cluster.peer_ca_file", cluster.peer_ca_file, "the peers' CA bundle", out)) {
      if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        out.error("cluster.peer_ca_file", "the CA bundle " + cluster.peer_ca_file.string() + " holds no CERTIFICATE block",
                  "point cluster.peer_ca_file at a PEM file of CA certificates, or leave it empty");
      }
    }
  }
}

// ---- Microsoft app registration --------------------------------------------------------------

std::string secret_origin(const Settings& settings) {
  switch (settings.microsoft.client_secret_source) {
    case Source::environment: return "the client secret from the environment";
    case Source::file: return "the client secret in " + settings.microsoft.client_secret_file.string();
    case Source::yaml: return "the client secret in the YAML";
    case Source::admin_page: return "the client secret from the admin page";
    case Source::defaults: break;
  }
  return "the client secret";
}

void check_client_id(const Settings& settings, Diagnoses& out) {
  const std::string fix =
      std::string(kAzureApp) +
      " → Overview → copy \"Application (client) ID\" into microsoft.client_id, or enter it in "
      "Admin → Settings → Integrations";
  const std::string& id = settings.microsoft.client_id;
  if (id.empty()) {
    out.warning("microsoft.client_id", "not set, so sign-in with Microsoft is disabled until it is", fix);
  } else if (!detail::is_guid(id)) {
    out.error(
        "microsoft.client_id",
        quote_value(id) +
            " is not a GUID; the Application (client) ID looks like 00000000-0000-0000-0000-000000000000",
        fix);
  }
}

void check_client_secret(const Settings& settings, Diagnoses& out) {
  const std::string& secret = settings.microsoft.client_secret.reveal();
  const std::string where =
      "Admin → Settings → Integrations, microsoft.client_secret_file or MAILTRIXY_CLIENT_SECRET";
  if (secret.empty()) {
    out.warning("microsoft.client_secret",
                "no client secret is set, so sign-in with Microsoft is disabled until it is",
                std::string(kAzureApp) +
                    " → Certificates & secrets → New client secret; copy its Value (shown only once) into " +
                    where);
    return;
  }
  if (detail::is_guid(secret)) {
    out.error("microsoft.client_secret",
              secret_origin(settings) + " is a GUID: this looks like the Secret ID; paste the secret Value",
              std::string(kAzureApp) +
                  " → Certificates & secrets: copy the Value column, which is shown only once after creation "
                  "(if it "
                  "is hidden, create a New client secret and copy its Value) into " +
                  where);
  } else if (secret == settings.microsoft.client_id) {
    out.error("microsoft.client_secret",
              secret_origin(settings) + " is the Client ID; paste the secret Value",
              std::string(kAzureApp) + " → Certificates & secrets → New client secret; copy its Value into " +
                  where);
  }

  if (settings.microsoft.client_secret_source == Source::yaml) {
    out.advice(
        "microsoft.client_secret",
        "the client secret is stored in plaintext in " + settings.config_path.string(),
        "enter it in Admin → Settings → Integrations (stored encrypted), or move it to a file named by "
        "microsoft.client_secret_file (mode 0600), then empty microsoft.client_secret");
  }
  if (settings.microsoft.client_secret_source == Source::file) {
    struct stat info {};
    if (::stat(settings.microsoft.client_secret_file.c_str(), &info) == 0 &&
        (info.st_mode & (S_IRGRP | S_IROTH)) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", info.st_mode & 07777U);
      out.warning("microsoft.client_secret_file",
                  "the client secret file " + settings.microsoft.client_secret_file.string() +
                      " is readable by other users (mode " + mode + ")",
                  "chmod 600 " + settings.microsoft.client_secret_file.string());
    }
  }
}

void check_secret_expiry(const Settings& settings, const DiagnoseOptions& options, Diagnoses& out) {
  const std::string& text = settings.microsoft.client_secret_expires;
  if (text.empty()) return;
  auto expires = detail::parse_date(text);
  if (!expires) {
    out.error("microsoft.client_secret_expires", expires.error().message,
              "copy the Expires date shown under Certificates & secrets as YYYY-MM-DD, or leave it empty");
    return;
  }
  const std::chrono::sys_days today =
      options.today.value_or(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  const auto days_left = (*expires - today).count();
  const std::string date = text.substr(0, 10);
  if (days_left < 0) {
    out.error("microsoft.client_secret_expires",
              "the client secret expired on " + date + ", so Microsoft refuses sign-ins and token refreshes",
              std::string(kRenewalSteps));
  } else if (days_left <= kExpiryWarningDays) {
    out.warning("microsoft.client_secret_expires",
                days_left == 0 ? "the client secret expires today (" + date + ")"
                               : "the client secret expires in " + std::to_string(days_left) +
                                     (days_left == 1 ? " day" : " days") + " (on " + date + ")",
                std::string(kRenewalSteps));
  }
}

void check_admin(const Settings& settings, Diagnoses& out) {
  if (settings.admin.password_hash.empty()) {
    out.advice(
        "admin.password_hash", "empty, so the admin pages are disabled",
        "run `mailtrixy hash-password`, type a password, and put the printed hash in admin.password_hash (or "
        "MAILTRIXY_ADMIN_PASSWORD_HASH)");
  }
}

}  // namespace

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::advice: return "advice";
  }
  return "error";
}

std::string redirect_uri(const Settings& settings) {
  return settings.public_url + kCallbackPath;
}

std::vector<Diagnosis> diagnose(const Settings& settings, const DiagnoseOptions& options) {
  Diagnoses out;
  check_public_url(settings, out);
  check_data_dir(settings, out);
  check_web_tls(settings, out);
  check_listeners(settings, options, out);
  check_tls_files(settings, out);
  check_client_id(settings, out);
  check_client_secret(settings, out);
  check_secret_expiry(settings, options, out);
  check_ca_file(settings, out);
  check_admin(settings, out);
  check_cluster(settings, out);
  return std::move(out).take();
}

bool can_start(const std::vector<Diagnosis>& diagnoses) {
  return std::none_of(diagnoses.begin(), diagnoses.end(),
                      [](const Diagnosis& d) { return d.severity == Severity::error; });
}

std::string format_report(const Settings& settings, const std::vector<Diagnosis>& diagnoses) {
  std::string report = "Redirect URI to register in Azure (Web platform): " + redirect_uri(settings) + "\n";
  std::size_t errors = 0;
  std::size_t warnings = 0;
  for (const Diagnosis& d : diagnoses) {
    if (d.severity == Severity::error) ++errors;
    if (d.severity == Severity::warning) ++warnings;
    report += "\n";
    report += std::string(to_string(d.severity)) + ": " + d.key + ": " + d.message + "\n";
    if (!d.fix.empty()) report += "  fix: " + d.fix + "\n";
  }
  report += "\n";
  if (errors == 0 && warnings == 0) {
    report += "config OK\n";
  } else {
    report += std::to_string(errors) + (errors == 1 ? " error, " : " errors, ") + std::to_string(warnings) +
              (warnings == 1 ? " warning" : " warnings") +
              (errors == 0 ? ": the bridge can start\n" : ": fix the errors before starting the bridge\n");
  }
  return report;
}

}  // namespace mailtrixy::config
