#pragma once
// A fresh directory under the system temp dir for one test, removed with everything in it when
// the object goes out of scope. Shared by the unit tests of every module.

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace mailtrixy::testing {

class TempDir {
 public:
  // `prefix` names the directory (prefix-XXXXXX) so a leftover one tells which tests made it.
  explicit TempDir(std::string_view prefix = "mailtrixy-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace mailtrixy::testing
