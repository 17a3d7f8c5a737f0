// Store::checkpoint: a consistent copy that opens as a database of its own.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "mailtrixy/store/store.hpp"
#include "test_support.hpp"

namespace mailtrixy::store {
namespace {

using testing::TempDir;

unsigned mode_of(const std::filesystem::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 0777;
}

class CheckpointTest : public ::testing::Test {
 protected:
  TempDir temp;
  std::filesystem::path data_dir = temp.path() / "data";
  crypto::Key key = crypto::Key::generate();

  std::unique_ptr<Store> open(const std::filesystem::path& dir, bool read_only = false) {
    auto store = Store::open(testing::options_for(dir, key, read_only));
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(store).value() : nullptr;
  }
};

TEST_F(CheckpointTest, CopyOpensWithTheSameKeyAndHoldsEveryFamily) {
  auto store = open(data_dir);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put(Family::accounts, "a1", "alice").ok());
  ASSERT_TRUE(store->put_encrypted(Family::tokens, "a1", "refresh-token").ok());
  ASSERT_TRUE(store->put(Family::outbox, "q1", "queued").ok());

  const auto backup = temp.path() / "backup";
  std::filesystem::create_directory(backup);
  auto written = store->checkpoint(backup / "db");
  ASSERT_TRUE(written.ok()) << written.error().message;
  // Written after the checkpoint: must not be in the copy.
  ASSERT_TRUE(store->put(Family::accounts, "a2", "bob").ok());
  store.reset();

  EXPECT_EQ(mode_of(backup / "db"), 0700u);
  for (const auto& entry : std::filesystem::directory_iterator(backup / "db")) {
    if (entry.is_regular_file()) {
      EXPECT_EQ(mode_of(entry.path()), 0600u) << entry.path();
    }
  }

  auto restored = open(backup);  // backup/db is where a data_dir keeps its database
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->get(Family::accounts, "a1").value(), std::optional<std::string>("alice"));
  EXPECT_EQ(restored->get_encrypted(Family::tokens, "a1").value(), std::optional<std::string>("refresh-token"));
  EXPECT_EQ(restored->get(Family::outbox, "q1").value(), std::optional<std::string>("queued"));
  EXPECT_EQ(restored->get(Family::accounts, "a2").value(), std::nullopt);
}

TEST_F(CheckpointTest, CopyWithAnotherKeyIsRefused) {
  auto store = open(data_dir);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->checkpoint(temp.path() / "db").ok());
  store.reset();
  auto other = Store::open(testing::options_for(temp.path(), crypto::Key::generate()));
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("master key does not match"), std::string::npos) << other.error().message;
}

TEST_F(CheckpointTest, ExistingDestinationIsRefused) {
  auto store = open(data_dir);
  ASSERT_TRUE(store);
  std::filesystem::create_directory(temp.path() / "taken");
  auto written = store->checkpoint(temp.path() / "taken");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message.find("already exists"), std::string::npos) << written.error().message;
}

TEST_F(CheckpointTest, ReadOnlyStoreRefuses) {
  { ASSERT_TRUE(open(data_dir)); }
  auto reader = open(data_dir, true);
  ASSERT_TRUE(reader);
  auto written = reader->checkpoint(temp.path() / "copy");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message.find("read-only"), std::string::npos) << written.error().message;
  EXPECT_FALSE(std::filesystem::exists(temp.path() / "copy"));
}

TEST_F(CheckpointTest, BatchesWrittenDuringTheCheckpointAreWhollyInOrOut) {
  auto store = open(data_dir);
  ASSERT_TRUE(store);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      WriteBatch batch = store->batch();
      batch.put(Family::uids, "k" + std::to_string(i), "x");
      batch.put(Family::messages, "k" + std::to_string(i), "y");
      ASSERT_TRUE(store->write(batch, false).ok());
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto written = store->checkpoint(temp.path() / "db");
  stop = true;
  writer.join();
  ASSERT_TRUE(written.ok()) << written.error().message;
  store.reset();

  auto restored = open(temp.path());
  ASSERT_TRUE(restored);
  std::size_t uids = 0;
  std::size_t messages = 0;
  ASSERT_TRUE(restored->for_each_prefix(Family::uids, "", [&](auto, auto) { return ++uids, true; }).ok());
  ASSERT_TRUE(restored->for_each_prefix(Family::messages, "", [&](auto, auto) { return ++messages, true; }).ok());
  EXPECT_GT(uids, 0u);
  EXPECT_EQ(uids, messages);
}

}  // namespace
}  // namespace mailtrixy::store
