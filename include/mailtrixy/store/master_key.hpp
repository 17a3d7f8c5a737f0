#pragma once
// The master key: the 256-bit key every encrypted record in the store is sealed with.
//
// Sources, first match wins:
//  1. The environment variable MAILTRIXY_MASTER_KEY: base64 (standard alphabet, padded, e.g.
//     the output of `openssl rand -base64 32`) of exactly 32 bytes; surrounding whitespace is
//     ignored and an empty value counts as unset. Nothing is read from or written to disk.
//  2. The file data_dir/master.key: exactly 32 raw bytes, not accessible to group or others
//     (mode 0600 or 0400). A wider mode is an error asking for `chmod 600`, not a warning: the
//     key is the only thing standing between a copied database and every mailbox's tokens.
//  3. Neither: a new random key is created in data_dir/master.key (data_dir is created with mode
//     0700 if missing). The file is written under a temporary name with O_EXCL and mode 0600,
//     fsynced, then linked into place, so a crash never leaves a partial key file and an existing
//     key file is never overwritten, even when two processes start at once.
//
// Losing the key makes the database's secrets unreadable; the creation is logged with a reminder
// to back the file up. The key itself is never logged.

#include <filesystem>
#include <string_view>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/crypto/aead.hpp"

namespace mailtrixy::store {

inline constexpr std::string_view kMasterKeyEnvironmentVariable = "MAILTRIXY_MASTER_KEY";
inline constexpr std::string_view kMasterKeyFileName = "master.key";

// `environment_value` is the value of MAILTRIXY_MASTER_KEY, or nullptr when it is not set
// (callers pass std::getenv(...); tests pass their own).
Result<crypto::Key> load_or_create_master_key(const std::filesystem::path& data_dir,
                                              const char* environment_value);

}  // namespace mailtrixy::store
