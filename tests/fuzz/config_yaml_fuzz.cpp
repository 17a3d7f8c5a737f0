// Fuzz target for the configuration loader (config/load.hpp) and the diagnoses built on it
// (config/diagnose.hpp): any text as config/mailtrixy.yaml, with any environment overrides, must
// give Settings or a readable Error (one line per problem), never a crash, a hang or an
// exception; loaded Settings must be diagnosable and reportable.
//
// Input: YAML text, optionally followed by a line "#env" and lines NAME=VALUE that form the
// environment (so the override paths and their error messages are reached too).
//
// Hermetic on purpose: the config "file" is a name in a fixed directory that is never written, so
// relative paths resolve to files that do not exist; inputs that could name device or kernel
// files are skipped (client_secret_file is read while loading, and /proc/kmsg would block); and listener
// hosts that are not IP literals are replaced by 127.0.0.1 before diagnosing, so diagnose()
// never sends a DNS query.

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/config/diagnose.hpp"
#include "mailtrixy/config/load.hpp"

namespace {

using namespace mailtrixy;

void check(bool condition) {
  if (!condition) std::abort();
}

bool is_ip_literal(const std::string& host) {
  unsigned char buffer[16];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), buffer) == 1;
  }
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1;
}

// True when the text could name a device or kernel file: literally, or through a YAML escape that
// writes '/' or a letter (\x2f, \u0064, \/) or joins lines (a backslash before a line break).
bool names_a_special_file(std::string_view text) {
  for (std::string_view unsafe : {"/dev", "/proc", "/sys"}) {
    if (text.find(unsafe) != std::string_view::npos) return true;
  }
  for (auto at = text.find('\\'); at != std::string_view::npos && at + 1 < text.size(); at = text.find('\\', at + 2)) {
    if (std::string_view("xuU/\r\n").find(text[at + 1]) != std::string_view::npos) return true;
  }
  return false;
}

// "name.example:25" -> "127.0.0.1:25"; IP literals and "" (disabled) stay.
void keep_off_dns(std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return;
  if (!is_ip_literal(listen.substr(0, colon))) listen = "127.0.0.1" + listen.substr(colon);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (names_a_special_file(input)) return 0;
  std::string_view yaml = input;
  std::map<std::string, std::string> variables;
  if (const auto marker = input.find("#env\n"); marker != std::string_view::npos) {
    yaml = input.substr(0, marker);
    std::string_view rest = input.substr(marker + 5);
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      const std::string_view line = rest.substr(0, end);
      const auto equals = line.find('=');
      if (equals != std::string_view::npos) variables[std::string(line.substr(0, equals))] = line.substr(equals + 1);
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  const config::Environment environment = [&variables](const std::string& name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };

  auto loaded = config::load_from_string(yaml, "/nonexistent/mailtrixy-fuzz/mailtrixy.yaml", environment);
  if (!loaded) {
    // Errors are collected one per line, none empty.
    const std::string& message = loaded.error().message;
    check(!message.empty());
    check(message.find("\n\n") == std::string::npos && message.back() != '\n');
    return 0;
  }
  config::Settings settings = std::move(loaded).value();
  check(settings.data_dir.is_absolute() && settings.tls.cert.is_absolute() && settings.tls.key.is_absolute());
  check(settings.sync.poll_interval.count() >= 1 && settings.queue.backoff_initial.count() >= 1);
  check(!settings.public_url.empty());
  check(settings.microsoft.login_url.empty() || settings.microsoft.login_url.back() != '/');
  check(settings.microsoft.graph_url.empty() || settings.microsoft.graph_url.back() != '/');
  for (std::string* listen : {&settings.web.listen, &settings.imap.listen, &settings.imap.tls_listen,
                              &settings.smtp.listen, &settings.smtp.tls_listen}) {
    keep_off_dns(*listen);
  }
  config::DiagnoseOptions options;
  options.today = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};
  options.probe_listeners = false;
  const auto diagnoses = config::diagnose(settings, options);
  for (const auto& diagnosis : diagnoses) check(!diagnosis.message.empty());
  const std::string report = config::format_report(settings, diagnoses);
  check(!report.empty());
  // Secret values never appear in what check-config prints. Checked when the secret cannot be
  // there by coincidence: long enough, and not part of any other value that may be printed.
  const std::string& secret = settings.microsoft.client_secret.reveal();
  const auto& m = settings.microsoft;
  const std::string printable = settings.public_url + '\n' + settings.data_dir.string() + '\n' +
                                settings.web.listen + '\n' + settings.imap.listen + '\n' + settings.imap.tls_listen +
                                '\n' + settings.smtp.listen + '\n' + settings.smtp.tls_listen + '\n' +
                                settings.tls.cert.string() + '\n' + settings.tls.key.string() + '\n' + m.client_id +
                                '\n' + m.client_secret_file.string() + '\n' + m.client_secret_expires + '\n' +
                                m.tenant + '\n' + m.login_url + '\n' + m.graph_url + '\n' + m.ca_file.string() +
                                '\n' + settings.admin.username + '\n' + settings.admin.password_hash + '\n' +
                                settings.config_path.string();
  auto shows = [](const std::string& text, const std::vector<config::Diagnosis>& found, const std::string& value) {
    if (text.find(value) != std::string::npos) return true;
    for (const auto& diagnosis : found) {
      if (diagnosis.message.find(value) != std::string::npos || diagnosis.fix.find(value) != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  if (secret.size() >= 12 && printable.find(secret) == std::string::npos && shows(report, diagnoses, secret)) {
    // The secret's text is in the output. That is a leak unless the output holds the same text
    // with another secret of the same length: then it comes from the product's own wording
    // around other values (a fuzzed secret once copied part of the client_id's "is not a GUID"
    // sentence, tests/fuzz/regressions/config_yaml/).
    config::Settings other = settings;
    other.microsoft.client_secret = Secret<std::string>(std::string(secret.size(), '\x7f'));
    const auto other_diagnoses = config::diagnose(other, options);
    check(shows(config::format_report(other, other_diagnoses), other_diagnoses, secret));
  }
  (void)config::redirect_uri(settings);
  (void)config::can_start(diagnoses);
  return 0;
}
