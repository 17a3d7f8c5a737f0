#pragma once
// Helpers shared by the web module's tests: a temporary directory and an open store in it.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "mailtrixy/crypto/aead.hpp"
#include "mailtrixy/store/store.hpp"

#include "support/temp_dir.hpp"

namespace mailtrixy::web::testing {

// Each module's temp directories carry its name.
class TempDir : public mailtrixy::testing::TempDir {
 public:
  TempDir() : mailtrixy::testing::TempDir("mailtrixy-web-test") {}
};

inline std::unique_ptr<store::Store> open_store(const std::filesystem::path& data_dir,
                                                const crypto::Key& key = crypto::Key::generate()) {
  auto opened = store::Store::open(store::OpenOptions{data_dir, key, false, {}});
  if (!opened) throw std::runtime_error(opened.error().message);
  return std::move(opened).value();
}

}  // namespace mailtrixy::web::testing
