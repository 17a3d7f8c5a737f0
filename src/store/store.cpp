#include "mailtrixy/store/store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/cache.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <sys/stat.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <stdexcept>

#include "files.hpp"
#include "mailtrixy/base/log.hpp"

namespace mailtrixy::store {
namespace {

constexpr std::size_t kFamilyCount = kAllFamilies.size();

// Records in `meta`.
constexpr std::string_view kSchemaVersionKey = "schema_version";
constexpr std::string_view kKeyCheckKey = "key_check";
constexpr std::string_view kKeyCheckPlaintext = "mailtrixy master key check v1";

std::size_t index_of(Family family) { return static_cast<std::size_t>(family); }

rocksdb::Slice slice(std::string_view text) { return {text.data(), text.size()}; }
std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

std::string associated_data(Family family, std::string_view key) {
  std::string data(family_name(family));
  data += '\0';
  data += key;
  return data;
}

Error authentication_error(Family family, std::string_view key) {
  return make_error("record \"" + detail::printable_key(key) + "\" in family \"" +
                    std::string(family_name(family)) +
                    "\" failed authentication (tampered or moved); restore it from a backup or "
                    "delete it");
}

Error database_error(const rocksdb::Status& status, std::string_view action) {
  return make_error("database error while " + std::string(action) + ": " + status.ToString());
}

Error read_only_error() {
  return make_error("cannot write: the database was opened read-only; changes need the read-write "
                    "store of `mailtrixy serve`");
}

// The smallest key greater than every key starting with `prefix`, or empty when there is none
// (a prefix of only 0xff bytes).
std::string prefix_successor(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(bound.back());
    if (last != 0xff) {
      ++last;
      return bound;
    }
    bound.pop_back();
  }
  return bound;
}

// Hot records (UID maps, flags, folder state) stay decoded in memory. 32 MiB is a chosen bound,
// not a measured working set: the soak and the IMAP benchmarks in docs/benchmarks.md ran with it.
constexpr std::size_t kBlockCacheBytes = 32 << 20;

// Message bodies are read once per client download and cached by the IMAP layer above; letting
// them into the block cache would push out the small, hot records (UID maps, flags, folder
// state) that every command reads.
rocksdb::ReadOptions read_options_for(Family family) {
  rocksdb::ReadOptions options;
  options.fill_cache = family != Family::bodies;
  return options;
}

rocksdb::Options base_options() {
  rocksdb::Options options;
  // RocksDB's own diagnostics (the LOG files in db/): keep a bounded amount of them.
  options.keep_log_file_num = 5;
  options.max_log_file_size = 8 << 20;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // RocksDB's default keeps up to 64 MiB of memtable per column family (twice, while one
  // flushes) and with a dozen families the bridge's RSS grew with every write for as long as
  // the soak test ran (docs/soak.md). One budget for all families makes it flush early instead.
  options.db_write_buffer_size = 16 << 20;
  // One block cache for all families, of a size chosen here. Left to RocksDB, every family that
  // gets its own options object also gets its own 8 MiB cache: the families a new database
  // creates did, so a bridge's first run could hold eleven caches (88 MiB) that filled for
  // hours (docs/soak.md). The families of one Store share these options (Impl::family_options).
  rocksdb::BlockBasedTableOptions tables;
  tables.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(tables));
  return options;
}

bool is_lock_conflict(const rocksdb::Status& status) {
  const std::string text = status.ToString();
  return status.IsIOError() &&
         (text.find("lock") != std::string::npos || text.find("LOCK") != std::string::npos);
}

Result<std::uint32_t> parse_schema_version(std::string_view text) {
  std::uint32_t version = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return make_error("the database's schema version record is damaged (\"" +
                      detail::printable_key(text) + "\"); restore the database from a backup");
  }
  return version;
}

}  // namespace

std::string_view family_name(Family family) {
  switch (family) {
    case Family::meta: return "meta";
    case Family::accounts: return "accounts";
    case Family::tokens: return "tokens";
    case Family::settings: return "settings";
    case Family::folders: return "folders";
    case Family::uids: return "uids";
    case Family::messages: return "messages";
    case Family::bodies: return "bodies";
    case Family::outbox: return "outbox";
    case Family::web_sessions: return "web_sessions";
  }
  throw std::invalid_argument("unknown store family");
}

// ---------------------------------------------------------------------------------------------

struct Store::Impl {
  explicit Impl(crypto::Key master_key) : key(std::move(master_key)) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    if (db != nullptr) {
      for (rocksdb::ColumnFamilyHandle* handle : all_handles) {
        db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
      }
      db->Close().PermitUncheckedError();
      delete db;
    }
    if (!secondary_path.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(secondary_path, ignored);
    }
  }

  rocksdb::ColumnFamilyHandle* handle(Family family) const { return handles[index_of(family)]; }

  // The options of every family, opened or created: one table factory, so one block cache.
  rocksdb::ColumnFamilyOptions family_options;

  crypto::Key key;
  rocksdb::DB* db = nullptr;
  // Indexed by Family; nullptr only for a family a read-only store did not find.
  std::array<rocksdb::ColumnFamilyHandle*, kFamilyCount> handles{};
  // Every handle opened (default and unknown families included), for closing.
  std::vector<rocksdb::ColumnFamilyHandle*> all_handles;
  std::filesystem::path db_path;
  // Read-only stores: the secondary instance's private directory (its info log).
  std::filesystem::path secondary_path;
};

struct WriteBatch::Impl {
  const Store* store;
  rocksdb::WriteBatch batch;
  // The first operation that could not be recorded; write() reports it.
  std::optional<Error> error;
};

struct Cursor::Impl {
  const Store::Impl* store;
  Family family;
  std::unique_ptr<rocksdb::Iterator> iterator;  // null for a family a read-only store lacks
};

// ---------------------------------------------------------------------------------------------

WriteBatch::WriteBatch(const Store& store) : impl_(std::make_unique<Impl>()) { impl_->store = &store; }
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;
WriteBatch::~WriteBatch() = default;

void WriteBatch::put(Family family, std::string_view key, std::string_view value) {
  rocksdb::ColumnFamilyHandle* handle = impl_->store->impl_->handle(family);
  if (handle == nullptr) {
    if (!impl_->error) impl_->error = read_only_error();
    return;
  }
  const rocksdb::Status status = impl_->batch.Put(handle, slice(key), slice(value));
  if (!status.ok() && !impl_->error) impl_->error = database_error(status, "adding to a batch");
}

void WriteBatch::put_encrypted(Family family, std::string_view key, std::string_view plaintext) {
  put(family, key, crypto::seal(impl_->store->impl_->key, plaintext, associated_data(family, key)));
}

void WriteBatch::del(Family family, std::string_view key) {
  rocksdb::ColumnFamilyHandle* handle = impl_->store->impl_->handle(family);
  if (handle == nullptr) {
    if (!impl_->error) impl_->error = read_only_error();
    return;
  }
  const rocksdb::Status status = impl_->batch.Delete(handle, slice(key));
  if (!status.ok() && !impl_->error) impl_->error = database_error(status, "adding to a batch");
}

std::size_t WriteBatch::size() const { return impl_->batch.Count(); }

void WriteBatch::clear() {
  impl_->batch.Clear();
  impl_->error.reset();
}

// ---------------------------------------------------------------------------------------------

Cursor::Cursor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;
Cursor::~Cursor() = default;

void Cursor::seek_to_first() {
  if (impl_->iterator) impl_->iterator->SeekToFirst();
}
void Cursor::seek_to_last() {
  if (impl_->iterator) impl_->iterator->SeekToLast();
}
void Cursor::seek(std::string_view key) {
  if (impl_->iterator) impl_->iterator->Seek(slice(key));
}
void Cursor::seek_for_prev(std::string_view key) {
  if (impl_->iterator) impl_->iterator->SeekForPrev(slice(key));
}
bool Cursor::valid() const { return impl_->iterator && impl_->iterator->Valid(); }
void Cursor::next() {
  if (valid()) impl_->iterator->Next();
}
void Cursor::prev() {
  if (valid()) impl_->iterator->Prev();
}
std::string_view Cursor::key() const { return valid() ? view(impl_->iterator->key()) : std::string_view(); }
std::string_view Cursor::value() const {
  return valid() ? view(impl_->iterator->value()) : std::string_view();
}

Result<std::string> Cursor::decrypted_value() const {
  if (!valid()) return make_error("the cursor is not positioned on a record");
  const std::string_view record_key = key();
  auto opened = crypto::open(impl_->store->key, value(), associated_data(impl_->family, record_key));
  if (!opened) return authentication_error(impl_->family, record_key);
  return std::move(opened).value();
}

Result<void> Cursor::status() const {
  if (!impl_->iterator) return {};
  const rocksdb::Status status = impl_->iterator->status();
  if (!status.ok()) {
    return database_error(status, "reading family " + std::string(family_name(impl_->family)));
  }
  return {};
}

// ---------------------------------------------------------------------------------------------

Store::Store(std::unique_ptr<Impl> impl, std::filesystem::path data_dir, bool read_only)
    : impl_(std::move(impl)), data_dir_(std::move(data_dir)), read_only_(read_only) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const OpenOptions& options) {
  if (options.data_dir.empty()) return make_error("no data directory is configured; set data_dir");
  for (const Migration& migration : options.migrations) {
    if (migration.to_version <= migration.from_version || !migration.apply) {
      return make_error("invalid schema migration " + std::to_string(migration.from_version) +
                        " -> " + std::to_string(migration.to_version) +
                        ": it must raise the version and have a function");
    }
    const auto same_start = std::count_if(
        options.migrations.begin(), options.migrations.end(),
        [&](const Migration& other) { return other.from_version == migration.from_version; });
    if (same_start > 1) {
      return make_error("invalid schema migrations: more than one starts at version " +
                        std::to_string(migration.from_version));
    }
  }

  auto impl = std::make_unique<Impl>(options.key);
  impl->db_path = options.data_dir / "db";
  const std::string db_path = impl->db_path.string();
  std::error_code error;
  const bool exists = std::filesystem::exists(impl->db_path / "CURRENT", error);
  if (error && error != std::errc::no_such_file_or_directory && error != std::errc::not_a_directory) {
    return make_error("cannot access the database directory " + db_path + ": " + error.message() +
                      "; check the permissions of data_dir");
  }

  rocksdb::Options db_options = base_options();
  impl->family_options = rocksdb::ColumnFamilyOptions(db_options);
  std::vector<std::string> existing_families;
  if (exists) {
    const rocksdb::Status listed =
        rocksdb::DB::ListColumnFamilies(db_options, db_path, &existing_families);
    if (!listed.ok()) return database_error(listed, "listing the column families of " + db_path);
  } else if (options.read_only) {
    return make_error("there is no database in " + db_path +
                      "; start `mailtrixy serve` once to create it, or check data_dir");
  } else {
    if (auto made = detail::ensure_private_directory(options.data_dir, "data directory"); !made) {
      return made.error();
    }
    if (auto made = detail::ensure_private_directory(impl->db_path, "database directory"); !made) {
      return made.error();
    }
    existing_families.push_back(rocksdb::kDefaultColumnFamilyName);
  }

  // Open exactly the families that exist: creating the missing ones is a write, and nothing
  // may be written before the master key has been checked.
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : existing_families) {
    descriptors.emplace_back(name, impl->family_options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status opened;
  if (options.read_only) {
    std::string secondary_template =
        (std::filesystem::temp_directory_path() / "mailtrixy-reader-XXXXXX").string();
    if (::mkdtemp(secondary_template.data()) == nullptr) {
      return make_error("cannot create a temporary directory for read-only database access in " +
                        std::filesystem::temp_directory_path().string() + ": " +
                        detail::errno_text() + "; check TMPDIR");
    }
    impl->secondary_path = secondary_template;
    db_options.max_open_files = -1;  // required by secondary instances
    opened = rocksdb::DB::OpenAsSecondary(db_options, db_path, impl->secondary_path.string(),
                                          descriptors, &handles, &impl->db);
  } else {
    db_options.create_if_missing = !exists;
    db_options.create_missing_column_families = false;
    opened = rocksdb::DB::Open(db_options, db_path, descriptors, &handles, &impl->db);
  }
  if (!opened.ok()) {
    impl->db = nullptr;
    if (is_lock_conflict(opened)) {
      return make_error("the database " + db_path +
                        " is in use by another process (is `mailtrixy serve` running?); stop it, "
                        "or use a command that only reads");
    }
    return database_error(opened, "opening " + db_path);
  }
  impl->all_handles = handles;
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    for (const Family family : kAllFamilies) {
      if (handle->GetName() == family_name(family)) impl->handles[index_of(family)] = handle;
    }
  }

  std::unique_ptr<Store> store(new Store(std::move(impl), options.data_dir, options.read_only));
  if (auto ready = store->initialise(options); !ready) return ready.error();
  return store;
}

Result<void> Store::initialise(const OpenOptions& options) {
  const std::string db_path = impl_->db_path.string();

  // 1. The master key, before anything else.
  auto key_check = get(Family::meta, kKeyCheckKey);
  if (!key_check) return key_check.error();
  auto stored_version = get(Family::meta, kSchemaVersionKey);
  if (!stored_version) return stored_version.error();
  bool fresh = false;
  if (key_check->has_value()) {
    auto opened = crypto::open(impl_->key, **key_check, associated_data(Family::meta, kKeyCheckKey));
    if (!opened || *opened != kKeyCheckPlaintext) {
      return make_error("the master key does not match this database (" + db_path +
                        "); restore the original master.key or MAILTRIXY_MASTER_KEY");
    }
  } else {
    // No key check: only acceptable for a database that holds nothing at all yet.
    bool empty = true;
    for (rocksdb::ColumnFamilyHandle* handle : impl_->all_handles) {
      std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), handle));
      it->SeekToFirst();
      if (it->Valid()) empty = false;
      if (!it->status().ok()) return database_error(it->status(), "reading " + db_path);
    }
    if (!empty || stored_version->has_value()) {
      return make_error("the database " + db_path +
                        " holds data but no master key check record; it is damaged or was not "
                        "made by mailtrixy; restore it from a backup");
    }
    if (read_only_) {
      return make_error("the database " + db_path +
                        " has not been initialised yet; start `mailtrixy serve` once");
    }
    fresh = true;
  }

  // 2. The schema version and the migration path, still without writing.
  std::uint32_t version = 0;
  if (stored_version->has_value()) {
    auto parsed = parse_schema_version(**stored_version);
    if (!parsed) return parsed.error();
    version = *parsed;
  }
  std::uint32_t target = 0;
  for (const Migration& migration : options.migrations) target = std::max(target, migration.to_version);
  if (version > target) {
    return make_error("the database " + db_path + " has schema version " + std::to_string(version) +
                      ", newer than this build understands (" + std::to_string(target) +
                      "); run the newer mailtrixy release that wrote it, or restore a backup");
  }
  std::vector<const Migration*> plan;
  for (std::uint32_t step = version; step != target;) {
    const auto next = std::find_if(options.migrations.begin(), options.migrations.end(),
                                   [step](const Migration& m) { return m.from_version == step; });
    if (next == options.migrations.end()) {
      return make_error("the database " + db_path + " has schema version " + std::to_string(version) +
                        " and this build has no migration from version " + std::to_string(step) +
                        " towards " + std::to_string(target) +
                        "; upgrade through an intermediate mailtrixy release");
    }
    plan.push_back(&*next);
    step = next->to_version;
  }
  if (read_only_) {
    if (!plan.empty()) {
      return make_error("the database " + db_path + " has schema version " + std::to_string(version) +
                        " but this build uses " + std::to_string(target) +
                        "; start `mailtrixy serve` once to upgrade it");
    }
    schema_version_ = version;
    return {};
  }

  // 3. Writes: missing families, the key check of a new database, then each migration.
  for (const Family family : kAllFamilies) {
    if (impl_->handle(family) != nullptr) continue;
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    const rocksdb::Status created = impl_->db->CreateColumnFamily(
        impl_->family_options, std::string(family_name(family)), &handle);
    if (!created.ok()) {
      return database_error(created, "creating family " + std::string(family_name(family)));
    }
    impl_->handles[index_of(family)] = handle;
    impl_->all_handles.push_back(handle);
  }
  if (fresh) {
    WriteBatch setup = batch();
    setup.put_encrypted(Family::meta, kKeyCheckKey, kKeyCheckPlaintext);
    setup.put(Family::meta, kSchemaVersionKey, "0");
    if (auto written = write(setup, true); !written) return written.error();
    log::info("created a new database", {{"path", db_path}});
  }
  for (const Migration* migration : plan) {
    const std::string step =
        std::to_string(migration->from_version) + " -> " + std::to_string(migration->to_version);
    WriteBatch changes = batch();
    if (auto applied = migration->apply(*this, changes); !applied) {
      return make_error("schema migration " + step + " (" + migration->description +
                        ") failed: " + applied.error().message +
                        "; the database stays at version " + std::to_string(migration->from_version));
    }
    changes.put(Family::meta, kSchemaVersionKey, std::to_string(migration->to_version));
    if (auto written = write(changes, true); !written) {
      return make_error("schema migration " + step + " could not be saved: " +
                        written.error().message);
    }
    schema_version_ = migration->to_version;
    log::info("applied schema migration", {{"from", migration->from_version},
                                           {"to", migration->to_version},
                                           {"description", migration->description}});
  }
  schema_version_ = target;
  return {};
}

Result<std::optional<std::string>> Store::get(Family family, std::string_view key) const {
  rocksdb::ColumnFamilyHandle* handle = impl_->handle(family);
  if (handle == nullptr) return std::optional<std::string>();
  std::string value;
  const rocksdb::Status status = impl_->db->Get(read_options_for(family), handle, slice(key), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) {
    return database_error(status, "reading \"" + detail::printable_key(key) + "\" from family " +
                                      std::string(family_name(family)));
  }
  return std::optional<std::string>(std::move(value));
}

Result<void> Store::put(Family family, std::string_view key, std::string_view value) {
  WriteBatch single = batch();
  single.put(family, key, value);
  return write(single, false);
}

Result<void> Store::del(Family family, std::string_view key) {
  WriteBatch single = batch();
  single.del(family, key);
  return write(single, false);
}

Result<std::optional<std::string>> Store::get_encrypted(Family family, std::string_view key) const {
  auto stored = get(family, key);
  if (!stored) return stored.error();
  if (!stored->has_value()) return std::optional<std::string>();
  auto opened = crypto::open(impl_->key, **stored, associated_data(family, key));
  if (!opened) return authentication_error(family, key);
  return std::optional<std::string>(std::move(opened).value());
}

Result<void> Store::put_encrypted(Family family, std::string_view key, std::string_view plaintext) {
  WriteBatch single = batch();
  single.put_encrypted(family, key, plaintext);
  return write(single, false);
}

WriteBatch Store::batch() const { return WriteBatch(*this); }

Result<void> Store::write(const WriteBatch& batch, bool sync) {
  if (batch.impl_->store != this) {
    throw std::invalid_argument("a WriteBatch was written to a store other than the one that made it");
  }
  if (read_only_) return read_only_error();
  if (batch.impl_->error) return *batch.impl_->error;
  if (batch.empty()) return {};
  rocksdb::WriteOptions write_options;
  write_options.sync = sync;
  // RocksDB's Write takes a non-const batch but does not change its contents.
  const rocksdb::Status status =
      impl_->db->Write(write_options, const_cast<rocksdb::WriteBatch*>(&batch.impl_->batch));
  if (!status.ok()) return database_error(status, "writing to " + impl_->db_path.string());
  return {};
}

Result<void> Store::for_each_prefix(Family family, std::string_view prefix,
                                    const Visitor& visit) const {
  rocksdb::ColumnFamilyHandle* handle = impl_->handle(family);
  if (handle == nullptr) return {};
  const std::string upper = prefix_successor(prefix);
  const rocksdb::Slice upper_bound = slice(upper);
  rocksdb::ReadOptions read_options = read_options_for(family);
  if (!upper.empty()) read_options.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, handle));
  for (it->Seek(slice(prefix)); it->Valid(); it->Next()) {
    const std::string_view key = view(it->key());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, view(it->value()))) break;
  }
  if (!it->status().ok()) {
    return database_error(it->status(), "reading family " + std::string(family_name(family)));
  }
  return {};
}

Result<void> Store::for_each_prefix_encrypted(Family family, std::string_view prefix,
                                              const Visitor& visit) const {
  std::optional<Error> failure;
  auto walked = for_each_prefix(family, prefix, [&](std::string_view key, std::string_view blob) {
    auto opened = crypto::open(impl_->key, blob, associated_data(family, key));
    if (!opened) {
      failure = authentication_error(family, key);
      return false;
    }
    return visit(key, *opened);
  });
  if (!walked) return walked.error();
  if (failure) return *failure;
  return {};
}

Cursor Store::cursor(Family family) const {
  auto impl = std::make_unique<Cursor::Impl>();
  impl->store = impl_.get();
  impl->family = family;
  if (rocksdb::ColumnFamilyHandle* handle = impl_->handle(family)) {
    impl->iterator.reset(impl_->db->NewIterator(read_options_for(family), handle));
  }
  return Cursor(std::move(impl));
}

Result<void> Store::refresh() {
  if (!read_only_) return {};
  const rocksdb::Status status = impl_->db->TryCatchUpWithPrimary();
  if (!status.ok()) return database_error(status, "catching up with the writer of " + impl_->db_path.string());
  return {};
}

Result<void> Store::checkpoint(const std::filesystem::path& destination) const {
  if (read_only_) {
    return make_error("a backup needs the database open for writing; a read-only (secondary) store cannot make one");
  }
  std::error_code error;
  if (std::filesystem::exists(destination, error) || error) {
    return make_error(destination.string() + " already exists; a checkpoint is written into a new directory");
  }
  rocksdb::Checkpoint* raw = nullptr;
  if (const rocksdb::Status made = rocksdb::Checkpoint::Create(impl_->db, &raw); !made.ok()) {
    return database_error(made, "preparing a checkpoint");
  }
  const std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // A flush first keeps the copy small and self-contained in table files; the log it copies
  // covers whatever arrives in between.
  if (const rocksdb::Status written = checkpoint->CreateCheckpoint(destination.string(), 0); !written.ok()) {
    return database_error(written, "writing a checkpoint to " + destination.string());
  }
  if (::chmod(destination.c_str(), 0700) != 0) {
    return make_error("cannot make " + destination.string() + " private: " + detail::errno_text());
  }
  for (const auto& entry : std::filesystem::directory_iterator(destination, error)) {
    if (entry.is_regular_file() && ::chmod(entry.path().c_str(), 0600) != 0) {
      return make_error("cannot make " + entry.path().string() + " private: " + detail::errno_text());
    }
  }
  if (error) return make_error("cannot list " + destination.string() + ": " + error.message());
  if (auto synced = detail::sync_directory(destination); !synced) return synced.error();
  return detail::sync_directory(destination.parent_path().empty() ? "." : destination.parent_path());
}

Store::MemoryUsage Store::memory_usage() const {
  MemoryUsage usage;
  rocksdb::DB& db = *impl_->db;
  db.GetAggregatedIntProperty(rocksdb::DB::Properties::kSizeAllMemTables, &usage.memtables);
  db.GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem, &usage.table_readers);
  // One cache serves every family (they share one table factory), so it is read once, not summed.
  db.GetIntProperty(db.DefaultColumnFamily(), rocksdb::DB::Properties::kBlockCacheUsage, &usage.block_cache);
  return usage;
}

Result<void> Store::flush() {
  if (read_only_) return {};
  if (const rocksdb::Status synced = impl_->db->FlushWAL(true); !synced.ok()) {
    return database_error(synced, "syncing the write-ahead log");
  }
  std::vector<rocksdb::ColumnFamilyHandle*> families = impl_->all_handles;
  if (const rocksdb::Status flushed = impl_->db->Flush(rocksdb::FlushOptions(), families);
      !flushed.ok()) {
    return database_error(flushed, "flushing memtables");
  }
  return {};
}

}  // namespace mailtrixy::store
