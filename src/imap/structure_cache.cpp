#include "mailtrixy/imap/structure_cache.hpp"

#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace mailtrixy::imap {

namespace {

struct KeyHash {
  std::size_t operator()(const StructureCacheKey& key) const {
    std::size_t hash = std::hash<std::string>{}(key.account);
    hash = hash * 31 + std::hash<std::string>{}(key.folder);
    hash = hash * 31 + key.uid_validity;
    hash = hash * 31 + key.uid;
    return hash;
  }
};

std::size_t part_bytes(const mime::Part& part) {
  std::size_t total = sizeof(mime::Part) + part.type.size() + part.subtype.size();
  for (const auto& parameter : part.parameters) total += sizeof(parameter) + parameter.name.size() + parameter.value.size();
  for (const auto& parameter : part.disposition_parameters) {
    total += sizeof(parameter) + parameter.name.size() + parameter.value.size();
  }
  for (const auto* text : {&part.id, &part.description, &part.encoding, &part.md5, &part.disposition, &part.location}) {
    if (*text) total += text->value().size();
  }
  for (const auto& language : part.language) total += sizeof(language) + language.size();
  if (part.envelope) total += 512;  // a header's worth of envelope strings, roughly
  for (const auto& child : part.children) total += part_bytes(child);
  return total;
}

}  // namespace

struct StructureCache::State {
  using Entry = std::pair<StructureCacheKey, std::shared_ptr<const CachedStructure>>;
  std::size_t max_bytes = 0;
  mutable std::mutex mutex;
  std::list<Entry> order;  // most recently used first
  std::unordered_map<StructureCacheKey, std::list<Entry>::iterator, KeyHash> index;
  std::size_t bytes = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;

  std::size_t cost(const Entry& entry) const {
    return estimated_bytes(*entry.second) + entry.first.account.size() + entry.first.folder.size() + 64;
  }

  void erase(std::list<Entry>::iterator it) {
    bytes -= cost(*it);
    index.erase(it->first);
    order.erase(it);
  }
};

StructureCache::StructureCache(std::size_t max_bytes) : state_(std::make_unique<State>()) {
  state_->max_bytes = max_bytes;
}

StructureCache::~StructureCache() = default;

std::size_t StructureCache::estimated_bytes(const CachedStructure& entry) {
  return sizeof(CachedStructure) + part_bytes(entry.structure.root) + entry.body_structure.size() + entry.body.size();
}

std::shared_ptr<const CachedStructure> StructureCache::find(const StructureCacheKey& key) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->index.find(key);
  if (it == state_->index.end()) {
    ++state_->misses;
    return nullptr;
  }
  ++state_->hits;
  state_->order.splice(state_->order.begin(), state_->order, it->second);
  return it->second->second;
}

void StructureCache::insert(const StructureCacheKey& key, std::shared_ptr<const CachedStructure> entry) {
  if (!entry) return;
  std::lock_guard lock(state_->mutex);
  if (auto it = state_->index.find(key); it != state_->index.end()) state_->erase(it->second);
  State::Entry fresh{key, std::move(entry)};
  std::size_t cost = state_->cost(fresh);
  if (cost > state_->max_bytes / 8) return;
  state_->order.push_front(std::move(fresh));
  state_->index.emplace(key, state_->order.begin());
  state_->bytes += cost;
  while (state_->bytes > state_->max_bytes && !state_->order.empty()) state_->erase(std::prev(state_->order.end()));
}

StructureCache::Stats StructureCache::stats() const {
  std::lock_guard lock(state_->mutex);
  return Stats{state_->index.size(), state_->bytes, state_->hits, state_->misses};
}

}  // namespace mailtrixy::imap
