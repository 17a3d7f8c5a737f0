#pragma once
// Backups of a bridge's data_dir (docs/operations.md, "Backups and restore"): a consistent
// RocksDB checkpoint of the store, and the master key only when asked for.
//
// Layout of a backup directory, the same as data_dir's, so restoring is "stop, put these in
// data_dir, start":
//     DIR/db/          a complete RocksDB database (Store::checkpoint)
//     DIR/master.key   only with include_master_key
// DIR is created with mode 0700 (an existing DIR must be empty), files are 0600.
//
// Why the key is left out by default: every secret in the database (refresh tokens, the client
// secret, cached bodies) is sealed with it, so a backup that carries its key is as good as
// plaintext to whoever gets hold of it. Keep the key elsewhere (a password manager, a vault),
// or ask for it explicitly when the backup itself is stored as safely as the key.

#include <filesystem>
#include <string>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/config/settings.hpp"
#include "mailtrixy/store/store.hpp"

namespace mailtrixy::app {

struct BackupRequest {
  std::filesystem::path to;  // absolute
  bool include_master_key = false;
};

// Writes the backup from a read-write store (the running bridge's, through the control endpoint,
// or the CLI's own when no bridge runs). Returns one sentence for the operator.
Result<std::string> write_backup(const store::Store& store, const config::Settings& settings,
                                 const BackupRequest& request);

}  // namespace mailtrixy::app
