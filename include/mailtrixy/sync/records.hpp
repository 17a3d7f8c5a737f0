#pragma once
// The sync engine's RocksDB record layout and the atomic operations on it.
//
// Every key starts with "<account key>/" (see auth/accounts.hpp) so AccountStore::remove()
// deletes an account's whole mailbox state by prefix. A Graph folder id or message id is
// written through encode_id(), which escapes '/', '%' and '#', so "<account>/<folder>/" is
// always an exact prefix of that folder's records and never of another folder's.
//
//   folders   <acct>/#uidvalidity          last UIDVALIDITY handed out in this account (decimal)
//             <acct>/<fid>                 JSON FolderRecord: path, parent id, display name,
//                                          special use, UIDVALIDITY, UIDNEXT, delta link,
//                                          initial-sync-complete, last sync time
//   uids      <acct>/<fid>/u/<uid:010>     Graph immutable message id   (UID -> id)
//             <acct>/<fid>/i/<mid>         UID, decimal                  (id -> UID)
//             <acct>/#sub/<path>           "" : the IMAP SUBSCRIBE list (bridge-local)
//   messages  <acct>/<fid>/<uid:010>       JSON mail::MessageMeta: flags (local \Deleted included),
//                                          keywords, internal date, size (absent = unknown),
//                                          envelope fields
//   bodies    <acct>/<mid>                 sealed MIME (put_encrypted: bound to family and key)
//             <acct>/#access/<mid>         "<last access ms> <bytes>" for the LRU bound
//
// UIDs are zero-padded to 10 digits so key order is UID order (a UID range is one cursor walk).
//
// Invariants, kept by doing every change of one folder in one WriteBatch:
//  - a UID is in u/ iff it is in i/ iff it has a messages record;
//  - UIDNEXT is greater than every UID ever assigned in the folder and never decreases, so a
//    UID is never reused, also across restarts, re-sign-ins and 410 resyncs;
//  - UIDVALIDITY is assigned once when the folder is first seen, strictly above every value the
//    account handed out before (a folder deleted and re-created gets a new one), and never
//    changes afterwards.
//
// Threads: FolderState is a plain view over the store; callers serialise writes per account
// (the SyncEngine and SyncedMailbox do so with one mutex per account).

#include <atomic>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/mail/backend.hpp"
#include "mailtrixy/mail/types.hpp"
#include "mailtrixy/store/store.hpp"

namespace mailtrixy::sync {

// Escapes '/', '%' and '#' as %2F, %25, %23 so ids are safe key segments.
std::string encode_id(std::string_view id);
std::string decode_id(std::string_view encoded);

struct FolderRecord {
  std::string id;            // Graph immutable folder id
  std::string parent_id;     // empty for top-level folders
  std::string path;          // IMAP path with '/' delimiter ("INBOX", "Projects/2026")
  std::string display_name;  // Graph displayName
  mail::SpecialUse special_use = mail::SpecialUse::none;
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 1;
  std::string delta_link;            // empty until a delta round completed
  bool initial_sync_complete = false;
  std::int64_t last_sync_ms = 0;     // unix ms of the last completed delta round
  std::uint32_t total = 0;           // Graph totalItemCount at the last tree listing
  std::uint32_t unread = 0;          // Graph unreadItemCount at the last tree listing
};

// The metadata cache holds mail::MessageMeta as is; \Deleted lives in its flags (local only).
using MessageRecord = mail::MessageMeta;

std::string to_json(const FolderRecord& folder);
Result<FolderRecord> folder_from_json(std::string_view json);
std::string to_json(const MessageRecord& message);
Result<MessageRecord> message_from_json(std::string_view json);
// Only the UID and flags of a message record, reading the JSON no further than its keywords
// (they come first): several times cheaper than message_from_json for SELECT of a large folder.
Result<mail::MessageFlags> message_flags_from_json(std::string_view json);

// Record keys (exposed for tests and the read-only `mailtrixy mailbox` command).
std::string folder_key(std::string_view account, std::string_view folder_id);
std::string folder_prefix(std::string_view account, std::string_view folder_id);  // ".../<fid>/"
std::string uid_key(std::string_view account, std::string_view folder_id, std::uint32_t uid);
std::string id_key(std::string_view account, std::string_view folder_id, std::string_view message_id);
std::string message_key(std::string_view account, std::string_view folder_id, std::uint32_t uid);

// One account's mailbox state in the store.
class AccountState {
 public:
  AccountState(store::Store& store, std::string account_key);

  const std::string& account() const { return account_; }
  store::Store& store() const { return store_; }

  Result<std::vector<FolderRecord>> folders() const;  // sorted by path
  Result<std::optional<FolderRecord>> folder(std::string_view folder_id) const;
  Result<std::optional<FolderRecord>> folder_by_path(std::string_view path) const;  // INBOX: any case

  // Creates the record of a folder seen for the first time (new UIDVALIDITY, UIDNEXT 1) or
  // updates the tree fields (path, parent, name, special use, counts) of a known one, keeping
  // its UIDVALIDITY, UIDNEXT and delta link.
  Result<FolderRecord> upsert_folder(FolderRecord tree_fields, std::int64_t now_ms);
  // Deletes a folder and every record under it (metadata, UID maps; cached bodies stay until
  // the LRU drops them).
  Result<void> remove_folder(std::string_view folder_id);

  Result<std::vector<MessageRecord>> messages(std::string_view folder_id) const;  // UID order
  Result<std::optional<MessageRecord>> message(std::string_view folder_id, std::uint32_t uid) const;
  Result<std::optional<std::uint32_t>> uid_of(std::string_view folder_id,
                                              std::string_view message_id) const;

  // One page of a folder's remote changes, applied atomically: `upserts` are messages that are
  // new or changed (matched by id: a known id keeps its UID, its local \Deleted and a size
  // already learned; an unknown id gets UIDNEXT, in the order given), `removed` are ids that
  // left the folder. `expunge_unseen_below` ends a full listing (initial sync, or the round after
  // a 410): every known message with a UID below it whose id is not in `seen_ids` is removed —
  // messages the bridge placed in the folder after the listing began (UID >= the bound) stay.
  // The delta link and sync time are updated in the same batch. Returns what changed, for
  // subscribers.
  struct Applied {
    std::vector<MessageRecord> added;    // with their new UIDs
    std::vector<MessageRecord> changed;  // flags or metadata changed
    std::vector<MessageRecord> expunged; // ascending UID
  };
  struct Changes {
    std::vector<MessageRecord> upserts;  // uid ignored
    std::vector<std::string> removed;
    std::optional<std::uint32_t> expunge_unseen_below;
    const std::set<std::string>* seen_ids = nullptr;  // with expunge_unseen_below
    std::optional<std::string> delta_link;  // set: store it; nullopt: keep the old one
    bool round_complete = false;            // marks initial sync complete and sets last sync
    std::int64_t now_ms = 0;
  };
  Result<Applied> apply(std::string_view folder_id, const Changes& changes);

  // Local writes (flags, local \Deleted, size learned, a message the bridge itself placed):
  // one batch each, UID maps included.
  Result<void> put_message(std::string_view folder_id, const MessageRecord& message);
  // Assigns the next UID to a message the bridge created or moved into the folder (APPEND, COPY,
  // MOVE) so the client learns it before the next delta round sees the id.
  Result<std::uint32_t> add_local(std::string_view folder_id, MessageRecord message);
  Result<void> remove_uids(std::string_view folder_id, const std::vector<std::uint32_t>& uids);
  // The IMAP subscription list (bridge-local, may name folders that do not exist).
  Result<void> set_subscribed(std::string_view path, bool subscribed);
  Result<std::vector<std::string>> subscribed() const;

  // Forgets the delta link (410 SyncStateNotFound): the next round lists the folder from scratch
  // as a full listing, keeping every UID whose id still exists.
  Result<void> reset_delta(std::string_view folder_id);

  // Bumped by every call that may change a folder or message record (before it writes), so a
  // value computed from the records is still current while generation() is unchanged.
  std::uint64_t generation() const { return generation_.load(); }

 private:
  Result<std::uint32_t> next_uidvalidity(std::int64_t now_ms);
  store::Store& store_;
  std::string account_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace mailtrixy::sync
