#pragma once
// Loading config/mailtrixy.yaml into Settings (product spec §3.1).
//
// Sources, later ones winning:
//   1. the defaults in settings.hpp;
//   2. the YAML file;
//   3. environment variables MAILTRIXY_<SECTION>_<KEY>, upper-cased (MAILTRIXY_IMAP_LISTEN,
//      MAILTRIXY_SMTP_MAX_MESSAGE_BYTES, MAILTRIXY_MICROSOFT_CLIENT_ID, ...); the top-level keys
//      are MAILTRIXY_PUBLIC_URL and MAILTRIXY_DATA_DIR. A variable that is set but empty sets the
//      key to "" (which, for example, disables imap.tls_listen).
//
// The client secret has its own precedence, recorded in microsoft.client_secret_source:
//   MAILTRIXY_CLIENT_SECRET or MAILTRIXY_MICROSOFT_CLIENT_SECRET (environment)
//   > microsoft.client_secret_file (the file is read now; trailing whitespace is trimmed)
//   > microsoft.client_secret (plaintext in the YAML).
// Setting both client_secret and client_secret_file in the YAML is an error, as is setting the two
// environment variables to different values.
//
// Value syntax:
//   listen addresses  HOST:PORT or [IPv6]:PORT, port 0-65535; imap.*, smtp.* may be "" (disabled)
//   URLs              http:// or https:// with a host; login_url/graph_url lose a trailing '/'
//   durations         whole seconds: 60 (seconds), 60s, 5m, 1h, 1h30m; at least 1s
//   sizes             bytes: 157286400, or with KiB/MiB/GiB: 150MiB
//   booleans          true or false, unquoted (not yes/no/on/off)
//   log.level         debug, info, warn, error;  log.format  text, json
// Relative paths (data_dir, tls.cert, tls.key, microsoft.client_secret_file, microsoft.ca_file),
// whether from the YAML, the defaults or the environment, are resolved against the directory of
// the config file, and stored absolute.
//
// Errors are collected, not stopped at: the returned Error holds one line per problem, each
// naming where it is and what to do, e.g.
//   config/mailtrixy.yaml:12: imap.listen: "localhost" is not HOST:PORT (example: 127.0.0.1:1143)
//   environment variable MAILTRIXY_SYNC_POLL_INTERVAL: "soon" is not a duration; ...
// Unknown keys (at any level), wrong types, bad values, malformed YAML and a missing or unreadable
// file are all errors. An empty file yields the defaults. Secret values never appear in messages.
//
// Checks that need the machine or the calendar (ports in use, readable certificates, expiring
// secrets, redirect URI rules) are not load errors: see diagnose.hpp.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/config/settings.hpp"

namespace mailtrixy::config {

// Looks up one environment variable: nullopt when it is not set, "" when it is set but empty.
// Injectable so tests do not depend on (or modify) the process environment.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

// The real process environment (getenv).
Environment process_environment();

// Reads and parses `config_path` with the process environment.
Result<Settings> load(const std::filesystem::path& config_path);
Result<Settings> load(const std::filesystem::path& config_path, const Environment& environment);

// Parses `yaml` as if it had been read from `config_path`: that path names the file in errors,
// anchors relative paths and becomes Settings::config_path. The file itself is not read.
Result<Settings> load_from_string(std::string_view yaml, const std::filesystem::path& config_path,
                                  const Environment& environment);

// The environment variable that overrides a dotted key: "imap.listen" -> "MAILTRIXY_IMAP_LISTEN".
std::string environment_variable_for(std::string_view dotted_key);

}  // namespace mailtrixy::config
