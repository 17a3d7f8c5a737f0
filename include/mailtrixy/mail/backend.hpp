#pragma once
// MailboxBackend: the mailbox of ONE signed-in account as the IMAP and SMTP front-ends see it.
// Folders are addressed by path (types.hpp FolderInfo::path), messages by UID within a folder.
// No JSON, no Graph ids needed by callers (MessageMeta carries the GraphId for logs only).
//
// Implementations: sync::SyncedMailbox (RocksDB caches kept current by the sync engine, writes
// through to a RemoteMailbox) and mail::FakeMailboxBackend (fake_mailbox_backend.hpp, in memory,
// for front-end unit tests).
//
// Threading: thread-safe; any number of sessions may call at once. Calls may block (RocksDB,
// and Graph for writes and uncached bodies), so front-ends call them from a thread that is
// allowed to block, never directly on an Asio thread serving other sessions.
//
// Costs (for SyncedMailbox; the fake makes no remote calls):
//   - reads of folder lists, status and metadata: no Graph call (answered from the cache);
//   - fetch_mime: none when the body is in the MIME cache, else 1;
//   - message_size: none when known, else at most 1 (then cached);
//   - writes: the Graph round trips of the matching RemoteMailbox calls (one per message for
//     flags/copy/move/expunge, batched where the implementation can), and the local state
//     (UID maps, metadata) is updated in the same atomic store batch once Graph confirmed.
//
// UID semantics (spec section 6): per folder, UIDs strictly ascend, are never reused, and survive
// restarts and re-sign-in; UIDVALIDITY never changes while the folder exists. A message
// moved/copied/appended into a folder always gets a UID >= the folder's previous UIDNEXT.
//
// Errors (MailError codes): not_found (no such folder or, where stated, UID), already_exists,
// no_permission (e.g. deleting INBOX or a special folder), invalid (bad path, bad flag, empty
// message), too_big, quota, unavailable (Microsoft unreachable or throttled: retry later),
// needs_sign_in (account must sign in again), not_supported, internal.
// UIDs that do not exist (any more) are silently skipped by bulk calls, as IMAP requires.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailtrixy/mail/error.hpp"
#include "mailtrixy/mail/types.hpp"

namespace mailtrixy::mail {

// SELECT / EXAMINE / STATUS data of one folder.
struct FolderStatus {
  UidValidity uid_validity;
  Uid uid_next;                     // the UID the next message in this folder will get
  std::uint32_t messages = 0;       // EXISTS / STATUS MESSAGES
  std::uint32_t unseen = 0;         // messages without \Seen (STATUS UNSEEN)
  std::uint32_t recent = 0;         // always 0: the bridge does not track \Recent
  std::uint32_t deleted = 0;        // messages with \Deleted (STATUS DELETED of IMAP4rev2)
  std::optional<Uid> first_unseen;  // lowest UID without \Seen, for SELECT's [UNSEEN n]
  std::uint64_t size = 0;           // sum of known RFC822.SIZE values (STATUS SIZE), 0 if unknown
  friend bool operator==(const FolderStatus&, const FolderStatus&) = default;
};

enum class StoreMode { add, remove, replace };  // +FLAGS, -FLAGS, FLAGS

// APPENDUID (RFC 4315): where the appended message went.
struct AppendResult {
  UidValidity uid_validity;
  Uid uid;
};

// COPYUID (RFC 4315): source UID -> destination UID, in ascending source order; only for
// messages that existed and were copied/moved.
struct CopyResult {
  UidValidity destination_uid_validity;
  std::vector<std::pair<Uid, Uid>> uids;  // {source, destination}
};

// What changed in a subscribed folder. Events for one folder arrive in the order the changes
// were recorded.
struct ChangeEvent {
  enum class Kind {
    message_added,     // a new UID exists (new mail, copy/move/append, from any session or Outlook)
    message_expunged,  // the UID is gone
    flags_changed,     // the message's flags changed (meta.flags holds the new set)
    folder_removed,    // the folder was deleted or renamed away; the subscription ends
  };
  Kind kind = Kind::message_added;
  std::string folder;  // path at the time of the event
  Uid uid;             // unset for folder_removed
  MessageMeta meta;    // message_added and flags_changed: the full current metadata
};

using ChangeCallback = std::function<void(const ChangeEvent&)>;

// RAII handle of one subscription. While at least one subscription on a folder is alive, the
// folder counts as "watched" (selected or IDLE): the sync engine polls it at
// sync.idle_poll_interval instead of sync.poll_interval. Destroying (or reset()) unsubscribes;
// when reset()/the destructor returns, the callback is not running and will not be called
// again. Must not be destroyed from inside its own callback. The backend must outlive every
// subscription it handed out.
class ChangeSubscription {
 public:
  ChangeSubscription() = default;
  explicit ChangeSubscription(std::function<void()> unsubscribe) : unsubscribe_(std::move(unsubscribe)) {}
  ChangeSubscription(ChangeSubscription&& other) noexcept : unsubscribe_(std::move(other.unsubscribe_)) {
    other.unsubscribe_ = nullptr;
  }
  ChangeSubscription& operator=(ChangeSubscription&& other) noexcept {
    if (this != &other) {
      reset();
      unsubscribe_ = std::move(other.unsubscribe_);
      other.unsubscribe_ = nullptr;
    }
    return *this;
  }
  ChangeSubscription(const ChangeSubscription&) = delete;
  ChangeSubscription& operator=(const ChangeSubscription&) = delete;
  ~ChangeSubscription() { reset(); }

  void reset() {
    if (unsubscribe_) {
      auto unsubscribe = std::move(unsubscribe_);
      unsubscribe_ = nullptr;
      unsubscribe();
    }
  }
  bool active() const { return static_cast<bool>(unsubscribe_); }

 private:
  std::function<void()> unsubscribe_;
};

// What SELECT needs of every message: its UID and flags.
struct MessageFlags {
  Uid uid;
  Flags flags;
  friend bool operator==(const MessageFlags&, const MessageFlags&) = default;
};

class MailboxBackend {
 public:
  virtual ~MailboxBackend() = default;

  // Every folder, parents before children, INBOX first. Cost: none.
  virtual MailResult<std::vector<FolderInfo>> list_folders() = 0;

  // SELECT/EXAMINE/STATUS data. not_found for an unknown path. Cost: none.
  virtual MailResult<FolderStatus> folder_status(std::string_view path) = 0;

  // Metadata of the messages whose UID is in `range`, ascending by UID. An empty vector when
  // none match. rfc822_size may be nullopt (not known yet). Cost: none.
  virtual MailResult<std::vector<MessageMeta>> list_messages(std::string_view path, UidRange range) = 0;

  // UID and flags of every message of the folder, ascending by UID: the same as list_messages of
  // every UID, without the rest of the metadata (SELECT of a large folder). Cost: none. The
  // default goes through list_messages; implementations may read less.
  virtual MailResult<std::vector<MessageFlags>> list_flags(std::string_view path) {
    auto messages = list_messages(path, UidRange::all());
    if (!messages) return messages.error();
    std::vector<MessageFlags> out;
    out.reserve(messages->size());
    for (auto& meta : *messages) out.push_back(MessageFlags{meta.uid, std::move(meta.flags)});
    return out;
  }

  // The full RFC 822 message, with CRLF line ends (bare LFs of the stored form become CRLF, as
  // IMAP requires). not_found when the UID does not exist. After this call
  // message_size is known and equals the returned length. Cost: none if cached, else 1.
  virtual MailResult<std::string> fetch_mime(std::string_view path, Uid uid) = 0;

  // Exact RFC822.SIZE: the byte length of what fetch_mime returns. not_found for an unknown UID.
  // Cost: none if known, else at most 1.
  virtual MailResult<std::uint64_t> message_size(std::string_view path, Uid uid) = 0;

  // STORE: applies `flags` to each existing UID per `mode` and returns the new metadata of every
  // message it touched (changed or not, for FETCH responses), ascending by UID. \Draft cannot be
  // changed (ignored: Graph has it read-only); \Deleted stays local. Subscribers of the folder
  // get flags_changed for messages whose flags actually changed. Cost: one Graph write per
  // message whose Graph-visible flags changed; none for \Deleted-only changes.
  virtual MailResult<std::vector<MessageMeta>> store_flags(std::string_view path,
                                                           const std::vector<Uid>& uids, StoreMode mode,
                                                           const Flags& flags) = 0;

  // APPEND: files `mime` in folder `path` with `flags` (not a draft unless \Draft) and
  // `internal_date` (nullopt: now). invalid for an empty message or one without a header/body
  // separator; not_found for an unknown folder. Cost: the RemoteMailbox create (1-3).
  virtual MailResult<AppendResult> append(std::string_view path, std::string_view mime, const Flags& flags,
                                          std::optional<TimePoint> internal_date) = 0;

  // COPY: copies the existing `uids` of `path` into `destination` (flags, \Deleted excepted,
  // and internal date kept). not_found when either folder does not exist. Cost: 1 per message.
  virtual MailResult<CopyResult> copy(std::string_view path, const std::vector<Uid>& uids,
                                      std::string_view destination) = 0;

  // MOVE: like copy, then the sources are expunged (subscribers of `path` get
  // message_expunged). Cost: 1 per message.
  virtual MailResult<CopyResult> move(std::string_view path, const std::vector<Uid>& uids,
                                      std::string_view destination) = 0;

  // EXPUNGE / UID EXPUNGE: removes the messages flagged \Deleted (only those in `only` when
  // given). Outside Deleted Items they move to Deleted Items (which gives them new UIDs there);
  // inside Deleted Items they are deleted permanently. Returns the expunged UIDs ascending.
  // Cost: 1 per message.
  virtual MailResult<std::vector<Uid>> expunge(std::string_view path,
                                               const std::optional<std::vector<Uid>>& only) = 0;

  // CREATE: creates `path` and any missing parents ("a/b/c"). already_exists if `path` exists;
  // invalid for a malformed path. Cost: 1 per created level.
  virtual MailResult<void> create_folder(std::string_view path) = 0;

  // RENAME: renames/moves `from` (and its children) to `to`. Renaming INBOX is not supported
  // (not_supported; IMAP's "move all INBOX mail" semantics are not offered); special folders
  // give no_permission. UIDVALIDITY and UIDs of moved folders are kept. Cost: 1-2.
  virtual MailResult<void> rename_folder(std::string_view from, std::string_view to) = 0;

  // DELETE: deletes `path` with its messages. no_permission for INBOX and special folders;
  // subscribers get folder_removed. Cost: 1.
  virtual MailResult<void> delete_folder(std::string_view path) = 0;

  // SUBSCRIBE / UNSUBSCRIBE (the IMAP LSUB list). Bridge-local; subscribing to a path that does
  // not exist is allowed (RFC 3501). Cost: none.
  virtual MailResult<void> set_subscribed(std::string_view path, bool subscribed) = 0;
  // Subscribed paths, including ones that no longer exist. Cost: none.
  virtual MailResult<std::vector<std::string>> subscribed_folders() = 0;

  // Receives every change of folder `path` from now on until the handle dies, and marks the
  // folder watched. The callback runs on a backend thread (the sync thread, or the thread
  // whose call made the change): it must be quick and must not call this backend (post the
  // event to the session's own executor instead). not_found for an unknown path. Cost: none.
  virtual MailResult<ChangeSubscription> subscribe(std::string_view path, ChangeCallback on_change) = 0;

  // Asks for the folder to be brought up to date soon (IMAP NOOP/CHECK/IDLE start); returns at
  // once, never fails for a known folder. Cost: the next delta round happens earlier.
  virtual MailResult<void> request_refresh(std::string_view path) = 0;
};

}  // namespace mailtrixy::mail
