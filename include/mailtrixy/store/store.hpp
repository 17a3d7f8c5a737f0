#pragma once
// The bridge's persistent state: a RocksDB database in data_dir/db, one column family per kind
// of record, with secrets sealed by AES-256-GCM under the master key.
//
// Families. Every family in Family exists after a read-write open (missing ones are created).
// Families found in the database but unknown to this build are opened as well and left
// untouched, so a downgrade never loses data.
//
// Encryption. put_encrypted() seals the value with associated data
//     family name + '\0' + record key
// so a ciphertext only opens under the exact family and key it was written to. A blob that was
// modified, or copied to another record or family, fails get_encrypted() with
//     record "K" in family "F" failed authentication (tampered or moved) ...
// Encrypt refresh and access tokens, client secrets, cached bodies; everything else may be plain.
//
// Master key check. The first open stores, in `meta`, a sealed known constant. Every later open
// decrypts it before doing anything else; with another key the open fails with "the master key
// does not match this database ..." and nothing at all is written.
//
// Schema versions and migrations. `meta` holds the schema version. A new database starts at
// version 0 and every open walks the OpenOptions::migrations chain from the stored version to
// the highest to_version listed, each step in one atomic, synced batch that also records the new
// version — so a fresh and an upgraded database go through the same steps, a crash mid-upgrade
// resumes at the last completed step, and no step runs twice. A database whose version is newer
// than this build knows, or that no chain of migrations reaches, is refused without any write.
//
// Read-only access. OpenOptions::read_only opens the database as a RocksDB *secondary*
// instance: safe while `mailtrixy serve` has it open for writing (RocksDB's plain read-only mode
// is undefined behaviour next to a live writer). It sees the state as of open(); refresh()
// catches up with the writer. It never writes, creates nothing in data_dir, and refuses a
// database that is missing, uninitialised or at another schema version than this build's.
// Only one read-write Store may be open per database; a second one fails with a clear "in use"
// error instead of blocking.
//
// Durability. Single put()/del() and write(batch, false) reach the write-ahead log before they
// return, so they survive a process crash (kill -9) but not necessarily a power loss;
// write(batch, true) fsyncs the log first and survives both. A batch is all-or-nothing in
// either case.
//
// Threads. A Store is safe to use from any number of threads at once (RocksDB serialises
// writers internally). A WriteBatch or a Cursor belongs to one thread at a time, and neither may
// outlive the Store that made it.
//
// Files. data_dir and data_dir/db are created with mode 0700, which is what keeps the database
// files (created by RocksDB with the process umask) private. An existing data_dir readable by
// others gets a warning in the log.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/crypto/aead.hpp"

namespace mailtrixy::store {

enum class Family {
  meta,          // schema version, master key check
  accounts,      // one record per linked Microsoft account (oid + tid)
  tokens,        // refresh and access tokens (encrypted)
  settings,      // admin settings such as the client secret (encrypted)
  folders,       // folder tree, delta links, UIDVALIDITY
  uids,          // per-folder UID <-> Graph id maps
  messages,      // message metadata cache
  bodies,        // cached MIME bodies (encrypted)
  outbox,        // accepted, not yet delivered SMTP submissions
  web_sessions,  // browser sessions and pending OAuth states
};

inline constexpr std::array kAllFamilies = {
    Family::meta,     Family::accounts, Family::tokens, Family::settings, Family::folders,
    Family::uids,     Family::messages, Family::bodies, Family::outbox,   Family::web_sessions,
};

// The column family name: the enumerator's name ("web_sessions").
std::string_view family_name(Family family);

class Store;

// Writes across families that become visible together and survive a crash together or not at
// all. Made by Store::batch() and applied by the same store's write() (handing it to another
// store is a programming error: std::invalid_argument). Operations apply in the order given.
class WriteBatch {
 public:
  explicit WriteBatch(const Store& store);
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;
  ~WriteBatch();

  void put(Family family, std::string_view key, std::string_view value);
  // Seals `plaintext` now (bound to family and key); the batch holds only the ciphertext.
  void put_encrypted(Family family, std::string_view key, std::string_view plaintext);
  void del(Family family, std::string_view key);

  // Operations recorded so far.
  std::size_t size() const;
  bool empty() const { return size() == 0; }
  void clear();

 private:
  friend class Store;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// An ordered walk over one family (keys compare as unsigned bytes). It reads a consistent
// snapshot taken when it was made. key() and value() stay valid until the cursor moves.
class Cursor {
 public:
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  void seek_to_first();
  void seek_to_last();
  void seek(std::string_view key);           // first record with key >= `key`
  void seek_for_prev(std::string_view key);  // last record with key <= `key`
  bool valid() const;
  void next();
  void prev();

  std::string_view key() const;
  std::string_view value() const;
  // The value of a record written with put_encrypted(), opened and authenticated.
  Result<std::string> decrypted_value() const;
  // An I/O or corruption error that ended the walk early (valid() turned false); ok otherwise.
  Result<void> status() const;

 private:
  friend class Store;
  struct Impl;
  explicit Cursor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct Migration {
  std::uint32_t from_version = 0;
  std::uint32_t to_version = 0;
  std::string description;
  // Records the step's writes in `batch`; `store` reads the database as it was before the step.
  // An error aborts the open and leaves the database at from_version.
  std::function<Result<void>(Store& store, WriteBatch& batch)> apply;
};

struct OpenOptions {
  std::filesystem::path data_dir;  // the database lives in data_dir/db
  crypto::Key key;                 // from load_or_create_master_key()
  bool read_only = false;          // see "Read-only access" above
  std::vector<Migration> migrations;
};

class Store {
 public:
  // Opens (creating when missing, unless read_only) the database in options.data_dir/db, checks
  // the master key, and migrates it to the newest schema version in options.migrations.
  static Result<std::unique_ptr<Store>> open(const OpenOptions& options);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  // Plain records, for data that is not secret. get() yields nullopt for a missing key.
  Result<std::optional<std::string>> get(Family family, std::string_view key) const;
  Result<void> put(Family family, std::string_view key, std::string_view value);
  Result<void> del(Family family, std::string_view key);

  // Encrypted records (see above). get_encrypted() yields nullopt for a missing key and an
  // error for a record that does not authenticate.
  Result<std::optional<std::string>> get_encrypted(Family family, std::string_view key) const;
  Result<void> put_encrypted(Family family, std::string_view key, std::string_view plaintext);

  WriteBatch batch() const;
  // Applies every operation of `batch` atomically; sync=true fsyncs the write-ahead log first.
  // The batch is left unchanged, so it may be retried after an error, or cleared and reused.
  Result<void> write(const WriteBatch& batch, bool sync);

  // Calls `visit` for every record whose key starts with `prefix`, in key order, until it
  // returns false; the views it gets are valid during the call only. It reads one consistent
  // snapshot. for_each_prefix_encrypted() passes decrypted values and stops with an error at
  // the first record that does not authenticate.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  Result<void> for_each_prefix(Family family, std::string_view prefix, const Visitor& visit) const;
  Result<void> for_each_prefix_encrypted(Family family, std::string_view prefix,
                                         const Visitor& visit) const;
  Cursor cursor(Family family) const;

  // Read-only stores: pick up what the writing process committed since open() or the last
  // refresh(). A no-op for read-write stores.
  Result<void> refresh();
  // Read-write stores: fsync the write-ahead log and flush memtables to table files, for a
  // clean shutdown. A no-op for read-only stores.
  Result<void> flush();

  // Read-write stores: writes a consistent copy of the whole database (every family, as of one
  // moment; writes that race it are either wholly in or wholly out) into `destination`, a
  // directory that must not exist yet and whose parent must. Safe while other threads read and
  // write. The copy is a complete RocksDB database: put it at data_dir/db (with the same master
  // key) and open() reads it. Table files are hard-linked when `destination` is on the same
  // filesystem (cheap, but then not a copy that survives losing that disk: move it elsewhere),
  // copied otherwise. `destination` gets mode 0700 and every file in it 0600 (hard-linked files
  // share their mode with the live database, which is only made more private by this).
  // Read-only stores refuse: a secondary cannot pin the files it would copy.
  Result<void> checkpoint(const std::filesystem::path& destination) const;

  // What RocksDB holds in memory now, in bytes (for the /metrics memory gauges): memtables of
  // every family (active, immutable and being flushed), the block cache the families share,
  // and the table readers' index and filter blocks, which live outside the cache.
  struct MemoryUsage {
    std::uint64_t memtables = 0;
    std::uint64_t block_cache = 0;
    std::uint64_t table_readers = 0;
  };
  MemoryUsage memory_usage() const;

  std::uint32_t schema_version() const { return schema_version_; }
  bool read_only() const { return read_only_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }

 private:
  friend class WriteBatch;
  friend class Cursor;
  struct Impl;
  Store(std::unique_ptr<Impl> impl, std::filesystem::path data_dir, bool read_only);
  Result<void> initialise(const OpenOptions& options);

  std::unique_ptr<Impl> impl_;
  std::filesystem::path data_dir_;
  bool read_only_;
  std::uint32_t schema_version_ = 0;
};

}  // namespace mailtrixy::store
