#pragma once
// The encrypted MIME cache: message bodies in the `bodies` family, sealed with the master key
// (Store::put_encrypted binds each blob to its family and key), bounded by sync.body_cache_bytes
// with least-recently-used eviction.
//
// Records (see records.hpp for the whole layout):
//   bodies  <acct>/<mid>                 sealed MIME
//           <acct>/#access/<mid>         "<last access unix ms> <bytes>"
// The access records rebuild the LRU order at start-up without decrypting any body. A body and
// its access record are written and deleted in one batch.
//
// Eviction happens on put(): while the total exceeds the bound, the least recently used bodies
// go (the one just put is never evicted, so a single body larger than the bound is still
// served once and evicted by the next put). A body that does not authenticate is dropped and
// reported as missing, so it is downloaded again.
//
// Threads: every method may be called from any thread (one mutex).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/store/store.hpp"

namespace mailtrixy::sync {

class BodyCache {
 public:
  using NowMs = std::function<std::int64_t()>;
  BodyCache(store::Store& store, std::uint64_t max_bytes, NowMs now_ms);

  // Reads the access records of every account. Call once before use.
  Result<void> load();

  std::optional<std::string> get(std::string_view account, std::string_view message_id);
  Result<void> put(std::string_view account, std::string_view message_id, std::string_view mime);
  Result<void> remove(std::string_view account, std::string_view message_id);

  std::uint64_t total_bytes() const;
  std::size_t entries() const;

 private:
  struct Entry {
    std::int64_t last_access_ms = 0;
    std::uint64_t sequence = 0;  // tie-breaker and in-process order
    std::uint64_t bytes = 0;
  };
  using Order = std::pair<std::int64_t, std::uint64_t>;
  void touch_locked(const std::string& key, Entry& entry);
  Result<void> erase_locked(const std::string& key);

  store::Store& store_;
  std::uint64_t max_bytes_;
  NowMs now_ms_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;           // "<acct>/<mid>" -> entry
  std::map<Order, std::string> lru_;               // oldest first
  std::uint64_t total_ = 0;
  std::uint64_t sequence_ = 0;
};

}  // namespace mailtrixy::sync
