#pragma once
// StructureCache: a bounded, thread-safe LRU of parsed MIME structures, shared by every IMAP
// session of one server (SessionOptions::structure_cache).
//
// Why: clients ask for BODYSTRUCTURE again and again (K-9 per large message, iOS before every part
// fetch, new Outlook on every header sync). Parsing is cheap, but getting the bytes to parse may
// be a Graph round trip. With this cache a second FETCH BODYSTRUCTURE (or BODY) of the same message
// costs no backend call, and a part fetch reuses the parsed tree.
//
// Key: account + folder path + UIDVALIDITY + UID. IMAP messages are immutable under a UID within
// one UIDVALIDITY, so an entry never goes stale; a folder renamed away only leaves entries nobody
// asks for, and they age out.
//
// Size: bounded by an estimate of the bytes each entry holds (the parsed tree, its strings and the
// two rendered structures); the least recently used entries are dropped first. The default bound
// is 32 MiB, about 20,000 typical messages (1-2 KiB each); a message whose entry alone is bigger
// than an eighth of the bound is not cached.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "mailtrixy/mime/structure.hpp"

namespace mailtrixy::imap {

struct CachedStructure {
  std::uint64_t message_size = 0;  // the byte length of the MIME the structure was parsed from
  mime::MessageStructure structure;
  std::string body_structure;  // rendered value of BODYSTRUCTURE
  std::string body;            // rendered value of BODY (non-extensible)
};

struct StructureCacheKey {
  std::string account;
  std::string folder;
  std::uint32_t uid_validity = 0;
  std::uint32_t uid = 0;
  friend bool operator==(const StructureCacheKey&, const StructureCacheKey&) = default;
};

class StructureCache {
 public:
  static constexpr std::size_t kDefaultMaxBytes = 32 * 1024 * 1024;

  explicit StructureCache(std::size_t max_bytes = kDefaultMaxBytes);
  ~StructureCache();
  StructureCache(const StructureCache&) = delete;
  StructureCache& operator=(const StructureCache&) = delete;

  // The entry, marked most recently used; nullptr when absent.
  std::shared_ptr<const CachedStructure> find(const StructureCacheKey& key);
  // Adds or replaces the entry, then evicts least recently used entries over the bound.
  void insert(const StructureCacheKey& key, std::shared_ptr<const CachedStructure> entry);

  struct Stats {
    std::size_t entries = 0;
    std::size_t bytes = 0;  // estimated
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
  };
  Stats stats() const;

  // The estimated memory an entry holds; what the bound counts.
  static std::size_t estimated_bytes(const CachedStructure& entry);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mailtrixy::imap
