// `mailtrixy backup --to DIR [--include-master-key]`: a consistent copy of the store (see
// src/app/backup.hpp for the layout and why the key is left out by default).
//
// Like the other write-side commands (docs/adr/0004-cli-while-running.md) it opens the store
// itself when no bridge runs, and otherwise asks the running bridge through its loopback control
// endpoint: only the process holding the database can pin its files for a checkpoint, and a
// RocksDB secondary cannot.

#include <fcntl.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "../backup.hpp"
#include "../command.hpp"
#include "../control_client.hpp"
#include "../startup.hpp"
#include "mailtrixy/store/master_key.hpp"

namespace mailtrixy::app {
namespace {

constexpr std::string_view kUsage = "usage: mailtrixy backup --to DIR [--include-master-key] [--config PATH]";

bool master_key_from_environment() {
  const char* value = std::getenv(std::string(store::kMasterKeyEnvironmentVariable).c_str());
  return value != nullptr && *value != '\0';
}

// DIR must be new or empty, and outside data_dir (a backup inside what it backs up would be
// swept into the next one and lost with the disk it protects against).
Result<void> prepare_directory(const std::filesystem::path& to, const std::filesystem::path& data_dir) {
  std::error_code error;
  const auto target = std::filesystem::weakly_canonical(to, error);
  const auto data = std::filesystem::weakly_canonical(data_dir, error);
  if (!error) {
    auto [data_end, target_at] = std::mismatch(data.begin(), data.end(), target.begin(), target.end());
    if (data_end == data.end()) {
      return make_error(to.string() + " is inside data_dir (" + data_dir.string() +
                        "); choose a backup directory outside it, preferably on another disk");
    }
  }
  if (std::filesystem::exists(to, error)) {
    if (!std::filesystem::is_directory(to, error)) {
      return make_error(to.string() + " exists and is not a directory; choose a new or empty directory");
    }
    if (!std::filesystem::is_empty(to, error)) {
      return make_error(to.string() + " is not empty; back up into a new or empty directory");
    }
  } else {
    std::filesystem::create_directories(to, error);
    if (error) return make_error("cannot create " + to.string() + ": " + error.message());
  }
  if (::chmod(to.c_str(), 0700) != 0) {
    return make_error("cannot make " + to.string() + " private (chmod 700): " + std::strerror(errno));
  }
  return {};
}

Result<void> copy_master_key(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return make_error("cannot read the master key " + from.string());
  const std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("cannot create " + to.string() + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < key.size()) {
    const ssize_t n = ::write(fd, key.data() + written, key.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (written != key.size() || !synced) return make_error("cannot write " + to.string() + ": " + std::strerror(errno));
  return {};
}

int backup_through_bridge(const config::Settings& settings, const BackupRequest& request) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("to");
  writer.String(request.to.c_str());
  writer.Key("include_master_key");
  writer.Bool(request.include_master_key);
  writer.EndObject();
  // Flushing and linking is quick; copying across filesystems takes as long as the data needs.
  auto reply = call_running_bridge(settings, "/_control/backup", std::string(buffer.GetString(), buffer.GetSize()),
                                   std::chrono::minutes(30));
  if (!reply) return kRuntimeFailure;
  std::printf("%s\n", reply->field("result").c_str());
  return kSuccess;
}

}  // namespace

Result<std::string> write_backup(const store::Store& store, const config::Settings& settings,
                                 const BackupRequest& request) {
  if (!request.to.is_absolute()) return make_error("the backup directory must be an absolute path");
  const auto key_file = settings.data_dir / store::kMasterKeyFileName;
  if (request.include_master_key && master_key_from_environment()) {
    return make_error("--include-master-key: the master key comes from MAILTRIXY_MASTER_KEY, not from a file; "
                      "keep that value wherever you keep the variable and run the backup without the flag");
  }
  if (auto prepared = prepare_directory(request.to, settings.data_dir); !prepared) return prepared.error();
  if (auto copied = store.checkpoint(request.to / "db"); !copied) return copied.error();
  if (request.include_master_key) {
    if (auto copied = copy_master_key(key_file, request.to / store::kMasterKeyFileName); !copied) {
      return copied.error();
    }
  }
  if (request.include_master_key) {
    return "Backed up the database and the master key to " + request.to.string() +
           "; anyone who can read it can read every linked mailbox's tokens, so store it like the key itself.";
  }
  return "Backed up the database to " + request.to.string() + " (without the master key: " +
         (master_key_from_environment() ? std::string("keep MAILTRIXY_MASTER_KEY") : key_file.string()) +
         " is needed to restore it, so keep a copy of it somewhere safe and separate).";
}

int run_backup(const CommandContext& context) {
  BackupRequest request;
  std::string to;
  for (std::size_t i = 0; i < context.args.size(); ++i) {
    const std::string_view word = context.args[i];
    if (word == "--to") {
      if (i + 1 >= context.args.size()) {
        print_error("--to needs a directory, e.g. --to /var/backups/mailtrixy/2024-05-01");
        return kUsageError;
      }
      to = context.args[++i];
    } else if (word.starts_with("--to=")) {
      to = word.substr(5);
    } else if (word == "--include-master-key") {
      request.include_master_key = true;
    } else {
      print_error("unexpected argument '" + std::string(word) + "'; " + std::string(kUsage));
      return kUsageError;
    }
  }
  if (to.empty()) {
    print_error("backup needs --to DIR; " + std::string(kUsage));
    return kUsageError;
  }
  std::error_code error;
  request.to = std::filesystem::absolute(to, error);
  if (error) {
    print_error("cannot resolve the backup directory " + to + ": " + error.message());
    return kUsageError;
  }
  request.to = request.to.lexically_normal();
  if (request.to.filename().empty()) request.to = request.to.parent_path();

  auto settings = load_settings_or_report(context.config_path);
  if (!settings) return kUsageError;
  if (!database_exists(*settings)) {
    print_error("there is nothing to back up: " + settings->data_dir.string() +
                " holds no database yet (start `mailtrixy serve` once, or check data_dir)");
    return kRuntimeFailure;
  }
  if (!master_key_from_environment() && !std::filesystem::exists(settings->data_dir / store::kMasterKeyFileName, error)) {
    print_error("the master key " + (settings->data_dir / store::kMasterKeyFileName).string() +
                " is missing; set MAILTRIXY_MASTER_KEY or restore the file first");
    return kRuntimeFailure;
  }
  auto store = open_store(*settings);
  if (!store) {
    if (is_database_in_use(store.error())) return backup_through_bridge(*settings, request);
    print_error(store.error().message);
    return kRuntimeFailure;
  }
  auto written = write_backup(**store, *settings, request);
  if (!written) {
    print_error(written.error().message);
    return kRuntimeFailure;
  }
  std::printf("%s\n", written->c_str());
  return kSuccess;
}

}  // namespace mailtrixy::app
