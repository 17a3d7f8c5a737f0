#include "mailtrixy/store/store.hpp"

#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "mailtrixy/crypto/random.hpp"
#include "test_support.hpp"

namespace mailtrixy::store {
namespace {

using testing::TempDir;

class StoreTest : public ::testing::Test {
 protected:
  TempDir temp;
  std::filesystem::path data_dir = temp.path() / "data";
  crypto::Key key = crypto::Key::generate();

  std::unique_ptr<Store> open_store() { return open_with(key); }

  std::unique_ptr<Store> open_with(const crypto::Key& with_key) {
    auto store = Store::open(testing::options_for(data_dir, with_key));
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(store).value() : nullptr;
  }
};

TEST(StoreFamilies, HaveTheDocumentedNames) {
  std::set<std::string_view> names;
  for (const Family family : kAllFamilies) names.insert(family_name(family));
  EXPECT_EQ(names, (std::set<std::string_view>{"meta", "accounts", "tokens", "settings", "folders",
                                               "uids", "messages", "bodies", "outbox",
                                               "web_sessions"}));
}

TEST_F(StoreTest, PlainAndEncryptedRecordsRoundTrip) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put(Family::accounts, "oid.tid", "alice@example.com").ok());
  ASSERT_TRUE(store->put_encrypted(Family::tokens, "oid.tid/refresh", "M.R3_BAY.secret").ok());
  const std::string binary_key("uid\0\x01\xff", 6);
  const std::string binary_value = crypto::random_bytes(5000);
  ASSERT_TRUE(store->put_encrypted(Family::bodies, binary_key, binary_value).ok());

  EXPECT_EQ(store->get(Family::accounts, "oid.tid").value(), "alice@example.com");
  EXPECT_EQ(store->get_encrypted(Family::tokens, "oid.tid/refresh").value(), "M.R3_BAY.secret");
  EXPECT_EQ(store->get_encrypted(Family::bodies, binary_key).value(), binary_value);

  // Absent records are nullopt, not errors.
  const auto missing = store->get(Family::accounts, "nobody");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  const auto missing_encrypted = store->get_encrypted(Family::tokens, "nobody");
  ASSERT_TRUE(missing_encrypted.ok());
  EXPECT_FALSE(missing_encrypted->has_value());

  // The same key in two families is two records.
  ASSERT_TRUE(store->put(Family::folders, "oid.tid", "folder data").ok());
  EXPECT_EQ(store->get(Family::accounts, "oid.tid").value(), "alice@example.com");

  ASSERT_TRUE(store->del(Family::accounts, "oid.tid").ok());
  EXPECT_FALSE(store->get(Family::accounts, "oid.tid").value().has_value());
  EXPECT_TRUE(store->get(Family::folders, "oid.tid").value().has_value());
}

TEST_F(StoreTest, EncryptedRecordsAreNotStoredInPlaintext) {
  auto store = open_store();
  ASSERT_TRUE(store);
  const std::string secret = "refresh-token-" + crypto::random_token();
  ASSERT_TRUE(store->put_encrypted(Family::tokens, "acct", secret).ok());
  const auto raw = store->get(Family::tokens, "acct").value();
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->find(secret), std::string::npos);
  EXPECT_EQ(raw->size(), secret.size() + crypto::kSealOverhead);
  ASSERT_TRUE(store->flush().ok());
  store.reset();
  // Nor anywhere in the database files.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_dir / "db")) {
    if (!entry.is_regular_file()) continue;
    const std::string bytes = testing::read_file(entry.path());
    EXPECT_EQ(bytes.find(secret), std::string::npos) << entry.path();
  }
}

TEST_F(StoreTest, DataSurvivesCloseAndReopen) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(store->put(Family::messages, "m" + std::to_string(i), "meta" + std::to_string(i)).ok());
      ASSERT_TRUE(store->put_encrypted(Family::bodies, "m" + std::to_string(i), "body" + std::to_string(i)).ok());
    }
  }
  for (int round = 0; round < 2; ++round) {
    auto store = open_store();
    ASSERT_TRUE(store);
    for (int i = 0; i < 100; ++i) {
      EXPECT_EQ(store->get(Family::messages, "m" + std::to_string(i)).value(), "meta" + std::to_string(i));
      EXPECT_EQ(store->get_encrypted(Family::bodies, "m" + std::to_string(i)).value(),
                "body" + std::to_string(i));
    }
    if (round == 0) {
      ASSERT_TRUE(store->flush().ok());  // the second round reads table files, not the log
    }
  }
}

// Every family's reads land in the one block cache that memory_usage() reports, also in the
// run that created the database (its families were once created with a cache each); bodies
// stay out of it.
TEST_F(StoreTest, FamiliesOfANewDatabaseShareTheReportedBlockCache) {
  auto store = open_store();
  ASSERT_TRUE(store);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(store->put(Family::uids, "u" + std::to_string(i), std::string(200, 'x')).ok());
  }
  ASSERT_TRUE(store->flush().ok());
  const std::uint64_t before = store->memory_usage().block_cache;
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(store->get(Family::uids, "u" + std::to_string(i)).ok());
  const Store::MemoryUsage after = store->memory_usage();
  EXPECT_GT(after.block_cache, before + 200 * 1000) << "the reads of family uids did not use the shared cache";
  EXPECT_LE(after.block_cache, 32u << 20);
  EXPECT_GT(after.table_readers, 0u);

  // Message bodies bypass it: they would push the hot records out.
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(store->put_encrypted(Family::bodies, "b" + std::to_string(i), std::string(20000, 'y')).ok());
  }
  ASSERT_TRUE(store->flush().ok());
  const std::uint64_t before_bodies = store->memory_usage().block_cache;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(store->get_encrypted(Family::bodies, "b" + std::to_string(i)).ok());
  EXPECT_LT(store->memory_usage().block_cache, before_bodies + 100 * 1000);
}

TEST_F(StoreTest, CreatesPrivateDirectories) {
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(testing::file_mode(data_dir), 0700u);
  EXPECT_EQ(testing::file_mode(data_dir / "db"), 0700u);
}

TEST_F(StoreTest, TamperedCiphertextFailsAuthentication) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_encrypted(Family::tokens, "acct/refresh", "a refresh token").ok());
  const std::string original = store->get(Family::tokens, "acct/refresh").value().value();
  for (const std::size_t position : {std::size_t{0}, std::size_t{5}, original.size() / 2, original.size() - 1}) {
    std::string tampered = original;
    tampered[position] = static_cast<char>(tampered[position] ^ 0x01);
    ASSERT_TRUE(store->put(Family::tokens, "acct/refresh", tampered).ok());
    const auto read = store->get_encrypted(Family::tokens, "acct/refresh");
    ASSERT_FALSE(read.ok()) << "byte " << position;
    EXPECT_EQ(read.error().message.find("a refresh token"), std::string::npos);
    EXPECT_NE(read.error().message.find(
                  "record \"acct/refresh\" in family \"tokens\" failed authentication (tampered or moved)"),
              std::string::npos)
        << read.error().message;
  }
  // Truncated and plain values too.
  ASSERT_TRUE(store->put(Family::tokens, "acct/refresh", original.substr(0, 10)).ok());
  EXPECT_FALSE(store->get_encrypted(Family::tokens, "acct/refresh").ok());
  ASSERT_TRUE(store->put(Family::tokens, "acct/refresh", "plain text").ok());
  EXPECT_FALSE(store->get_encrypted(Family::tokens, "acct/refresh").ok());
  // The untouched blob still opens.
  ASSERT_TRUE(store->put(Family::tokens, "acct/refresh", original).ok());
  EXPECT_EQ(store->get_encrypted(Family::tokens, "acct/refresh").value(), "a refresh token");
}

TEST_F(StoreTest, CiphertextMovedToAnotherKeyOrFamilyFails) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_encrypted(Family::tokens, "alice", "alice's token").ok());
  const std::string blob = store->get(Family::tokens, "alice").value().value();

  ASSERT_TRUE(store->put(Family::tokens, "mallory", blob).ok());
  const auto moved_key = store->get_encrypted(Family::tokens, "mallory");
  ASSERT_FALSE(moved_key.ok());
  EXPECT_NE(moved_key.error().message.find("record \"mallory\" in family \"tokens\""), std::string::npos)
      << moved_key.error().message;

  ASSERT_TRUE(store->put(Family::settings, "alice", blob).ok());
  const auto moved_family = store->get_encrypted(Family::settings, "alice");
  ASSERT_FALSE(moved_family.ok());
  EXPECT_NE(moved_family.error().message.find("in family \"settings\""), std::string::npos);

  // Keys that only differ after the family/key boundary must not collide either.
  ASSERT_TRUE(store->put(Family::tokens, std::string("alice\0", 6), blob).ok());
  EXPECT_FALSE(store->get_encrypted(Family::tokens, std::string("alice\0", 6)).ok());

  EXPECT_EQ(store->get_encrypted(Family::tokens, "alice").value(), "alice's token");
}

TEST_F(StoreTest, ErrorsShowBinaryKeysSafely) {
  auto store = open_store();
  ASSERT_TRUE(store);
  const std::string binary_key("\x01\xff\"k", 4);
  ASSERT_TRUE(store->put(Family::bodies, binary_key, "not a blob").ok());
  const auto read = store->get_encrypted(Family::bodies, binary_key);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message.find(R"(record "\x01\xff\x22k")"), std::string::npos)
      << read.error().message;
}

TEST_F(StoreTest, WrongMasterKeyIsRefusedAndWritesNothing) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put_encrypted(Family::tokens, "acct", "token").ok());
    ASSERT_TRUE(store->put(Family::accounts, "acct", "alice").ok());
  }
  // Drop a family behind the Store's back: a read-write open would normally re-create it, which
  // must not happen before the key has been checked.
  {
    rocksdb::DB* db = nullptr;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), (data_dir / "db").string(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), (data_dir / "db").string(), descriptors, &handles, &db).ok());
    for (auto* handle : handles) {
      if (handle->GetName() == "web_sessions") {
        ASSERT_TRUE(db->DropColumnFamily(handle).ok());
      }
    }
    for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    delete db;
  }
  const testing::RawState before = testing::raw_state(data_dir);
  ASSERT_EQ(std::count(before.families.begin(), before.families.end(), "web_sessions"), 0);

  const auto wrong = Store::open(testing::options_for(data_dir, crypto::Key::generate()));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message,
            "the master key does not match this database (" + (data_dir / "db").string() +
                "); restore the original master.key or MAILTRIXY_MASTER_KEY");
  EXPECT_EQ(testing::raw_state(data_dir), before);

  const auto wrong_read_only = Store::open(testing::options_for(data_dir, crypto::Key::generate(), true));
  ASSERT_FALSE(wrong_read_only.ok());
  EXPECT_NE(wrong_read_only.error().message.find("master key does not match"), std::string::npos);
  EXPECT_EQ(testing::raw_state(data_dir), before);

  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->get_encrypted(Family::tokens, "acct").value(), "token");
  EXPECT_EQ(store->get(Family::accounts, "acct").value(), "alice");
  // The right key re-creates the missing family.
  ASSERT_TRUE(store->put(Family::web_sessions, "s", "v").ok());
}

TEST_F(StoreTest, UnknownFamiliesAreKept) {
  { ASSERT_TRUE(open_store()); }
  {
    // A family a newer release might add.
    rocksdb::DB* db = nullptr;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), (data_dir / "db").string(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), (data_dir / "db").string(), descriptors, &handles, &db).ok());
    rocksdb::ColumnFamilyHandle* future = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "future_family", &future).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), future, "k", "from the future").ok());
    handles.push_back(future);
    for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    delete db;
  }
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put(Family::accounts, "a", "b").ok());
  }
  const testing::RawState state = testing::raw_state(data_dir);
  EXPECT_EQ(std::count(state.families.begin(), state.families.end(), "future_family"), 1);
}

TEST_F(StoreTest, RefusesDataWithoutAKeyCheck) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put(Family::accounts, "a", "b").ok());
    ASSERT_TRUE(store->del(Family::meta, "key_check").ok());
  }
  const auto reopened = Store::open(testing::options_for(data_dir, key));
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.error().message.find("no master key check record"), std::string::npos)
      << reopened.error().message;
}

TEST_F(StoreTest, SecondWriterIsRefusedWithAClearError) {
  auto first = open_store();
  ASSERT_TRUE(first);
  const auto second = Store::open(testing::options_for(data_dir, key));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("in use by another process"), std::string::npos)
      << second.error().message;
  EXPECT_TRUE(first->put(Family::accounts, "still", "works").ok());
}

TEST_F(StoreTest, BatchesSpanFamiliesAndApplyTogether) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put(Family::outbox, "old", "x").ok());
  WriteBatch batch = store->batch();
  EXPECT_TRUE(batch.empty());
  batch.put(Family::accounts, "acct", "alice");
  batch.put_encrypted(Family::tokens, "acct/refresh", "rt");
  batch.put_encrypted(Family::tokens, "acct/access", "at");
  batch.del(Family::outbox, "old");
  EXPECT_EQ(batch.size(), 4u);
  // Nothing is visible before the write.
  EXPECT_FALSE(store->get(Family::accounts, "acct").value().has_value());
  ASSERT_TRUE(store->write(batch, true).ok());
  EXPECT_EQ(store->get(Family::accounts, "acct").value(), "alice");
  EXPECT_EQ(store->get_encrypted(Family::tokens, "acct/refresh").value(), "rt");
  EXPECT_EQ(store->get_encrypted(Family::tokens, "acct/access").value(), "at");
  EXPECT_FALSE(store->get(Family::outbox, "old").value().has_value());

  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(store->write(batch, false).ok());

  // Later operations on the same key win.
  batch.put(Family::accounts, "acct", "first");
  batch.put(Family::accounts, "acct", "second");
  ASSERT_TRUE(store->write(batch, false).ok());
  EXPECT_EQ(store->get(Family::accounts, "acct").value(), "second");
}

TEST_F(StoreTest, BatchFromAnotherStoreIsAProgrammingError) {
  auto store = open_store();
  ASSERT_TRUE(store);
  TempDir other_temp;
  auto other = Store::open(testing::options_for(other_temp.path(), key));
  ASSERT_TRUE(other.ok());
  WriteBatch foreign = (*other)->batch();
  foreign.put(Family::accounts, "a", "b");
  EXPECT_THROW((void)store->write(foreign, false), std::invalid_argument);
}

TEST_F(StoreTest, PrefixWalksStayInsideThePrefix) {
  auto store = open_store();
  ASSERT_TRUE(store);
  const std::vector<std::string> keys = {"a", "ab", "ab\xff", "abc", "abd", "b",
                                         std::string("\xff\xff", 2), std::string("\xff\xff\x01", 3)};
  for (const auto& k : keys) ASSERT_TRUE(store->put(Family::uids, k, "v:" + k).ok());

  const auto walk = [&](std::string_view prefix) {
    std::vector<std::string> seen;
    EXPECT_TRUE(store->for_each_prefix(Family::uids, prefix, [&](std::string_view k, std::string_view v) {
                       EXPECT_EQ(v, "v:" + std::string(k));
                       seen.emplace_back(k);
                       return true;
                     }).ok());
    return seen;
  };
  // Bytes compare unsigned: 0xff sorts after every letter.
  EXPECT_EQ(walk("ab"), (std::vector<std::string>{"ab", "abc", "abd", "ab\xff"}));
  EXPECT_EQ(walk("abc"), (std::vector<std::string>{"abc"}));
  EXPECT_EQ(walk("ab\xff"), (std::vector<std::string>{"ab\xff"}));
  EXPECT_EQ(walk(std::string("\xff\xff", 2)),
            (std::vector<std::string>{std::string("\xff\xff", 2), std::string("\xff\xff\x01", 3)}));
  EXPECT_EQ(walk("").size(), keys.size());
  EXPECT_TRUE(walk("zzz").empty());
  EXPECT_TRUE(walk("ac").empty());

  int visited = 0;
  ASSERT_TRUE(store->for_each_prefix(Family::uids, "ab", [&](std::string_view, std::string_view) {
                     return ++visited < 2;
                   }).ok());
  EXPECT_EQ(visited, 2);
}

TEST_F(StoreTest, EncryptedPrefixWalkDecryptsAndStopsAtTampering) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_encrypted(Family::bodies, "m/1", "one").ok());
  ASSERT_TRUE(store->put_encrypted(Family::bodies, "m/2", "two").ok());
  ASSERT_TRUE(store->put_encrypted(Family::bodies, "n/1", "other").ok());
  std::vector<std::string> plain;
  ASSERT_TRUE(store->for_each_prefix_encrypted(Family::bodies, "m/", [&](std::string_view, std::string_view v) {
                     plain.emplace_back(v);
                     return true;
                   }).ok());
  EXPECT_EQ(plain, (std::vector<std::string>{"one", "two"}));

  ASSERT_TRUE(store->put(Family::bodies, "m/2", store->get(Family::bodies, "m/1").value().value()).ok());
  plain.clear();
  const auto walked = store->for_each_prefix_encrypted(Family::bodies, "m/", [&](std::string_view, std::string_view v) {
    plain.emplace_back(v);
    return true;
  });
  ASSERT_FALSE(walked.ok());
  EXPECT_NE(walked.error().message.find("record \"m/2\" in family \"bodies\""), std::string::npos);
  EXPECT_EQ(plain, (std::vector<std::string>{"one"}));
}

TEST_F(StoreTest, CursorSeeksBothWaysOverASnapshot) {
  auto store = open_store();
  ASSERT_TRUE(store);
  for (const char* k : {"uid/0001", "uid/0005", "uid/0009"}) ASSERT_TRUE(store->put(Family::uids, k, k).ok());
  ASSERT_TRUE(store->put_encrypted(Family::bodies, "b", "secret body").ok());

  Cursor cursor = store->cursor(Family::uids);
  ASSERT_TRUE(store->put(Family::uids, "uid/0007", "written after the cursor").ok());

  cursor.seek("uid/0002");
  ASSERT_TRUE(cursor.valid());
  EXPECT_EQ(cursor.key(), "uid/0005");
  cursor.next();
  ASSERT_TRUE(cursor.valid());
  EXPECT_EQ(cursor.key(), "uid/0009");  // the snapshot does not see uid/0007
  cursor.next();
  EXPECT_FALSE(cursor.valid());
  EXPECT_EQ(cursor.key(), "");

  cursor.seek_for_prev("uid/0008");
  ASSERT_TRUE(cursor.valid());
  EXPECT_EQ(cursor.key(), "uid/0005");
  cursor.prev();
  ASSERT_TRUE(cursor.valid());
  EXPECT_EQ(cursor.value(), "uid/0001");
  cursor.seek_to_last();
  EXPECT_EQ(cursor.key(), "uid/0009");
  cursor.seek_to_first();
  EXPECT_EQ(cursor.key(), "uid/0001");
  EXPECT_TRUE(cursor.status().ok());
  EXPECT_FALSE(cursor.decrypted_value().ok());  // a plain record

  Cursor bodies = store->cursor(Family::bodies);
  bodies.seek_to_first();
  ASSERT_TRUE(bodies.valid());
  EXPECT_EQ(bodies.decrypted_value().value(), "secret body");
  bodies.next();
  EXPECT_FALSE(bodies.valid());
  EXPECT_FALSE(bodies.decrypted_value().ok());
}

TEST_F(StoreTest, RejectsAnEmptyDataDir) {
  const auto store = Store::open(testing::options_for("", key));
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("data_dir"), std::string::npos);
}

TEST_F(StoreTest, RejectsADataDirThatIsAFile) {
  std::ofstream(temp.path() / "file") << "x";
  const auto store = Store::open(testing::options_for(temp.path() / "file", key));
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("not a directory"), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace mailtrixy::store
