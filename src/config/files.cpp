#include "files.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

namespace mailtrixy::config::detail {

Result<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes,
                                    const std::string& what) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    return make_error(what + " " + path.string() + " does not exist");
  }
  if (!std::filesystem::is_regular_file(status)) {
    return make_error(what + " " + path.string() + " is not a regular file");
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return make_error("cannot read " + what + " " + path.string() + ": " + std::strerror(errno));
  std::string content;
  char buffer[8192];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    content.append(buffer, got);
    if (content.size() > max_bytes) {
      return make_error(what + " " + path.string() + " is larger than " + std::to_string(max_bytes / 1024) +
                        " KiB, which is not what it should be");
    }
  }
  if (std::ferror(file.get()) != 0) {
    return make_error("cannot read " + what + " " + path.string() + ": " + std::strerror(errno));
  }
  return content;
}

std::optional<std::string> writable_directory_problem(const std::filesystem::path& directory) {
  std::error_code ec;
  const auto status = std::filesystem::status(directory, ec);
  if (std::filesystem::exists(status)) {
    if (!std::filesystem::is_directory(status)) return directory.string() + " exists but is not a directory";
    if (::access(directory.c_str(), W_OK | X_OK) != 0) {
      return directory.string() + " is not writable by this user (" + std::strerror(errno) + ")";
    }
    return std::nullopt;
  }

  std::filesystem::path ancestor = directory.parent_path();
  while (!ancestor.empty() && !std::filesystem::exists(ancestor, ec) && ancestor != ancestor.parent_path()) {
    ancestor = ancestor.parent_path();
  }
  if (ancestor.empty()) ancestor = ".";
  if (!std::filesystem::is_directory(ancestor, ec)) {
    return directory.string() + " cannot be created because " + ancestor.string() + " is not a directory";
  }
  if (::access(ancestor.c_str(), W_OK | X_OK) != 0) {
    return directory.string() + " does not exist and cannot be created, because " + ancestor.string() +
           " is not writable by this user (" + std::strerror(errno) + ")";
  }
  return std::nullopt;
}

}  // namespace mailtrixy::config::detail
