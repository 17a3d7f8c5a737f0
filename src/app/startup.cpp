#include "startup.hpp"

#include <cstdlib>
#include <sstream>
#include <string>

#include "command.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/config/diagnose.hpp"
#include "mailtrixy/config/load.hpp"
#include "mailtrixy/store/master_key.hpp"

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

web::HealthReport health_report(const config::Settings& settings) {
  web::HealthReport report;
  config::DiagnoseOptions options;
  options.probe_listeners = false;  // the running bridge holds its own ports
  for (const config::Diagnosis& diagnosis : config::diagnose(settings, options)) {
    const bool about_integration = diagnosis.key.starts_with("microsoft.client_");
    if (about_integration && diagnosis.severity != config::Severity::advice) {
      report.reasons.push_back(diagnosis.key + ": " + diagnosis.message);
    }
  }
  return report;
}

}  // namespace mailtrixy::app
