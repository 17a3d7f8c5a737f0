#include "mailtrixy/config/reference.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>

namespace mailtrixy::config {
namespace {

using Formatter = std::function<std::string(const Settings&)>;

std::string text(const std::string& value) { return value.empty() ? "\"\"" : value; }
std::string text(const std::filesystem::path& value) { return text(value.string()); }
std::string text(bool value) { return value ? "true" : "false"; }
std::string text(std::uint64_t value) { return std::to_string(value); }
std::string text(std::chrono::seconds value) { return std::to_string(value.count()) + "s"; }
std::string text(const Secret<std::string>& value) { return value.empty() ? "\"\"" : "(set)"; }

std::string text(const std::vector<std::string>& values) {
  std::string joined = "[";
  for (const std::string& value : values) {
    if (joined.size() > 1) joined += ", ";
    joined += value;
  }
  return joined + "]";
}

std::string text(log::Level level) {
  switch (level) {
    case log::Level::debug: return "debug";
    case log::Level::info: return "info";
    case log::Level::warn: return "warn";
    case log::Level::error: return "error";
  }
  return "unknown";
}

std::string text(log::Format format) { return format == log::Format::json ? "json" : "text"; }

// One line per key of the loader's schema (load.cpp); reference_test fails naming any key that
// is accepted there and missing here.
#define MAILTRIXY_KEY(dotted, member) \
  { dotted, [](const Settings& s) { return text(s.member); } }

const std::map<std::string, Formatter, std::less<>>& formatters() {
  static const std::map<std::string, Formatter, std::less<>> table = {
      MAILTRIXY_KEY("public_url", public_url),
      MAILTRIXY_KEY("data_dir", data_dir),
      MAILTRIXY_KEY("web.listen", web.listen),
      MAILTRIXY_KEY("web.tls", web.tls),
      MAILTRIXY_KEY("imap.listen", imap.listen),
      MAILTRIXY_KEY("imap.tls_listen", imap.tls_listen),
      MAILTRIXY_KEY("smtp.listen", smtp.listen),
      MAILTRIXY_KEY("smtp.tls_listen", smtp.tls_listen),
      MAILTRIXY_KEY("smtp.max_message_bytes", smtp.max_message_bytes),
      MAILTRIXY_KEY("tls.cert", tls.cert),
      MAILTRIXY_KEY("tls.key", tls.key),
      MAILTRIXY_KEY("microsoft.client_id", microsoft.client_id),
      MAILTRIXY_KEY("microsoft.client_secret", microsoft.client_secret),
      MAILTRIXY_KEY("microsoft.client_secret_file", microsoft.client_secret_file),
      MAILTRIXY_KEY("microsoft.client_secret_expires", microsoft.client_secret_expires),
      MAILTRIXY_KEY("microsoft.tenant", microsoft.tenant),
      MAILTRIXY_KEY("microsoft.login_url", microsoft.login_url),
      MAILTRIXY_KEY("microsoft.graph_url", microsoft.graph_url),
      MAILTRIXY_KEY("microsoft.ca_file", microsoft.ca_file),
      MAILTRIXY_KEY("admin.username", admin.username),
      MAILTRIXY_KEY("admin.password_hash", admin.password_hash),
      MAILTRIXY_KEY("sync.poll_interval", sync.poll_interval),
      MAILTRIXY_KEY("sync.idle_poll_interval", sync.idle_poll_interval),
      MAILTRIXY_KEY("sync.body_cache_bytes", sync.body_cache_bytes),
      MAILTRIXY_KEY("sync.size_learning_per_minute", sync.size_learning_per_minute),
      MAILTRIXY_KEY("queue.retry_for", queue.retry_for),
      MAILTRIXY_KEY("queue.backoff_initial", queue.backoff_initial),
      MAILTRIXY_KEY("queue.backoff_max", queue.backoff_max),
      MAILTRIXY_KEY("cluster.auth_http_key_file", cluster.auth_http_key_file),
      MAILTRIXY_KEY("cluster.imap_backend", cluster.imap_backend),
      MAILTRIXY_KEY("cluster.smtp_backend", cluster.smtp_backend),
      MAILTRIXY_KEY("cluster.peers", cluster.peers),
      MAILTRIXY_KEY("cluster.peer_ca_file", cluster.peer_ca_file),
      MAILTRIXY_KEY("cluster.trusted_proxies", cluster.trusted_proxies),
      MAILTRIXY_KEY("log.level", log.level),
      MAILTRIXY_KEY("log.format", log.format),
  };
  return table;
}

#undef MAILTRIXY_KEY

}  // namespace

std::optional<std::string> format_value(const Settings& settings, std::string_view dotted_key) {
  const auto& table = formatters();
  const auto found = table.find(dotted_key);
  if (found == table.end()) return std::nullopt;
  return found->second(settings);
}

}  // namespace mailtrixy::config
