#include "mailtrixy/config/load.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "files.hpp"
#include "mailtrixy/config/address_range.hpp"
#include "mailtrixy/config/reference.hpp"
#include "values.hpp"

namespace mailtrixy::config {
namespace {

using detail::quote_value;

// What a problem with a value is, without its location; nullopt when the value was accepted.
using Reason = std::optional<std::string>;

struct RawValue {
  std::string text;
  bool is_null = false;  // YAML `key:` with no value, `~` or `null`
  bool quoted = false;   // a YAML '...' or "..." scalar, which is a string even if it reads `true`
  bool from_environment = false;
  std::vector<std::string> items;  // list keys: the entries (a YAML sequence, or comma-separated in the environment)
};

// Where a value came from, as the prefix of its error lines.
struct Origin {
  std::string prefix;  // "config/mailtrixy.yaml:12: imap.listen" or "environment variable MAILTRIXY_..."
};

struct LoadState {
  Settings settings;
  std::filesystem::path config_dir;
  std::vector<std::string> errors;

  std::string yaml_client_secret;
  std::optional<Origin> yaml_client_secret_origin;  // set when the YAML has a non-empty client_secret
  std::optional<Origin> yaml_client_secret_file_origin;
  std::optional<Origin> client_secret_file_origin;  // of the value that won (YAML or environment)
  std::optional<std::string> environment_client_secret;
  std::optional<Origin> environment_client_secret_origin;
  std::optional<Origin> auth_http_key_file_origin;

  void fail(const Origin& origin, const std::string& reason) {
    errors.push_back(origin.prefix + ": " + reason);
  }
};

using Apply = Reason (*)(const RawValue&, const Origin&, LoadState&);

struct KeySpec {
  std::string_view section;  // "" for top-level keys
  std::string_view name;
  std::string_view expected;  // what the value should be, for wrong-type messages
  Apply apply;
};

// ---- value kinds -----------------------------------------------------------------------------

Reason assign_string(const RawValue& value, std::string& out) {
  out = value.text;
  return std::nullopt;
}

Reason assign_non_empty_string(const RawValue& value, std::string& out, std::string_view example) {
  if (value.text.empty()) return "is empty; set a value (example: " + std::string(example) + ")";
  out = value.text;
  return std::nullopt;
}

Reason assign_listen(const RawValue& value, std::string& out, std::string_view example, bool may_be_empty) {
  if (value.text.empty() && may_be_empty) {
    out.clear();
    return std::nullopt;
  }
  auto parsed = detail::parse_listen_address(value.text, example);
  if (!parsed) return parsed.error().message;
  out = value.text;
  return std::nullopt;
}

Reason assign_url(const RawValue& value, std::string& out, std::string_view example) {
  auto parsed = detail::parse_http_url(value.text, example);
  if (!parsed) return parsed.error().message;
  out = value.text;
  return std::nullopt;
}

// login_url and graph_url are joined with paths by the clients, so a trailing '/' is dropped here
// rather than producing "//common/oauth2"; a query or fragment could not be joined at all.
Reason assign_service_url(const RawValue& value, std::string& out, std::string_view example) {
  auto parsed = detail::parse_http_url(value.text, example);
  if (!parsed) return parsed.error().message;
  if (parsed->query || parsed->fragment) {
    return quote_value(value.text) +
           " has a query or fragment ('?' or '#'); use only scheme, host and port (example: " +
           std::string(example) + ")";
  }
  std::string text = value.text;
  while (text.ends_with('/')) text.pop_back();
  out = std::move(text);
  return std::nullopt;
}

Reason assign_path(const RawValue& value, std::filesystem::path& out, bool may_be_empty,
                   std::string_view example) {
  if (value.text.empty()) {
    if (!may_be_empty) return "is empty; set a path (example: " + std::string(example) + ")";
    out.clear();
    return std::nullopt;
  }
  if (value.text.front() == '~') {
    return quote_value(value.text) + " starts with ~, which is not expanded; write the full path";
  }
  out = std::filesystem::path(value.text);
  return std::nullopt;
}

Reason assign_bool(const RawValue& value, bool& out) {
  static constexpr std::string_view kTrue[] = {"true", "True", "TRUE"};
  static constexpr std::string_view kFalse[] = {"false", "False", "FALSE"};
  const bool is_true = std::find(std::begin(kTrue), std::end(kTrue), value.text) != std::end(kTrue);
  const bool is_false = std::find(std::begin(kFalse), std::end(kFalse), value.text) != std::end(kFalse);
  if ((is_true || is_false) && value.quoted) {
    return quote_value(value.text) + " is a quoted string; write true or false without quotes";
  }
  if (!is_true && !is_false) return "expected true or false, got " + quote_value(value.text);
  out = is_true;
  return std::nullopt;
}

Reason assign_size(const RawValue& value, std::uint64_t& out, std::uint64_t minimum) {
  auto parsed = detail::parse_size(value.text);
  if (!parsed) return parsed.error().message;
  if (*parsed < minimum)
    return quote_value(value.text) + " is too small; the minimum is " + std::to_string(minimum);
  out = *parsed;
  return std::nullopt;
}

Reason assign_duration(const RawValue& value, std::chrono::seconds& out) {
  auto parsed = detail::parse_duration(value.text);
  if (!parsed) return parsed.error().message;
  if (parsed->count() < 1) return quote_value(value.text) + " is too short; the minimum is 1s";
  out = *parsed;
  return std::nullopt;
}

Reason assign_tenant(const RawValue& value, std::string& out) {
  const bool valid = !value.text.empty() && std::all_of(value.text.begin(), value.text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
  });
  if (!valid) {
    return quote_value(value.text) +
           " is not a tenant; use common, organizations, consumers, a tenant GUID or a domain such as "
           "contoso.onmicrosoft.com";
  }
  out = value.text;
  return std::nullopt;
}

// ---- the client secret -----------------------------------------------------------------------

Reason record_client_secret(const RawValue& value, const Origin& origin, LoadState& state) {
  // An empty variable is what `docker run -e MAILTRIXY_..._SECRET` or an unset compose
  // substitution produce; letting it blank out a configured secret would only surprise.
  if (value.text.empty()) return std::nullopt;
  if (value.from_environment) {
    state.environment_client_secret = value.text;
    state.environment_client_secret_origin = origin;
  } else {
    state.yaml_client_secret = value.text;
    state.yaml_client_secret_origin = origin;
  }
  return std::nullopt;
}

Reason record_client_secret_file(const RawValue& value, const Origin& origin, LoadState& state) {
  if (auto reason =
          assign_path(value, state.settings.microsoft.client_secret_file, true, "secrets/client_secret")) {
    return reason;
  }
  if (value.text.empty()) {
    state.client_secret_file_origin.reset();
    if (!value.from_environment) state.yaml_client_secret_file_origin.reset();
  } else {
    state.client_secret_file_origin = origin;
    if (!value.from_environment) state.yaml_client_secret_file_origin = origin;
  }
  return std::nullopt;
}

// A secret file holds one line, the secret Value; editors and `echo` add a newline.
Result<std::string> read_secret_file(const std::filesystem::path& path) {
  auto read = detail::read_small_file(path, 64 * 1024, "the client secret file");
  if (!read) return make_error(read.error().message + "; it should hold only the client secret Value");
  std::string content = std::move(read).value();
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r' || content.back() == ' ' ||
                              content.back() == '\t')) {
    content.pop_back();
  }
  if (content.empty()) return make_error(path.string() + " is empty; put the client secret Value in it");
  if (content.find('\n') != std::string::npos) {
    return make_error(path.string() + " has more than one line; it should hold only the client secret Value");
  }
  return content;
}

void resolve_client_secret(LoadState& state) {
  MicrosoftSettings& microsoft = state.settings.microsoft;
  if (state.yaml_client_secret_origin && state.yaml_client_secret_file_origin) {
    state.fail(*state.yaml_client_secret_file_origin,
               "both microsoft.client_secret and microsoft.client_secret_file are set; keep only one "
               "(client_secret_file keeps the secret out of this file)");
    return;
  }
  if (state.environment_client_secret) {
    microsoft.client_secret = Secret<std::string>(*state.environment_client_secret);
    microsoft.client_secret_source = Source::environment;
  } else if (!microsoft.client_secret_file.empty()) {
    auto secret = read_secret_file(microsoft.client_secret_file);
    if (!secret) {
      state.fail(state.client_secret_file_origin.value_or(Origin{"microsoft.client_secret_file"}),
                 secret.error().message);
      return;
    }
    microsoft.client_secret = Secret<std::string>(std::move(secret).value());
    microsoft.client_secret_source = Source::file;
  } else if (state.yaml_client_secret_origin) {
    microsoft.client_secret = Secret<std::string>(state.yaml_client_secret);
    microsoft.client_secret_source = Source::yaml;
  } else {
    microsoft.client_secret = Secret<std::string>();
    microsoft.client_secret_source = Source::defaults;
  }
}

// ---- the cluster section ---------------------------------------------------------------------

Reason assign_peers(const RawValue& value, std::vector<std::string>& out) {
  std::vector<std::string> peers;
  for (const std::string& item : value.items) {
    auto parsed = detail::parse_http_url(item, "https://10.0.0.2:8443");
    if (!parsed) return parsed.error().message;
    if (detail::to_lower_ascii(parsed->scheme) != "https" && detail::to_lower_ascii(parsed->scheme) != "http") {
      return quote_value(item) + " is not an http(s) URL; write the peer's web base URL such as https://10.0.0.2:8443";
    }
    if ((!parsed->path.empty() && parsed->path != "/") || parsed->query || parsed->fragment) {
      return quote_value(item) +
             " has a path, query or fragment; write only the peer's web base URL such as https://10.0.0.2:8443";
    }
    std::string text = item;
    while (text.ends_with('/')) text.pop_back();
    peers.push_back(std::move(text));
  }
  out = std::move(peers);
  return std::nullopt;
}

Reason assign_address_ranges(const RawValue& value, std::vector<std::string>& out) {
  for (const std::string& item : value.items) {
    if (auto parsed = parse_address_range(item); !parsed) return parsed.error().message;
  }
  out = value.items;
  return std::nullopt;
}

Reason record_auth_http_key_file(const RawValue& value, const Origin& origin, LoadState& state) {
  if (auto reason = assign_path(value, state.settings.cluster.auth_http_key_file, true, "secrets/auth_http_key")) {
    return reason;
  }
  if (value.text.empty()) {
    state.auth_http_key_file_origin.reset();
  } else {
    state.auth_http_key_file_origin = origin;
  }
  return std::nullopt;
}

// The key file holds one line; like the client secret file, trailing whitespace is trimmed. A key
// short enough to guess would make the endpoint a password oracle, hence the minimum length.
void resolve_auth_http_key(LoadState& state) {
  ClusterSettings& cluster = state.settings.cluster;
  if (cluster.auth_http_key_file.empty()) {
    cluster.auth_http_key = Secret<std::string>();
    return;
  }
  const Origin origin = state.auth_http_key_file_origin.value_or(Origin{"cluster.auth_http_key_file"});
  auto read = detail::read_small_file(cluster.auth_http_key_file, 64 * 1024, "the auth_http key file");
  if (!read) {
    state.fail(origin, read.error().message + "; it should hold only the shared key (e.g. openssl rand -hex 32)");
    return;
  }
  std::string content = std::move(read).value();
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r' || content.back() == ' ' ||
                              content.back() == '\t')) {
    content.pop_back();
  }
  if (content.find_first_of("\r\n") != std::string::npos) {
    state.fail(origin, cluster.auth_http_key_file.string() +
                           " has more than one line; it should hold only the shared key");
    return;
  }
  const bool printable = std::all_of(content.begin(), content.end(), [](char c) {
    return c > ' ' && c < 127;
  });
  if (content.size() < 16 || !printable) {
    state.fail(origin, cluster.auth_http_key_file.string() +
                           " must hold at least 16 printable characters without spaces (nginx sends the key in a "
                           "header); create one with: openssl rand -hex 32 > " +
                           cluster.auth_http_key_file.string());
    return;
  }
  cluster.auth_http_key = Secret<std::string>(std::move(content));
}

// ---- the schema ------------------------------------------------------------------------------

constexpr std::string_view kListen = "HOST:PORT";
constexpr std::string_view kListenOrEmpty = "HOST:PORT or \"\"";
constexpr std::string_view kUrl = "a URL";
constexpr std::string_view kPath = "a path";
constexpr std::string_view kText = "a string";
constexpr std::string_view kBool = "true or false";
constexpr std::string_view kSize = "a size in bytes";
constexpr std::string_view kDuration = "a duration such as 60s";
constexpr std::string_view kList = "a list such as [a, b]";

const KeySpec kKeys[] = {
    {"", "public_url", kUrl,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_url(v, s.settings.public_url, "https://mail.example.com");
     }},
    {"", "data_dir", kPath,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_path(v, s.settings.data_dir, false, "var");
     }},

    {"web", "listen", kListen,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_listen(v, s.settings.web.listen, "127.0.0.1:8443", false);
     }},
    {"web", "tls", kBool,
     [](const RawValue& v, const Origin&, LoadState& s) { return assign_bool(v, s.settings.web.tls); }},

    {"imap", "listen", kListenOrEmpty,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_listen(v, s.settings.imap.listen, "127.0.0.1:1143", true);
     }},
    {"imap", "tls_listen", kListenOrEmpty,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_listen(v, s.settings.imap.tls_listen, "127.0.0.1:1993", true);
     }},

    {"smtp", "listen", kListenOrEmpty,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_listen(v, s.settings.smtp.listen, "127.0.0.1:1587", true);
     }},
    {"smtp", "tls_listen", kListenOrEmpty,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_listen(v, s.settings.smtp.tls_listen, "127.0.0.1:1465", true);
     }},
    {"smtp", "max_message_bytes", kSize,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_size(v, s.settings.smtp.max_message_bytes, 1);
     }},

    {"tls", "cert", kPath,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_path(v, s.settings.tls.cert, false, "certs/server.crt");
     }},
    {"tls", "key", kPath,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_path(v, s.settings.tls.key, false, "certs/server.key");
     }},

    {"microsoft", "client_id", kText,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_string(v, s.settings.microsoft.client_id);
     }},
    {"microsoft", "client_secret", kText, &record_client_secret},
    {"microsoft", "client_secret_file", kPath, &record_client_secret_file},
    {"microsoft", "client_secret_expires", kText,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_string(v, s.settings.microsoft.client_secret_expires);
     }},
    {"microsoft", "tenant", kText,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_tenant(v, s.settings.microsoft.tenant);
     }},
    {"microsoft", "login_url", kUrl,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_service_url(v, s.settings.microsoft.login_url, "https://login.microsoftonline.com");
     }},
    {"microsoft", "graph_url", kUrl,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_service_url(v, s.settings.microsoft.graph_url, "https://graph.microsoft.com");
     }},
    {"microsoft", "ca_file", kPath,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_path(v, s.settings.microsoft.ca_file, true, "certs/emulator-ca.crt");
     }},

    {"admin", "username", kText,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_non_empty_string(v, s.settings.admin.username, "admin");
     }},
    {"admin", "password_hash", kText,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_string(v, s.settings.admin.password_hash);
     }},

    {"sync", "poll_interval", kDuration,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_duration(v, s.settings.sync.poll_interval);
     }},
    {"sync", "idle_poll_interval", kDuration,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_duration(v, s.settings.sync.idle_poll_interval);
     }},
    {"sync", "body_cache_bytes", kSize,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_size(v, s.settings.sync.body_cache_bytes, 0);
     }},
    {"sync", "size_learning_per_minute", kSize,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_size(v, s.settings.sync.size_learning_per_minute, 0);
     }},

    {"queue", "retry_for", kDuration,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_duration(v, s.settings.queue.retry_for);
     }},
    {"queue", "backoff_initial", kDuration,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_duration(v, s.settings.queue.backoff_initial);
     }},
    {"queue", "backoff_max", kDuration,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_duration(v, s.settings.queue.backoff_max);
     }},

    {"cluster", "auth_http_key_file", kPath, &record_auth_http_key_file},
    {"cluster", "imap_backend", kListenOrEmpty,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_listen(v, s.settings.cluster.imap_backend, "10.0.0.1:1143", true);
     }},
    {"cluster", "smtp_backend", kListenOrEmpty,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_listen(v, s.settings.cluster.smtp_backend, "10.0.0.1:1587", true);
     }},
    {"cluster", "peers", kList,
     [](const RawValue& v, const Origin&, LoadState& s) { return assign_peers(v, s.settings.cluster.peers); }},
    {"cluster", "peer_ca_file", kPath,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_path(v, s.settings.cluster.peer_ca_file, true, "certs/cluster-ca.crt");
     }},
    {"cluster", "trusted_proxies", kList,
     [](const RawValue& v, const Origin&, LoadState& s) {
       return assign_address_ranges(v, s.settings.cluster.trusted_proxies);
     }},

    {"log", "level", "one of debug, info, warn, error",
     [](const RawValue& v, const Origin&, LoadState& s) -> Reason {
       if (!log::parse_level(v.text, s.settings.log.level)) {
         return quote_value(v.text) + " is not a log level; use debug, info, warn or error";
       }
       return std::nullopt;
     }},
    {"log", "format", "text or json",
     [](const RawValue& v, const Origin&, LoadState& s) -> Reason {
       if (!log::parse_format(v.text, s.settings.log.format)) {
         return quote_value(v.text) + " is not a log format; use text or json";
       }
       return std::nullopt;
     }},
};

constexpr std::string_view kSections[] = {"web",  "imap",  "smtp",    "tls", "microsoft", "admin",
                                          "sync", "queue", "cluster", "log"};

bool is_section(std::string_view name) {
  return std::find(std::begin(kSections), std::end(kSections), name) != std::end(kSections);
}

const KeySpec* find_key(std::string_view section, std::string_view name) {
  for (const KeySpec& key : kKeys) {
    if (key.section == section && key.name == name) return &key;
  }
  return nullptr;
}

std::string dotted(std::string_view section, std::string_view name) {
  return section.empty() ? std::string(name) : std::string(section) + "." + std::string(name);
}

std::string keys_of(std::string_view section) {
  std::string names;
  for (const KeySpec& key : kKeys) {
    if (key.section != section) continue;
    if (!names.empty()) names += ", ";
    names += key.name;
  }
  return names;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "unknown key; did you mean imap.listen? (the imap section has: listen, tls_listen)"
std::string unknown_key_reason(std::string_view section, std::string_view name) {
  std::string best;
  std::size_t best_distance = 3;  // suggest only near misses
  auto consider = [&](std::string_view candidate_section, std::string_view candidate) {
    const std::size_t distance = edit_distance(name, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = dotted(candidate_section, candidate);
    }
  };
  for (const KeySpec& key : kKeys) {
    if (key.section == section) consider(section, key.name);
  }
  if (section.empty()) {
    for (std::string_view candidate : kSections) consider("", candidate);
  }
  // A right key in the wrong place ("listen" at the top level, "tls_listen" under web).
  if (best.empty()) {
    for (const KeySpec& key : kKeys) {
      if (key.name == name && key.section != section) {
        best =
            key.section.empty() ? std::string(key.name) + " at the top level" : dotted(key.section, key.name);
        break;
      }
    }
  }
  std::string reason = "unknown key";
  if (!best.empty()) reason += "; did you mean " + best + "?";
  if (section.empty()) {
    reason += " (top-level keys: public_url, data_dir, web, imap, smtp, tls, microsoft, admin, sync, queue, cluster, log)";
  } else {
    reason += " (the " + std::string(section) + " section has: " + keys_of(section) + ")";
  }
  return reason;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a section of keys";
    case YAML::NodeType::Null: return "no value";
    case YAML::NodeType::Scalar: return "the value " + quote_value(node.Scalar());
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

// ---- walking the YAML ------------------------------------------------------------------------

class YamlWalker {
 public:
  YamlWalker(std::string file_label, LoadState& state) : file_label_(std::move(file_label)), state_(state) {}

  void walk_document(const YAML::Node& root) {
    if (root.IsNull()) return;  // an empty file or only comments: all defaults
    if (!root.IsMap()) {
      state_.errors.push_back(at(root.Mark()) +
                              "expected keys such as public_url and web at the top level, got " +
                              describe(root));
      return;
    }
    walk_map(root, "");
  }

 private:
  std::string at(const YAML::Mark& mark) const {
    if (mark.is_null()) return file_label_ + ": ";
    return file_label_ + ":" + std::to_string(mark.line + 1) + ": ";
  }

  void walk_map(const YAML::Node& map, std::string_view section) {
    std::map<std::string, int, std::less<>> first_line;
    for (const auto& entry : map) {
      // Copies: Node is a cheap handle, and the iterator's pair is a temporary.
      const YAML::Node key = entry.first;
      const YAML::Node value = entry.second;
      if (!key.IsScalar()) {
        state_.errors.push_back(at(key.Mark()) + (section.empty() ? "" : std::string(section) + ": ") +
                                "a key must be a plain name, got " + describe(key));
        continue;
      }
      const std::string& name = key.Scalar();
      // A quoted YAML key may hold line breaks: such a key is shown escaped, so that each problem
      // stays one line (found by tests/fuzz/config_yaml).
      const bool printable = std::none_of(name.begin(), name.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      });
      const std::string key_path = dotted(section, printable ? name : quote_value(name));
      const Origin origin{at(key.Mark()) + key_path};

      const auto [previous, inserted] = first_line.emplace(name, key.Mark().line + 1);
      if (!inserted) {
        state_.fail(origin, "appears twice in the same section (first on line " +
                                std::to_string(previous->second) + "); keep one");
        continue;
      }

      if (section.empty() && is_section(name)) {
        if (value.IsNull()) continue;  // `web:` with nothing under it keeps the defaults
        if (!value.IsMap()) {
          state_.fail(origin, "expected a section of keys (" + keys_of(name) + "), got " + describe(value));
          continue;
        }
        walk_map(value, name);
        continue;
      }

      const KeySpec* spec = find_key(section, name);
      if (spec == nullptr) {
        state_.fail(origin, unknown_key_reason(section, name));
        continue;
      }
      if (spec->expected == kList) {
        walk_list(value, *spec, origin);
        continue;
      }
      if (value.IsMap() || value.IsSequence()) {
        state_.fail(origin, "expected " + std::string(spec->expected) + ", got " + describe(value));
        continue;
      }
      RawValue raw;
      raw.is_null = value.IsNull();
      raw.quoted = !raw.is_null && value.Tag() == "!";
      raw.text = raw.is_null ? std::string() : value.Scalar();
      if (raw.is_null && !accepts_null(*spec)) {
        state_.fail(origin, "has no value; expected " + std::string(spec->expected));
        continue;
      }
      if (auto reason = spec->apply(raw, origin, state_)) state_.fail(origin, *reason);
    }
  }

  // `key:` and `key: []` are the empty list; every entry must be a plain value.
  void walk_list(const YAML::Node& value, const KeySpec& spec, const Origin& origin) {
    RawValue raw;
    if (!value.IsNull()) {
      if (!value.IsSequence()) {
        state_.fail(origin, "expected " + std::string(spec.expected) + ", got " + describe(value) +
                                " (write a single entry as [" +
                                (value.IsScalar() ? value.Scalar() : std::string("entry")) + "])");
        return;
      }
      for (const auto& item : value) {
        if (!item.IsScalar() || item.Scalar().empty()) {
          state_.fail(origin, "every entry must be a plain non-empty value, got " + describe(item));
          return;
        }
        raw.items.push_back(item.Scalar());
      }
    }
    raw.is_null = value.IsNull();
    if (auto reason = spec.apply(raw, origin, state_)) state_.fail(origin, *reason);
  }

  // Only string-like keys read `key:` as ""; a missing number or boolean is more likely a mistake.
  static bool accepts_null(const KeySpec& spec) {
    return spec.expected == kText || spec.expected == kPath || spec.expected == kListenOrEmpty;
  }

  std::string file_label_;
  LoadState& state_;
};

void apply_environment(const Environment& environment, LoadState& state) {
  if (!environment) return;
  for (const KeySpec& spec : kKeys) {
    const std::string variable = environment_variable_for(dotted(spec.section, spec.name));
    std::optional<std::string> text = environment(variable);
    if (!text) continue;
    RawValue raw;
    raw.text = std::move(*text);
    raw.from_environment = true;
    if (spec.expected == kList) {
      // Comma-separated: "https://10.0.0.2:8443,https://10.0.0.3:8443"; "" is the empty list.
      std::size_t start = 0;
      while (start <= raw.text.size()) {
        std::size_t comma = raw.text.find(',', start);
        if (comma == std::string::npos) comma = raw.text.size();
        std::string item = raw.text.substr(start, comma - start);
        while (!item.empty() && item.front() == ' ') item.erase(item.begin());
        while (!item.empty() && item.back() == ' ') item.pop_back();
        if (!item.empty()) raw.items.push_back(std::move(item));
        start = comma + 1;
      }
    }
    const Origin origin{"environment variable " + variable};
    if (auto reason = spec.apply(raw, origin, state)) state.fail(origin, *reason);
  }

  // The name the spec documents; MAILTRIXY_MICROSOFT_CLIENT_SECRET is the generic form above.
  const std::optional<std::string> short_form = environment("MAILTRIXY_CLIENT_SECRET");
  if (short_form && !short_form->empty()) {
    if (state.environment_client_secret && *state.environment_client_secret != *short_form) {
      state.errors.push_back(
          "environment variables MAILTRIXY_CLIENT_SECRET and MAILTRIXY_MICROSOFT_CLIENT_SECRET are both set, "
          "to "
          "different values; unset one of them");
    } else {
      state.environment_client_secret = *short_form;
      state.environment_client_secret_origin = Origin{"environment variable MAILTRIXY_CLIENT_SECRET"};
    }
  }
}

std::filesystem::path resolve(const std::filesystem::path& base, const std::filesystem::path& path) {
  if (path.empty() || path.is_absolute()) return path.lexically_normal();
  return (base / path).lexically_normal();
}

void resolve_paths(LoadState& state) {
  Settings& s = state.settings;
  s.data_dir = resolve(state.config_dir, s.data_dir);
  s.tls.cert = resolve(state.config_dir, s.tls.cert);
  s.tls.key = resolve(state.config_dir, s.tls.key);
  s.microsoft.client_secret_file = resolve(state.config_dir, s.microsoft.client_secret_file);
  s.microsoft.ca_file = resolve(state.config_dir, s.microsoft.ca_file);
  s.cluster.auth_http_key_file = resolve(state.config_dir, s.cluster.auth_http_key_file);
  s.cluster.peer_ca_file = resolve(state.config_dir, s.cluster.peer_ca_file);
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string joined;
  for (const std::string& line : lines) {
    if (!joined.empty()) joined += '\n';
    joined += line;
  }
  return joined;
}

}  // namespace

std::string environment_variable_for(std::string_view dotted_key) {
  std::string name = "MAILTRIXY_";
  for (char c : dotted_key) {
    name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

namespace {

// Where the first two documents of a YAML text start, read with yaml-cpp's event parser. Needed
// because YAML::LoadAll() never returns for some malformed text: a stray ',' at the top level
// makes yaml-cpp 0.7 report empty documents forever without consuming anything, until memory
// runs out (found by tests/fuzz/config_yaml). Counting stops at two documents.
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

DocumentStarts first_two_documents(const std::string& yaml) {
  std::istringstream input(yaml);
  YAML::Parser parser(input);
  DocumentStarts starts;
  while (starts.starts.size() < 2 && parser.HandleNextDocument(starts)) {
  }
  return starts;
}

}  // namespace

Result<Settings> load_from_string(std::string_view yaml, const std::filesystem::path& config_path,
                                  const Environment& environment) {
  LoadState state;
  state.settings.config_path = config_path;
  std::error_code ec;
  const std::filesystem::path absolute_config = std::filesystem::absolute(config_path, ec);
  state.config_dir = (ec ? config_path : absolute_config).parent_path();

  const std::string file_label = config_path.string();
  std::vector<YAML::Node> documents;
  try {
    const std::string text(yaml);
    const DocumentStarts starts = first_two_documents(text);
    if (starts.starts.size() > 1 && starts.starts[1].pos == starts.starts[0].pos) {
      const YAML::Mark& stuck = starts.starts[0];
      return make_error(file_label + ":" + std::to_string(stuck.line + 1) +
                        ": malformed YAML: the parser cannot get past column " + std::to_string(stuck.column + 1) +
                        " (a ',' outside [...] or {...} does this); remove it or quote the value");
    }
    if (starts.starts.size() > 1) {
      const YAML::Mark& second = starts.starts[1];
      return make_error(file_label + ":" + std::to_string(second.line + 1) +
                        ": the file holds more than one YAML document (separated by ---); keep only one");
    }
    if (!starts.starts.empty()) documents.push_back(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    const std::string line = e.mark.is_null() ? std::string() : ":" + std::to_string(e.mark.line + 1);
    return make_error(
        file_label + line + ": malformed YAML: " + e.msg +
        (e.mark.is_null() ? std::string() : " (column " + std::to_string(e.mark.column + 1) + ")"));
  }

  if (!documents.empty()) YamlWalker(file_label, state).walk_document(documents.front());
  apply_environment(environment, state);
  resolve_paths(state);
  if (state.errors.empty()) resolve_client_secret(state);
  if (state.errors.empty()) resolve_auth_http_key(state);

  if (!state.errors.empty()) return make_error(join_lines(state.errors));
  return std::move(state.settings);
}

Result<Settings> load(const std::filesystem::path& config_path, const Environment& environment) {
  std::error_code ec;
  const auto status = std::filesystem::status(config_path, ec);
  if (!std::filesystem::exists(status)) {
    return make_error("config file " + config_path.string() +
                      " does not exist; pass --config PATH, or start from the shipped config/mailtrixy.yaml");
  }
  if (std::filesystem::is_directory(status)) {
    return make_error("config file " + config_path.string() +
                      " is a directory; pass the path of the YAML file");
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(config_path.c_str(), "rb"), &std::fclose);
  if (!file) {
    return make_error("cannot read config file " + config_path.string() + ": " + std::strerror(errno) +
                      "; check its permissions");
  }
  std::string content;
  char buffer[8192];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) content.append(buffer, got);
  if (std::ferror(file.get()) != 0) {
    return make_error("cannot read config file " + config_path.string() + ": " + std::strerror(errno));
  }
  return load_from_string(content, config_path, environment);
}

Result<Settings> load(const std::filesystem::path& config_path) {
  return load(config_path, process_environment());
}

std::vector<std::string> known_keys() {
  std::vector<std::string> keys;
  for (const KeySpec& key : kKeys) keys.push_back(dotted(key.section, key.name));
  return keys;
}

}  // namespace mailtrixy::config
