#pragma once
// Steps shared by the commands that start from a configuration file: loading it with clear
// errors, judging it, and opening the encrypted store.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/config/settings.hpp"
#include "mailtrixy/store/store.hpp"
#include "mailtrixy/web/server.hpp"

namespace mailtrixy::auth {
class AccountStore;
}
namespace mailtrixy::sync {
class SyncEngine;
}

namespace mailtrixy::app {

// Loads the configuration; on failure prints every problem to stderr and returns nullopt.
std::optional<config::Settings> load_settings_or_report(const std::filesystem::path& config_path);

// Runs the check-config diagnoses at start-up: warnings and advice go to the log, errors to
// stderr. False when an error keeps the bridge from starting.
bool report_startup_diagnoses(const config::Settings& settings);

// Loads (or creates) the master key and opens the store in data_dir.
Result<std::unique_ptr<store::Store>> open_store(const config::Settings& settings);

// True when data_dir holds a database (the bridge has been started at least once).
bool database_exists(const config::Settings& settings);

// Opens the store as a read-only secondary (safe next to a running bridge). Never creates the
// master key or the database: call database_exists() first to tell "nothing yet" apart.
Result<std::unique_ptr<store::Store>> open_store_read_only(const config::Settings& settings);

// True for open_store()'s error when another process (a running `serve`) holds the database.
bool is_database_in_use(const Error& error);

// What /healthz reports about the configuration: an expired or expiring client secret (the web
// module adds the integration's state and accounts needing sign-in).
web::HealthReport health_report(const config::Settings& settings);

// Adds one /healthz reason per account whose sync rounds have failed for longer than
// `threshold` (serve passes 3 poll intervals: one failed round is usually a blip).
void append_sync_failures(web::HealthReport& report, const sync::SyncEngine& engine,
                          const auth::AccountStore& accounts, std::chrono::milliseconds threshold);

}  // namespace mailtrixy::app
