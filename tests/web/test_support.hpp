#pragma once
// Helpers shared by the web module's tests: a temporary directory and an open store in it.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "mailtrixy/crypto/aead.hpp"
#include "mailtrixy/store/store.hpp"

namespace mailtrixy::web::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mailtrixy-web-test-XXXXXX").string();
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

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<store::Store> open_store(const std::filesystem::path& data_dir,
                                                const crypto::Key& key = crypto::Key::generate()) {
  auto opened = store::Store::open(store::OpenOptions{data_dir, key, false, {}});
  if (!opened) throw std::runtime_error(opened.error().message);
  return std::move(opened).value();
}

}  // namespace mailtrixy::web::testing
