#include "mailtrixy/store/master_key.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/random.hpp"
#include "test_support.hpp"

namespace mailtrixy::store {
namespace {

using testing::read_file;
using testing::TempDir;

void write_file(const std::filesystem::path& path, std::string_view bytes, unsigned mode) {
  std::ofstream(path, std::ios::binary) << bytes;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

TEST(StoreMasterKey, CreatesAPrivateKeyFileAndDirectory) {
  TempDir temp;
  const auto data_dir = temp.path() / "nested" / "data";
  const auto key = load_or_create_master_key(data_dir, nullptr);
  ASSERT_TRUE(key.ok()) << key.error().message;
  const auto path = data_dir / "master.key";
  EXPECT_EQ(read_file(path), key->reveal());
  EXPECT_EQ(testing::file_mode(path), 0600u);
  EXPECT_EQ(testing::file_mode(data_dir), 0700u);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(data_dir), std::filesystem::directory_iterator()), 1);
}

TEST(StoreMasterKey, CreatesTheFile0600WhateverTheUmask) {
  TempDir temp;
  const mode_t previous = ::umask(0377);
  const auto key = load_or_create_master_key(temp.path() / "data", nullptr);
  ::umask(previous);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(testing::file_mode(temp.path() / "data" / "master.key"), 0600u);
  EXPECT_EQ(testing::file_mode(temp.path() / "data"), 0700u);
}

TEST(StoreMasterKey, ReusesTheExistingKey) {
  TempDir temp;
  const auto first = load_or_create_master_key(temp.path(), nullptr);
  ASSERT_TRUE(first.ok());
  const std::string bytes = read_file(temp.path() / "master.key");
  const auto second = load_or_create_master_key(temp.path(), nullptr);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(*first == *second);
  EXPECT_EQ(read_file(temp.path() / "master.key"), bytes);
}

TEST(StoreMasterKey, AcceptsAnOwnerReadOnlyFile) {
  TempDir temp;
  const std::string bytes = crypto::random_bytes(32);
  write_file(temp.path() / "master.key", bytes, 0400);
  const auto key = load_or_create_master_key(temp.path(), nullptr);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->reveal(), bytes);
}

TEST(StoreMasterKey, EnvironmentWinsAndTouchesNoFile) {
  TempDir temp;
  const std::string bytes = crypto::random_bytes(32);
  const std::string encoded = crypto::base64_encode(bytes);
  const auto data_dir = temp.path() / "data";
  const auto key = load_or_create_master_key(data_dir, encoded.c_str());
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->reveal(), bytes);
  EXPECT_FALSE(std::filesystem::exists(data_dir));

  // Also over an existing file, and with the newline `openssl rand -base64 32` prints.
  ASSERT_TRUE(load_or_create_master_key(data_dir, nullptr).ok());
  const auto again = load_or_create_master_key(data_dir, (" " + encoded + "\n").c_str());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->reveal(), bytes);
}

TEST(StoreMasterKey, EmptyEnvironmentValueCountsAsUnset) {
  TempDir temp;
  const auto key = load_or_create_master_key(temp.path(), "  ");
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(read_file(temp.path() / "master.key"), key->reveal());
}

TEST(StoreMasterKey, BadEnvironmentValuesAreClearErrors) {
  TempDir temp;
  const auto not_base64 = load_or_create_master_key(temp.path(), "not base64!");
  ASSERT_FALSE(not_base64.ok());
  EXPECT_NE(not_base64.error().message.find("MAILTRIXY_MASTER_KEY is not valid base64"), std::string::npos)
      << not_base64.error().message;
  EXPECT_NE(not_base64.error().message.find("openssl rand -base64 32"), std::string::npos);

  const std::string short_key = crypto::base64_encode(crypto::random_bytes(16));
  const auto too_short = load_or_create_master_key(temp.path(), short_key.c_str());
  ASSERT_FALSE(too_short.ok());
  EXPECT_NE(too_short.error().message.find("MAILTRIXY_MASTER_KEY decodes to 16 bytes"), std::string::npos)
      << too_short.error().message;

  const std::string long_key = crypto::base64_encode(crypto::random_bytes(33));
  EXPECT_FALSE(load_or_create_master_key(temp.path(), long_key.c_str()).ok());
  // A bad environment value never falls back to creating a file.
  EXPECT_FALSE(std::filesystem::exists(temp.path() / "master.key"));
}

TEST(StoreMasterKey, RefusesAFileOthersCanRead) {
  TempDir temp;
  const auto path = temp.path() / "master.key";
  for (const unsigned mode : {0644u, 0640u, 0604u, 0660u}) {
    write_file(path, crypto::random_bytes(32), mode);
    const auto key = load_or_create_master_key(temp.path(), nullptr);
    ASSERT_FALSE(key.ok()) << std::oct << mode;
    EXPECT_NE(key.error().message.find("run `chmod 600 " + path.string() + "`"), std::string::npos)
        << key.error().message;
  }
}

TEST(StoreMasterKey, RefusesAKeyFileOfTheWrongSize) {
  TempDir temp;
  const auto path = temp.path() / "master.key";
  for (const std::size_t size : {0, 31, 33, 44}) {
    const std::string bytes = crypto::random_bytes(size);
    write_file(path, bytes, 0600);
    const auto key = load_or_create_master_key(temp.path(), nullptr);
    ASSERT_FALSE(key.ok()) << size;
    EXPECT_NE(key.error().message.find("must hold exactly 32"), std::string::npos) << key.error().message;
    // Never overwritten.
    EXPECT_EQ(read_file(path), bytes);
  }
}

TEST(StoreMasterKey, RefusesADirectoryInPlaceOfTheKeyFile) {
  TempDir temp;
  std::filesystem::create_directory(temp.path() / "master.key");
  ::chmod((temp.path() / "master.key").c_str(), 0700);
  const auto key = load_or_create_master_key(temp.path(), nullptr);
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("not a regular file"), std::string::npos) << key.error().message;
}

TEST(StoreMasterKey, ConcurrentFirstStartsAgreeOnOneKey) {
  TempDir temp;
  const auto data_dir = temp.path() / "data";
  std::vector<std::optional<crypto::Key>> keys(8);
  std::vector<std::thread> threads;
  for (auto& slot : keys) {
    threads.emplace_back([&data_dir, &slot] {
      auto key = load_or_create_master_key(data_dir, nullptr);
      if (key.ok()) slot.emplace(std::move(key).value());
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& key : keys) {
    ASSERT_TRUE(key.has_value());
    EXPECT_TRUE(*key == *keys.front());
  }
  EXPECT_EQ(read_file(data_dir / "master.key"), keys.front()->reveal());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(data_dir), std::filesystem::directory_iterator()), 1);
}

}  // namespace
}  // namespace mailtrixy::store
