#pragma once
// SyncedMailbox: mail::MailboxBackend for one account, answered from the RocksDB caches kept
// current by the sync engine, with writes going through to Microsoft (a mail::RemoteMailbox).
//
// Reads (list_folders, folder_status, list_messages, subscribed_folders) never call Graph.
// fetch_mime and message_size call Graph only on a cache miss (see docs/adr/0006-message-size.md:
// RFC822.SIZE is the exact length of the MIME the bridge serves, learned on first download and
// pinned in the metadata; bodies live in the encrypted BodyCache).
//
// Writes call the RemoteMailbox first and, once Microsoft confirmed, record the result (metadata,
// UID maps, UIDNEXT) in one atomic store batch, then publish change events. Messages the bridge
// puts into a folder (APPEND, COPY, MOVE) get their UID at once (add_local), so APPENDUID and
// COPYUID are exact; the delta round that later reports the same immutable id keeps that UID.
// \Deleted never reaches Graph: it is kept in the metadata until EXPUNGE.
//
// Interrupted APPENDs. Graph stores a non-draft APPEND through an intermediate "staging" draft
// in Drafts that it deletes last (graph-facts B9); a crash or a lost answer in between would
// leave that draft behind as a second copy. So a non-draft append first writes a journal record
// (folders family, "<acct>/#append/<nonce>": start time, target folder id, Message-ID) and
// deletes it once create_message returned; when create_message failed it first removes the
// staging draft (RemoteMailbox::delete_staging_drafts). Records still there - the process was
// killed, or Graph could not be reached for the clean-up - are finished by
// finish_interrupted_appends(), which the sync engine runs after every successful folder-tree
// round. A message without a Message-ID header cannot be found again by id and is not journaled:
// an interruption of such an APPEND can still leave its staging draft (documented limitation).
// Appends of one Message-ID are serialised with each other and with its clean-up, so a clean-up
// never removes the staging draft of an APPEND still in progress.
//
// The sync side (sync_folder_tree, sync_folder) is driven by SyncEngine; it is public so tests
// can run rounds deterministically.
//
// Delta rounds. A folder with a stored delta link gets an incremental round; one without (first
// sync, after a crash in the middle of an initial listing, or after 410 SyncStateNotFound, which
// clears the link) gets a full listing, applied page by page, whose last page expunges the
// messages that were not listed. A message that still exists keeps its UID in every case,
// because UIDs are looked up by immutable id.
//
// Change events are published while the per-account write lock is held, right after the batch
// that recorded them, so every subscriber sees a folder's events in the order they were stored.
// Callbacks must be quick and must not call back into the mailbox.
//
// Threads: every method may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/mail/backend.hpp"
#include "mailtrixy/mail/remote_mailbox.hpp"
#include "mailtrixy/store/store.hpp"
#include "mailtrixy/sync/body_cache.hpp"
#include "mailtrixy/sync/records.hpp"

namespace mailtrixy::sync {

class SyncedMailbox final : public mail::MailboxBackend {
 public:
  using NowMs = std::function<std::int64_t()>;
  SyncedMailbox(store::Store& store, std::string account_key,
                std::shared_ptr<mail::RemoteMailbox> remote, std::shared_ptr<BodyCache> bodies,
                NowMs now_ms);
  ~SyncedMailbox() override;
  SyncedMailbox(const SyncedMailbox&) = delete;
  SyncedMailbox& operator=(const SyncedMailbox&) = delete;

  // --- mail::MailboxBackend ------------------------------------------------------------------
  mail::MailResult<std::vector<mail::FolderInfo>> list_folders() override;
  mail::MailResult<mail::FolderStatus> folder_status(std::string_view path) override;
  mail::MailResult<std::vector<mail::MessageMeta>> list_messages(std::string_view path,
                                                                 mail::UidRange range) override;
  mail::MailResult<std::vector<mail::MessageFlags>> list_flags(std::string_view path) override;
  mail::MailResult<std::string> fetch_mime(std::string_view path, mail::Uid uid) override;
  mail::MailResult<std::uint64_t> message_size(std::string_view path, mail::Uid uid) override;
  mail::MailResult<std::vector<mail::MessageMeta>> store_flags(std::string_view path,
                                                               const std::vector<mail::Uid>& uids,
                                                               mail::StoreMode mode,
                                                               const mail::Flags& flags) override;
  mail::MailResult<mail::AppendResult> append(std::string_view path, std::string_view mime,
                                              const mail::Flags& flags,
                                              std::optional<mail::TimePoint> internal_date) override;
  mail::MailResult<mail::CopyResult> copy(std::string_view path, const std::vector<mail::Uid>& uids,
                                          std::string_view destination) override;
  mail::MailResult<mail::CopyResult> move(std::string_view path, const std::vector<mail::Uid>& uids,
                                          std::string_view destination) override;
  mail::MailResult<std::vector<mail::Uid>> expunge(
      std::string_view path, const std::optional<std::vector<mail::Uid>>& only) override;
  mail::MailResult<void> create_folder(std::string_view path) override;
  mail::MailResult<void> rename_folder(std::string_view from, std::string_view to) override;
  mail::MailResult<void> delete_folder(std::string_view path) override;
  mail::MailResult<void> set_subscribed(std::string_view path, bool subscribed) override;
  mail::MailResult<std::vector<std::string>> subscribed_folders() override;
  mail::MailResult<mail::ChangeSubscription> subscribe(std::string_view path,
                                                       mail::ChangeCallback on_change) override;
  mail::MailResult<void> request_refresh(std::string_view path) override;

  // --- sync side ----------------------------------------------------------------------------
  // Lists the folder tree on Graph and records it: new folders get a UIDVALIDITY, renamed or
  // moved ones keep theirs, vanished ones are removed (subscribers get folder_removed). Search
  // folders are skipped.
  mail::MailResult<void> sync_folder_tree();
  // One complete delta round of the folder (every page). On sync_state_not_found the stored
  // link is dropped and a full listing follows in the same call.
  mail::MailResult<void> sync_folder(const std::string& folder_id);

  // Background size learning (docs/adr/0006): downloads, through the body cache, up to `limit`
  // bodies of messages of `folder_id` whose RFC822.SIZE is not known yet, newest first, and pins
  // their sizes. Returns how many it downloaded; 0 means the folder has nothing left to learn
  // (until new messages arrive). A message that vanished meanwhile is skipped; any other error
  // stops the slice and is returned. Remembers where it stopped, so each message is looked at
  // once per arrival, not once per call.
  mail::MailResult<std::size_t> prefetch_sizes(const std::string& folder_id, std::size_t limit);

  // Removes the staging drafts of APPENDs that were interrupted (see the top of this file) and
  // deletes their journal records: for each record whose Message-ID no APPEND is using right
  // now, the drafts in Drafts with that Message-ID created between the record's time minus
  // kClockAllowance and plus kStagingWindow. Returns how many drafts it deleted. On a Graph error
  // the remaining records stay for the next call and the error is returned; an unreadable record
  // is dropped with a warning.
  mail::MailResult<std::size_t> finish_interrupted_appends();
  // Number of journal records (APPENDs in progress or interrupted), for tests and diagnostics.
  Result<std::size_t> pending_appends() const;
  // Microsoft's clock may be this far behind the bridge's.
  static constexpr std::chrono::seconds kClockAllowance{120};
  // Longest time from an APPEND's start to Graph creating its staging draft (queueing behind the
  // per-mailbox request limit included).
  static constexpr std::chrono::seconds kStagingWindow{900};

  // What the engine needs to schedule rounds.
  struct FolderSchedule {
    std::string id;
    std::string path;
    bool inbox = false;
    bool watched = false;            // someone is subscribed (selected or IDLE)
    bool refresh_requested = false;  // request_refresh() since the last round
    bool initial_sync_complete = false;
    std::int64_t last_round_ms = 0;  // last attempt (success or failure), 0 = never
  };
  // INBOX first, then by path.
  std::vector<FolderSchedule> schedule();
  // Called (without locks held) whenever the schedule changed: subscribe, request_refresh.
  void set_wakeup(std::function<void()> wakeup);

  // Sent Items holds one copy per sent message (spec §7). Graph already saves a copy of every
  // message the outbound queue sends, and many clients APPEND their own copy to Sent as well.
  // `recently_sent(message_id)` says whether the queue sent a message with that Message-ID a
  // short while ago (outbox::Outbox::recently_sent). When it does, an APPEND to the folder with
  // special use \Sent does not create a second copy: the folder is synced and the APPEND answers
  // with the UID of Microsoft's copy (APPENDUID stays exact). If that copy cannot be found (yet),
  // the message is appended as usual - a duplicate is better than a lost copy.
  void set_sent_copy_check(std::function<bool(std::string_view message_id)> recently_sent);

  const std::string& account() const { return state_.account(); }
  AccountState& state() { return state_; }

 private:
  // Shared with the unsubscribe closures (by weak_ptr), so a subscription handle that outlives
  // the mailbox unsubscribes harmlessly.
  struct Subscribers {
    struct Entry {
      std::uint64_t id;
      mail::ChangeCallback callback;
    };
    std::mutex mutex;
    std::map<std::string, std::vector<Entry>> by_folder;  // folder id -> subscribers
    std::uint64_t next_id = 0;
  };
  mail::MailResult<FolderRecord> find_folder(std::string_view path);
  void publish_locked(const std::string& folder_id, const std::string& path,
                      const AccountState::Applied& applied);
  void publish_event_locked(const std::string& folder_id, const mail::ChangeEvent& event);
  mail::MailResult<void> record_tree(const std::vector<mail::RemoteFolder>& remote);
  mail::MailResult<void> full_or_incremental_round(const FolderRecord& folder, bool full);
  mail::MailResult<std::string> load_mime(const std::string& folder_id, const MessageRecord& meta);
  mail::MailResult<mail::CopyResult> copy_or_move(std::string_view path,
                                                  const std::vector<mail::Uid>& uids,
                                                  std::string_view destination, bool move);
  void note_round(const std::string& folder_id);
  std::optional<mail::AppendResult> existing_sent_copy(const FolderRecord& folder, std::string_view mime);
  void wake();
  // Records a message create_message stored (cache, UID, events): the end of append().
  mail::MailResult<mail::AppendResult> record_append(const FolderRecord& folder, std::string_view mime,
                                                     const mail::Flags& flags, const mail::RemoteMessage& created);
  // Claims `message_id` for an APPEND (waiting while another APPEND or a clean-up has it) or,
  // with try_claim, for a clean-up (false if it is taken). release() gives it back.
  void claim_message_id(const std::string& message_id);
  bool try_claim_message_id(const std::string& message_id);
  void release_message_id(const std::string& message_id);

  store::Store& store_;
  AccountState state_;
  std::shared_ptr<mail::RemoteMailbox> remote_;
  std::shared_ptr<BodyCache> bodies_;
  NowMs now_ms_;

  // Serialises read-modify-write of this account's records and event publication.
  std::recursive_mutex write_mutex_;

  std::shared_ptr<Subscribers> subscribers_ = std::make_shared<Subscribers>();

  std::mutex schedule_mutex_;
  std::set<std::string> refresh_requested_;
  std::map<std::string, std::int64_t> last_round_ms_;
  std::function<void()> wakeup_;
  // prefetch_sizes() progress per folder: UIDs in [floor, below) are still to be looked at.
  struct PrefetchCursor {
    std::uint32_t floor = 1;
    std::uint32_t below = 0;  // 0: start a pass from the folder's top
    std::uint32_t pass_top = 0;
  };
  std::mutex status_cache_mutex_;
  std::map<std::string, std::pair<std::uint64_t, mail::FolderStatus>> status_cache_;  // folder id -> (generation, status)
  std::mutex prefetch_mutex_;
  std::map<std::string, PrefetchCursor> prefetch_;

  std::mutex append_mutex_;
  std::condition_variable append_released_;
  std::set<std::string> busy_message_ids_;

  std::mutex sent_check_mutex_;
  std::function<bool(std::string_view)> recently_sent_;
};

}  // namespace mailtrixy::sync
