#pragma once
// Small file-system checks shared by the loader (reading client_secret_file) and the diagnoses
// (certificates, CA bundle, data_dir). Messages are complete sentences naming the path.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::config::detail {

// The whole content of a regular file of at most `max_bytes`; `what` names it in errors
// ("the certificate", "the client secret file").
Result<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes,
                                    const std::string& what);

// nullopt when `directory` exists and this process may create files in it, or when it does not
// exist and could be created (its nearest existing ancestor is a writable directory); otherwise
// why not.
std::optional<std::string> writable_directory_problem(const std::filesystem::path& directory);

}  // namespace mailtrixy::config::detail
