#pragma once
// Diagnoses of a loaded configuration (product spec §3.2): the problems `mailtrixy check-config`
// prints and the admin page shows, each with the fix an administrator can act on.
//
// Loading (load.hpp) rejects what is malformed; diagnosing judges what is well-formed but wrong
// for this machine, for Azure or for the calendar:
//   - the redirect URI (public_url + /email-oauth/microsoft/callback): HTTPS except
//     http://localhost, no trailing slash, lower case, no query or fragment;
//   - web.tls agreeing with the public_url scheme;
//   - the Client ID (a GUID) and the client secret (not the Secret ID, not expired, not expiring
//     within 30 days, preferably not plaintext in the YAML);
//   - every listener: resolvable, an address of this machine, not already in use, not shared
//     with another listener, and a warning when IMAP/SMTP listen beyond loopback;
//   - tls.cert / tls.key, microsoft.ca_file: readable PEM files (or both certificate files absent,
//     in which case a self-signed pair is generated on first start);
//   - data_dir: writable, or creatable;
//   - admin.password_hash: empty disables the admin pages.
//
// Severity decides whether the bridge can start: only `error` items stop it. A missing Client ID
// or secret is a `warning` (the bridge runs, sign-in is disabled until they are set, possibly
// from the admin page); a malformed or expired one is an `error`.
//
// Messages never contain secret values.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/config/settings.hpp"

namespace mailtrixy::config {

enum class Severity { error, warning, advice };

// "error", "warning", "advice".
std::string_view to_string(Severity severity);

struct Diagnosis {
  Severity severity = Severity::error;
  std::string key;      // dotted config key, e.g. "imap.listen"
  std::string message;  // one sentence: what is wrong
  std::string fix;      // what to do about it; may be empty
};

struct DiagnoseOptions {
  // The date that expiry checks compare against; nullopt means today (UTC).
  std::optional<std::chrono::sys_days> today;
  // Try to bind each listener address to find ports already in use. Off where a test or the
  // running bridge itself holds the ports; resolution and the other listener checks still run.
  bool probe_listeners = true;
};

// Every problem found, in the order of the config file's keys. Never throws for bad settings.
std::vector<Diagnosis> diagnose(const Settings& settings, const DiagnoseOptions& options = {});

// The exact redirect URI the bridge sends to Microsoft and the admin must register in Azure:
// public_url + "/email-oauth/microsoft/callback", public_url taken as written.
std::string redirect_uri(const Settings& settings);

// True when no diagnosis has error severity.
bool can_start(const std::vector<Diagnosis>& diagnoses);

// The text check-config prints:
//   Redirect URI to register in Azure (Web platform): https://localhost:8443/email-oauth/microsoft/callback
//
//   error: imap.listen: 127.0.0.1:1143 is already in use ...
//     fix: stop the program using it, or choose another port ...
//
//   1 error, 0 warnings: fix the errors before starting the bridge
// The last line is "config OK" when there is nothing to report (advice does not count).
std::string format_report(const Settings& settings, const std::vector<Diagnosis>& diagnoses);

}  // namespace mailtrixy::config
