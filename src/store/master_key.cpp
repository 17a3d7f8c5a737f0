#include "mailtrixy/store/master_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>

#include "files.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::store {
namespace {

// Wipes a string holding key material when it goes out of scope.
class WipedString {
 public:
  explicit WipedString(std::string value) : value_(std::move(value)) {}
  WipedString(const WipedString&) = delete;
  WipedString& operator=(const WipedString&) = delete;
  ~WipedString() { OPENSSL_cleanse(value_.data(), value_.size()); }
  const std::string& get() const { return value_; }

 private:
  std::string value_;
};

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

Result<crypto::Key> key_from_environment(std::string_view value) {
  const std::string name(kMasterKeyEnvironmentVariable);
  auto decoded = crypto::base64_decode(value);
  if (!decoded) {
    return make_error(name + " is not valid base64 (" + decoded.error().message +
                      "); set it to the base64 of 32 random bytes, e.g. the output of "
                      "`openssl rand -base64 32`");
  }
  const WipedString bytes(std::move(decoded).value());
  if (bytes.get().size() != crypto::Key::kSize) {
    return make_error(name + " decodes to " + std::to_string(bytes.get().size()) +
                      " bytes but must be the base64 of exactly 32 bytes, e.g. the output of "
                      "`openssl rand -base64 32`");
  }
  return crypto::Key::from_bytes(bytes.get());
}

// Outcome of looking for the key file: a key, "no such file", or an error.
struct FileLookup {
  std::optional<crypto::Key> key;
  std::optional<Error> error;
};

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777u));
  return text;
}

FileLookup read_key_file(const std::filesystem::path& path) {
  // Symbolic links are followed on purpose: secret stores often mount keys that way.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    return {std::nullopt, make_error("cannot read the master key file " + path.string() + ": " +
                                     detail::errno_text() + "; check its owner and permissions")};
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return {std::nullopt, make_error("the master key file " + path.string() +
                                     " is not a regular file; it must hold exactly 32 random bytes")};
  }
  if ((info.st_mode & 0077) != 0) {
    ::close(fd);
    return {std::nullopt,
            make_error("the master key file " + path.string() + " is accessible by other users (mode " +
                       mode_text(info.st_mode) + "); run `chmod 600 " + path.string() + "`")};
  }
  // One byte more than a key, to notice a file that is too long.
  std::string buffer(crypto::Key::kSize + 1, '\0');
  std::size_t length = 0;
  while (length < buffer.size()) {
    const ssize_t got = ::read(fd, buffer.data() + length, buffer.size() - length);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const std::string failure = detail::errno_text();
      ::close(fd);
      OPENSSL_cleanse(buffer.data(), buffer.size());
      return {std::nullopt, make_error("cannot read the master key file " + path.string() + ": " + failure)};
    }
    if (got == 0) break;
    length += static_cast<std::size_t>(got);
  }
  ::close(fd);
  const WipedString bytes(std::move(buffer));
  if (length != crypto::Key::kSize) {
    const std::string size = length > crypto::Key::kSize ? "more than 32" : std::to_string(length);
    return {std::nullopt,
            make_error("the master key file " + path.string() + " holds " + size +
                       " bytes but must hold exactly 32; restore the original file from a backup")};
  }
  auto key = crypto::Key::from_bytes(std::string_view(bytes.get()).substr(0, length));
  return {std::move(key).value(), std::nullopt};
}

// Writes a new key under a temporary name and links it into place. link() fails if the target
// exists, unlike rename(), so a key file written by a concurrent process is never replaced.
// Returns nullopt (and no error) when such a file appeared in the meantime.
Result<std::optional<crypto::Key>> create_key_file(const std::filesystem::path& data_dir,
                                                   const std::filesystem::path& path) {
  const std::filesystem::path temporary =
      data_dir / (std::string(kMasterKeyFileName) + ".tmp-" + std::to_string(::getpid()) + "-" +
                  crypto::random_token(6));
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return make_error("cannot create the master key file in " + data_dir.string() + ": " +
                      detail::errno_text() + "; check that the data directory is writable");
  }
  const crypto::Key key = crypto::Key::generate();
  const auto fail = [&](std::string what) -> Error {
    const std::string failure = detail::errno_text();
    ::close(fd);
    ::unlink(temporary.c_str());
    return make_error("cannot " + what + " the new master key file " + temporary.string() + ": " +
                      failure);
  };
  // The umask may have narrowed the mode; make it exactly owner read/write.
  if (::fchmod(fd, 0600) != 0) return fail("set the mode of");
  std::string_view remaining = key.reveal();
  while (!remaining.empty()) {
    const ssize_t written = ::write(fd, remaining.data(), remaining.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return fail("write");
    remaining.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::fsync(fd) != 0) return fail("sync");
  if (::close(fd) != 0) {
    const std::string failure = detail::errno_text();
    ::unlink(temporary.c_str());
    return make_error("cannot write the new master key file " + temporary.string() + ": " + failure);
  }
  if (::link(temporary.c_str(), path.c_str()) != 0) {
    const int link_errno = errno;
    const std::string failure = detail::errno_text();
    ::unlink(temporary.c_str());
    if (link_errno == EEXIST) return std::optional<crypto::Key>();
    return make_error("cannot put the new master key file in place at " + path.string() + ": " +
                      failure);
  }
  ::unlink(temporary.c_str());
  if (auto synced = detail::sync_directory(data_dir); !synced) return synced.error();
  return std::optional<crypto::Key>(key);
}

}  // namespace

Result<crypto::Key> load_or_create_master_key(const std::filesystem::path& data_dir,
                                              const char* environment_value) {
  if (environment_value != nullptr) {
    const std::string_view value = trim(environment_value);
    if (!value.empty()) return key_from_environment(value);
  }
  if (data_dir.empty()) {
    return make_error("no data directory is configured for the master key; set data_dir");
  }
  const std::filesystem::path path = data_dir / kMasterKeyFileName;
  FileLookup existing = read_key_file(path);
  if (existing.error) return *existing.error;
  if (existing.key) return std::move(*existing.key);

  if (auto made = detail::ensure_private_directory(data_dir, "data directory"); !made) {
    return made.error();
  }
  auto created = create_key_file(data_dir, path);
  if (!created) return created.error();
  if (created->has_value()) {
    log::warn("created a new master key; back it up, without it the database's secrets are lost",
              {{"path", path.string()}});
    return std::move(**created);
  }
  // Another process created the key file first: use theirs.
  existing = read_key_file(path);
  if (existing.error) return *existing.error;
  if (existing.key) return std::move(*existing.key);
  return make_error("the master key file " + path.string() +
                    " appeared and vanished while starting; check what else manages data_dir");
}

}  // namespace mailtrixy::store
