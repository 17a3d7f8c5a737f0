#pragma once
// Shared helpers for the store tests: private temp directories and raw database inspection.

#include <stdlib.h>
#include <sys/stat.h>

#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "mailtrixy/crypto/aead.hpp"
#include "mailtrixy/store/store.hpp"

namespace mailtrixy::store::testing {

// A fresh directory under /tmp (mode 0700), removed with everything in it afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/mailtrixy-store-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The whole file, or "" when it cannot be read. (Through rdbuf(): istreambuf_iterator trips
// GCC's -Wnull-dereference.)
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

inline unsigned file_mode(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777u;
}

inline OpenOptions options_for(const std::filesystem::path& data_dir, const crypto::Key& key,
                               bool read_only = false) {
  return OpenOptions{.data_dir = data_dir, .key = key, .read_only = read_only, .migrations = {}};
}

// Every record of every family, read through a Store: the observable state of a database.
using Contents = std::map<std::pair<std::string, std::string>, std::string>;
inline Contents contents(const Store& store) {
  Contents all;
  for (const Family family : kAllFamilies) {
    Cursor cursor = store.cursor(family);
    for (cursor.seek_to_first(); cursor.valid(); cursor.next()) {
      all[{std::string(family_name(family)), std::string(cursor.key())}] = std::string(cursor.value());
    }
  }
  return all;
}

// What RocksDB itself says about data_dir/db, bypassing the Store: the column families and the
// last sequence number (which every write advances).
struct RawState {
  std::vector<std::string> families;
  rocksdb::SequenceNumber sequence = 0;
  friend bool operator==(const RawState&, const RawState&) = default;
};

inline RawState raw_state(const std::filesystem::path& data_dir) {
  RawState state;
  const std::string path = (data_dir / "db").string();
  rocksdb::Options options;
  if (!rocksdb::DB::ListColumnFamilies(options, path, &state.families).ok()) {
    throw std::runtime_error("cannot list column families");
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : state.families) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles, &db).ok()) {
    throw std::runtime_error("cannot open the database read-only");
  }
  state.sequence = db->GetLatestSequenceNumber();
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
  return state;
}

}  // namespace mailtrixy::store::testing
