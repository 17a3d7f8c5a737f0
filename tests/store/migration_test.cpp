// Schema versions and the migration chain run by Store::open.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>

#include "mailtrixy/store/store.hpp"
#include "test_support.hpp"

namespace mailtrixy::store {
namespace {

using testing::TempDir;

class StoreMigration : public ::testing::Test {
 protected:
  TempDir temp;
  std::filesystem::path data_dir = temp.path() / "data";
  crypto::Key key = crypto::Key::generate();
  int runs_0_1 = 0;
  int runs_1_2 = 0;

  // v0 -> v1 seeds a setting; v1 -> v2 upper-cases every account record, reading through the
  // store and writing through the batch.
  Migration seed() {
    return {0, 1, "seed settings", [this](Store&, WriteBatch& batch) -> Result<void> {
              ++runs_0_1;
              batch.put(Family::settings, "greeting", "hello");
              return {};
            }};
  }
  Migration upper_case_accounts() {
    return {1, 2, "upper-case accounts", [this](Store& store, WriteBatch& batch) -> Result<void> {
              ++runs_1_2;
              return store.for_each_prefix(Family::accounts, "", [&](std::string_view k, std::string_view v) {
                std::string upper(v);
                std::transform(upper.begin(), upper.end(), upper.begin(),
                               [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
                batch.put(Family::accounts, k, upper);
                return true;
              });
            }};
  }

  Result<std::unique_ptr<Store>> open(std::vector<Migration> migrations, bool read_only = false) {
    OpenOptions options = testing::options_for(data_dir, key, read_only);
    options.migrations = std::move(migrations);
    return Store::open(options);
  }
};

TEST_F(StoreMigration, NewDatabaseWithoutMigrationsIsAtVersionZero) {
  auto store = open({});
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ((*store)->schema_version(), 0u);
  EXPECT_EQ((*store)->get(Family::meta, "schema_version").value(), "0");
}

TEST_F(StoreMigration, AppliesOnceAndBumpsTheVersion) {
  {
    auto store = open({seed()});
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ((*store)->schema_version(), 1u);
    EXPECT_EQ((*store)->get(Family::settings, "greeting").value(), "hello");
    EXPECT_EQ((*store)->get(Family::meta, "schema_version").value(), "1");
    ASSERT_TRUE((*store)->put(Family::settings, "greeting", "changed by the user").ok());
    ASSERT_TRUE((*store)->put(Family::accounts, "a", "alice@example.com").ok());
  }
  {
    auto store = open({seed()});
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ(runs_0_1, 1);
    EXPECT_EQ((*store)->get(Family::settings, "greeting").value(), "changed by the user");
  }
  {
    auto store = open({seed(), upper_case_accounts()});
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ(runs_0_1, 1);
    EXPECT_EQ(runs_1_2, 1);
    EXPECT_EQ((*store)->schema_version(), 2u);
    EXPECT_EQ((*store)->get(Family::accounts, "a").value(), "ALICE@EXAMPLE.COM");
  }
  {
    // Listed out of order: the chain is followed by version, not by position.
    auto store = open({upper_case_accounts(), seed()});
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ(runs_1_2, 1);
  }
}

TEST_F(StoreMigration, NewDatabaseRunsTheWholeChain) {
  auto store = open({upper_case_accounts(), seed()});
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ(runs_0_1, 1);
  EXPECT_EQ(runs_1_2, 1);
  EXPECT_EQ((*store)->schema_version(), 2u);
}

TEST_F(StoreMigration, NewerDatabaseIsRefusedWithoutWriting) {
  { ASSERT_TRUE(open({seed(), upper_case_accounts()}).ok()); }
  const testing::RawState before = testing::raw_state(data_dir);
  const auto store = open({seed()});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("has schema version 2, newer than this build understands (1)"),
            std::string::npos)
      << store.error().message;
  EXPECT_EQ(testing::raw_state(data_dir), before);
  const auto no_migrations = open({});
  ASSERT_FALSE(no_migrations.ok());
  EXPECT_EQ(testing::raw_state(data_dir), before);
}

TEST_F(StoreMigration, FailedStepLeavesThePreviousVersion) {
  const Migration failing{1, 2, "always fails", [](Store&, WriteBatch& batch) -> Result<void> {
                            batch.put(Family::settings, "half", "done");
                            return make_error("disk full of nonsense");
                          }};
  const auto store = open({seed(), failing});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("schema migration 1 -> 2 (always fails) failed: disk full of nonsense"),
            std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("stays at version 1"), std::string::npos);

  auto reopened = open({seed()});
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ((*reopened)->schema_version(), 1u);
  EXPECT_EQ(runs_0_1, 1);
  EXPECT_FALSE((*reopened)->get(Family::settings, "half").value().has_value());
}

TEST_F(StoreMigration, GapInTheChainIsRefusedBeforeAnyWrite) {
  { ASSERT_TRUE(open({seed()}).ok()); }
  const testing::RawState before = testing::raw_state(data_dir);
  const Migration from_two{2, 3, "needs v2", [](Store&, WriteBatch&) -> Result<void> { return {}; }};
  const auto store = open({seed(), from_two});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("no migration from version 1 towards 3"), std::string::npos)
      << store.error().message;
  EXPECT_EQ(testing::raw_state(data_dir), before);
}

TEST_F(StoreMigration, MalformedMigrationListsAreRefused) {
  const auto noop = [](Store&, WriteBatch&) -> Result<void> { return {}; };
  EXPECT_FALSE(open({Migration{1, 1, "same", noop}}).ok());
  EXPECT_FALSE(open({Migration{2, 1, "down", noop}}).ok());
  EXPECT_FALSE(open({Migration{0, 1, "no function", nullptr}}).ok());
  const auto forked = open({Migration{0, 1, "a", noop}, Migration{0, 2, "b", noop}});
  ASSERT_FALSE(forked.ok());
  EXPECT_NE(forked.error().message.find("more than one starts at version 0"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(data_dir));
}

TEST_F(StoreMigration, DamagedVersionRecordIsAClearError) {
  {
    auto store = open({});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->put(Family::meta, "schema_version", "seven").ok());
  }
  const auto store = open({});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("schema version record is damaged"), std::string::npos)
      << store.error().message;
}

}  // namespace
}  // namespace mailtrixy::store
