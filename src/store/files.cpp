#include "files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "mailtrixy/base/log.hpp"

namespace mailtrixy::store::detail {

std::string errno_text() { return std::strerror(errno); }

Result<void> ensure_private_directory(const std::filesystem::path& directory, std::string_view what) {
  struct stat info {};
  if (::stat(directory.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) {
      return make_error("the " + std::string(what) + " " + directory.string() +
                        " exists but is not a directory; remove it or choose another data_dir");
    }
    if ((info.st_mode & 0077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", info.st_mode & 07777u);
      log::warn("directory is accessible by other users; run chmod 700 on it",
                {{"directory", directory.string()}, {"mode", mode}});
    }
    return {};
  }
  if (errno != ENOENT) {
    return make_error("cannot access the " + std::string(what) + " " + directory.string() + ": " +
                      errno_text());
  }
  const std::filesystem::path parent = directory.parent_path();
  std::error_code error;
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) {
    return make_error("cannot create " + parent.string() + " for the " + std::string(what) + ": " +
                      error.message() + "; check the path and its permissions");
  }
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error("cannot create the " + std::string(what) + " " + directory.string() + ": " +
                      errno_text() + "; check that its parent is writable");
  }
  // mkdir applies the umask; make the mode exactly 0700 whatever the umask was.
  if (::chmod(directory.c_str(), 0700) != 0) {
    return make_error("cannot set mode 0700 on the " + std::string(what) + " " + directory.string() +
                      ": " + errno_text());
  }
  return {};
}

Result<void> sync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open " + directory.string() + " to sync it: " + errno_text());
  const int status = ::fsync(fd);
  const std::string failure = status != 0 ? errno_text() : std::string();
  ::close(fd);
  if (status != 0) return make_error("cannot sync " + directory.string() + ": " + failure);
  return {};
}

std::string printable_key(std::string_view key) {
  constexpr std::size_t kMaxShown = 80;
  std::string out;
  for (std::size_t i = 0; i < key.size() && i < kMaxShown; ++i) {
    const auto byte = static_cast<unsigned char>(key[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\' && byte != '"') {
      out += static_cast<char>(byte);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    }
  }
  if (key.size() > kMaxShown) out += "...";
  return out;
}

}  // namespace mailtrixy::store::detail
