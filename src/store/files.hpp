#pragma once
// Internal: small POSIX file helpers shared by the master key and the database.

#include <filesystem>
#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::store::detail {

// Makes sure `directory` exists; when creating it (and missing parents), the last component
// gets mode 0700. An existing directory is kept as is, with a warning in the log when group or
// others can access it. `what` names the directory in messages ("data directory").
Result<void> ensure_private_directory(const std::filesystem::path& directory, std::string_view what);

// fsync() of a directory, so that a rename or link inside it survives a power loss.
Result<void> sync_directory(const std::filesystem::path& directory);

// "errno text" for the current errno.
std::string errno_text();

// A record key made safe for an error message: printable ASCII kept, other bytes as \xNN,
// long keys shortened.
std::string printable_key(std::string_view key);

}  // namespace mailtrixy::store::detail
