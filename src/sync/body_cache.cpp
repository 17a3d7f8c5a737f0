#include "mailtrixy/sync/body_cache.hpp"

#include <charconv>
#include <vector>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/sync/records.hpp"

namespace mailtrixy::sync {
namespace {

constexpr std::string_view kAccess = "/#access/";

std::string body_key(std::string_view account, std::string_view message_id) {
  return std::string(account) + "/" + encode_id(message_id);
}
std::string access_key(std::string_view body) {
  auto slash = body.find('/');
  return std::string(body.substr(0, slash)) + std::string(kAccess) + std::string(body.substr(slash + 1));
}

}  // namespace

BodyCache::BodyCache(store::Store& store, std::uint64_t max_bytes, NowMs now_ms)
    : store_(store), max_bytes_(max_bytes), now_ms_(std::move(now_ms)) {}

Result<void> BodyCache::load() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  lru_.clear();
  total_ = 0;
  std::vector<std::pair<std::string, Entry>> found;
  auto walked = store_.for_each_prefix(store::Family::bodies, "", [&](std::string_view key, std::string_view value) {
    auto marker = key.find(kAccess);
    if (marker == std::string_view::npos) return true;
    std::string body = std::string(key.substr(0, marker)) + "/" + std::string(key.substr(marker + kAccess.size()));
    Entry entry;
    auto space = value.find(' ');
    if (space == std::string_view::npos) return true;
    std::from_chars(value.data(), value.data() + space, entry.last_access_ms);
    std::from_chars(value.data() + space + 1, value.data() + value.size(), entry.bytes);
    found.emplace_back(std::move(body), entry);
    return true;
  });
  if (!walked) return walked.error();
  for (auto& [key, entry] : found) {
    entry.sequence = ++sequence_;
    lru_.emplace(Order{entry.last_access_ms, entry.sequence}, key);
    total_ += entry.bytes;
    entries_.emplace(std::move(key), entry);
  }
  return {};
}

void BodyCache::touch_locked(const std::string& key, Entry& entry) {
  lru_.erase(Order{entry.last_access_ms, entry.sequence});
  entry.last_access_ms = now_ms_();
  entry.sequence = ++sequence_;
  lru_.emplace(Order{entry.last_access_ms, entry.sequence}, key);
}

std::optional<std::string> BodyCache::get(std::string_view account, std::string_view message_id) {
  const std::string key = body_key(account, message_id);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  auto body = store_.get_encrypted(store::Family::bodies, key);
  if (!body || !body.value()) {
    if (!body) log::warn("dropping a cached message body that cannot be read", {{"reason", body.error().message}});
    (void)erase_locked(key);
    return std::nullopt;
  }
  touch_locked(key, it->second);
  // Persisting the access time keeps the LRU order across restarts; losing one is harmless.
  (void)store_.put(store::Family::bodies, access_key(key),
                   std::to_string(it->second.last_access_ms) + " " + std::to_string(it->second.bytes));
  return std::move(*body.value());
}

Result<void> BodyCache::put(std::string_view account, std::string_view message_id, std::string_view mime) {
  const std::string key = body_key(account, message_id);
  std::lock_guard lock(mutex_);
  if (auto old = entries_.find(key); old != entries_.end()) {
    lru_.erase(Order{old->second.last_access_ms, old->second.sequence});
    total_ -= old->second.bytes;
    entries_.erase(old);
  }
  Entry entry;
  entry.bytes = mime.size();
  entry.last_access_ms = now_ms_();
  entry.sequence = ++sequence_;
  auto batch = store_.batch();
  batch.put_encrypted(store::Family::bodies, key, mime);
  batch.put(store::Family::bodies, access_key(key),
            std::to_string(entry.last_access_ms) + " " + std::to_string(entry.bytes));
  auto written = store_.write(batch, false);
  if (!written) return written.error();
  lru_.emplace(Order{entry.last_access_ms, entry.sequence}, key);
  entries_.emplace(key, entry);
  total_ += entry.bytes;
  while (total_ > max_bytes_ && lru_.size() > 1) {
    auto oldest = lru_.begin()->second;
    if (oldest == key) break;
    auto erased = erase_locked(oldest);
    if (!erased) return erased;
  }
  return {};
}

Result<void> BodyCache::erase_locked(const std::string& key) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    lru_.erase(Order{it->second.last_access_ms, it->second.sequence});
    total_ -= it->second.bytes;
    entries_.erase(it);
  }
  auto batch = store_.batch();
  batch.del(store::Family::bodies, key);
  batch.del(store::Family::bodies, access_key(key));
  return store_.write(batch, false);
}

Result<void> BodyCache::remove(std::string_view account, std::string_view message_id) {
  std::lock_guard lock(mutex_);
  return erase_locked(body_key(account, message_id));
}

std::uint64_t BodyCache::total_bytes() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::size_t BodyCache::entries() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace mailtrixy::sync
