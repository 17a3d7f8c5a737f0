// Read-only access (RocksDB secondary instances) next to a running writer.

#include <gtest/gtest.h>

#include "mailtrixy/store/store.hpp"
#include "test_support.hpp"

namespace mailtrixy::store {
namespace {

using testing::TempDir;

class StoreReadOnly : public ::testing::Test {
 protected:
  TempDir temp;
  std::filesystem::path data_dir = temp.path() / "data";
  crypto::Key key = crypto::Key::generate();

  Result<std::unique_ptr<Store>> open(bool read_only, std::vector<Migration> migrations = {}) {
    OpenOptions options = testing::options_for(data_dir, key, read_only);
    options.migrations = std::move(migrations);
    return Store::open(options);
  }
};

TEST_F(StoreReadOnly, MissingDatabaseIsAClearErrorAndNothingIsCreated) {
  const auto store = open(true);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("there is no database in"), std::string::npos)
      << store.error().message;
  EXPECT_FALSE(std::filesystem::exists(data_dir));
}

TEST_F(StoreReadOnly, ReadsWhileAWriterIsOpenAndCatchesUp) {
  auto writer = open(false);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  ASSERT_TRUE((*writer)->put(Family::accounts, "a", "alice").ok());
  ASSERT_TRUE((*writer)->put_encrypted(Family::tokens, "a", "token").ok());

  auto reader = open(true);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_TRUE((*reader)->read_only());
  EXPECT_EQ((*reader)->get(Family::accounts, "a").value(), "alice");
  EXPECT_EQ((*reader)->get_encrypted(Family::tokens, "a").value(), "token");

  // The writer carries on; the reader sees it after refresh().
  WriteBatch batch = (*writer)->batch();
  batch.put(Family::accounts, "b", "bob");
  batch.put_encrypted(Family::tokens, "b", "bob's token");
  ASSERT_TRUE((*writer)->write(batch, true).ok());
  ASSERT_TRUE((*reader)->refresh().ok());
  EXPECT_EQ((*reader)->get(Family::accounts, "b").value(), "bob");
  EXPECT_EQ((*reader)->get_encrypted(Family::tokens, "b").value(), "bob's token");

  // Also after the writer flushed its memtables to table files.
  ASSERT_TRUE((*writer)->put(Family::accounts, "c", "carol").ok());
  ASSERT_TRUE((*writer)->flush().ok());
  ASSERT_TRUE((*reader)->refresh().ok());
  EXPECT_EQ((*reader)->get(Family::accounts, "c").value(), "carol");
  EXPECT_EQ(testing::contents(**reader), testing::contents(**writer));
}

TEST_F(StoreReadOnly, RefusesEveryWrite) {
  { ASSERT_TRUE(open(false).ok()); }
  auto reader = open(true);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  Store& store = **reader;
  for (const auto& result : {store.put(Family::accounts, "a", "b"), store.del(Family::accounts, "a"),
                             store.put_encrypted(Family::tokens, "a", "b")}) {
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("read-only"), std::string::npos) << result.error().message;
  }
  WriteBatch batch = store.batch();
  batch.put(Family::accounts, "a", "b");
  EXPECT_FALSE(store.write(batch, true).ok());
  EXPECT_TRUE(store.flush().ok());
}

TEST_F(StoreReadOnly, CreatesNothingInTheDataDirectory) {
  { ASSERT_TRUE(open(false).ok()); }
  const testing::RawState before = testing::raw_state(data_dir);
  std::vector<std::filesystem::path> files_before;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_dir)) files_before.push_back(entry.path());
  {
    auto reader = open(true);
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    EXPECT_EQ((*reader)->get(Family::meta, "schema_version").value(), "0");
  }
  std::vector<std::filesystem::path> files_after;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_dir)) files_after.push_back(entry.path());
  std::sort(files_before.begin(), files_before.end());
  std::sort(files_after.begin(), files_after.end());
  EXPECT_EQ(files_after, files_before);
  EXPECT_EQ(testing::raw_state(data_dir), before);
}

TEST_F(StoreReadOnly, RefusesADatabaseThatNeedsMigrating) {
  { ASSERT_TRUE(open(false).ok()); }
  const Migration step{0, 1, "step", [](Store&, WriteBatch&) -> Result<void> { return {}; }};
  const auto reader = open(true, {step});
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().message.find("start `mailtrixy serve` once to upgrade it"), std::string::npos)
      << reader.error().message;
}

}  // namespace
}  // namespace mailtrixy::store
