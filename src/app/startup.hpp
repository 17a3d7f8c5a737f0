#pragma once
// Steps shared by the commands that start from a configuration file: loading it with clear
// errors, judging it, and opening the encrypted store.

#include <filesystem>
#include <memory>
#include <optional>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/config/settings.hpp"
#include "mailtrixy/store/store.hpp"
#include "mailtrixy/web/server.hpp"

namespace mailtrixy::app {

// Loads the configuration; on failure prints every problem to stderr and returns nullopt.
std::optional<config::Settings> load_settings_or_report(const std::filesystem::path& config_path);

// Runs the check-config diagnoses at start-up: warnings and advice go to the log, errors to
// stderr. False when an error keeps the bridge from starting.
bool report_startup_diagnoses(const config::Settings& settings);

// Loads (or creates) the master key and opens the store in data_dir.
Result<std::unique_ptr<store::Store>> open_store(const config::Settings& settings);

// What /healthz reports about the configuration: an expired or expiring client secret, a
// missing Microsoft integration.
web::HealthReport health_report(const config::Settings& settings);

}  // namespace mailtrixy::app
