#include "startup.hpp"

#include <cstdlib>
#include <sstream>
#include <string>

#include "command.hpp"
#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/config/diagnose.hpp"
#include "mailtrixy/config/load.hpp"
#include "mailtrixy/store/master_key.hpp"
#include "mailtrixy/sync/sync_engine.hpp"

namespace mailtrixy::app {

std::optional<config::Settings> load_settings_or_report(const std::filesystem::path& config_path) {
  auto settings = config::load(config_path);
  if (!settings) {
    std::istringstream lines(settings.error().message);
    for (std::string line; std::getline(lines, line);) print_error(line);
    return std::nullopt;
  }
  return std::move(settings).value();
}

bool report_startup_diagnoses(const config::Settings& settings) {
  const auto diagnoses = config::diagnose(settings);
  for (const config::Diagnosis& diagnosis : diagnoses) {
    const std::string text = diagnosis.key + ": " + diagnosis.message;
    switch (diagnosis.severity) {
      case config::Severity::error:
        print_error(text + (diagnosis.fix.empty() ? "" : " Fix: " + diagnosis.fix));
        break;
      case config::Severity::warning:
        log::warn(diagnosis.message, {{"key", diagnosis.key}, {"fix", diagnosis.fix}});
        break;
      case config::Severity::advice:
        log::info(diagnosis.message, {{"key", diagnosis.key}, {"fix", diagnosis.fix}});
        break;
    }
  }
  if (!config::can_start(diagnoses)) {
    print_error("the configuration has errors; run 'mailtrixy check-config --config " +
                settings.config_path.string() + "' for the full report");
    return false;
  }
  return true;
}

Result<std::unique_ptr<store::Store>> open_store(const config::Settings& settings) {
  const char* environment_key = std::getenv(std::string(store::kMasterKeyEnvironmentVariable).c_str());
  auto key = store::load_or_create_master_key(settings.data_dir, environment_key);
  if (!key) return key.error();
  return store::Store::open(store::OpenOptions{.data_dir = settings.data_dir, .key = std::move(key).value(), .read_only = false, .migrations = {}});
}

bool database_exists(const config::Settings& settings) {
  std::error_code ignored;
  return std::filesystem::exists(settings.data_dir / "db" / "CURRENT", ignored);
}

Result<std::unique_ptr<store::Store>> open_store_read_only(const config::Settings& settings) {
  const char* environment_key = std::getenv(std::string(store::kMasterKeyEnvironmentVariable).c_str());
  const bool key_from_environment = environment_key != nullptr && *environment_key != '\0';
  std::error_code ignored;
  if (!key_from_environment && !std::filesystem::exists(settings.data_dir / store::kMasterKeyFileName, ignored)) {
    return make_error("the master key " + (settings.data_dir / store::kMasterKeyFileName).string() +
                      " is missing; set MAILTRIXY_MASTER_KEY or restore the file");
  }
  auto key = store::load_or_create_master_key(settings.data_dir, environment_key);
  if (!key) return key.error();
  return store::Store::open(store::OpenOptions{.data_dir = settings.data_dir, .key = std::move(key).value(), .read_only = true, .migrations = {}});
}

bool is_database_in_use(const Error& error) {
  return error.message.find("is in use by another process") != std::string::npos;
}

web::HealthReport health_report(const config::Settings& settings) {
  web::HealthReport report;
  config::DiagnoseOptions options;
  options.probe_listeners = false;  // the running bridge holds its own ports
  for (const config::Diagnosis& diagnosis : config::diagnose(settings, options)) {
    // Only the secret's expiry: whether the Client ID and secret are set and work is reported by
    // the auth module (they may come from the admin page, which the file knows nothing about).
    const bool about_expiry = diagnosis.key == "microsoft.client_secret_expires";
    if (about_expiry && diagnosis.severity != config::Severity::advice) {
      report.reasons.push_back(diagnosis.key + ": " + diagnosis.message);
    }
  }
  return report;
}

void append_sync_failures(web::HealthReport& report, const sync::SyncEngine& engine,
                          const auth::AccountStore& accounts, std::chrono::milliseconds threshold) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const auto& [key, since_ms] : engine.failing_since()) {
    if (now_ms - since_ms < threshold.count()) continue;
    std::string name = key;
    if (auto account = accounts.find(key); account.ok() && account.value()) name = account.value()->address;
    const auto minutes = (now_ms - since_ms) / 60'000;
    report.reasons.push_back("sync of " + name + " has failed for " +
                             (minutes < 1 ? std::string("under a minute") : std::to_string(minutes) + " min") +
                             "; Microsoft Graph may be unreachable or refusing the account: look for \"sync round "
                             "failed\" in the log");
  }
}

}  // namespace mailtrixy::app
