#pragma once
// SyncEngine: keeps every connected account's mailbox cache current.
//
// One worker thread per account (Graph calls block; the per-mailbox limit of 4 requests in flight
// is enforced below, in the Graph layer, so one thread per account is also what keeps the sync
// from crowding out the IMAP sessions' own calls). The worker:
//   1. lists the folder tree, then runs a delta round of INBOX, then of every other folder that
//      has never completed one (the initial sync: INBOX is usable first);
//   2. then loops: a folder is due when its last round is older than
//        idle_poll_interval  if it is watched (someone has it selected or is IDLE on it), or
//        poll_interval       otherwise,
//      or at once after request_refresh(); the tree is listed again every poll_interval, and
//      after every successful listing the staging drafts of interrupted APPENDs are removed
//      (SyncedMailbox::finish_interrupted_appends: a store scan, and Graph calls only for
//      journal records left by a crash or a failed clean-up);
//      Due folders run INBOX first, then in path order; between rounds the worker sleeps until
//      the next due time or a wake-up (subscribe, request_refresh, stop);
//   3. when nothing is due, learns the exact sizes of messages in slices (see prefetch_slice),
//      so that a client's first FETCH RFC822.SIZE of a folder needs no download.
// Budget: Graph allows 10,000 requests per 10 minutes per mailbox. An idle mailbox with F folders
// costs about F + (tree listing) requests per poll_interval — 20 folders at the default 60 s is
// ~25 requests per minute, 250 per 10 minutes; even every folder watched at 15 s stays far
// below the limit. A throttled call is retried by the Graph layer (Retry-After); a round that
// still fails is logged and retried at the folder's next due time (needs_sign_in pauses the
// account until it is started again after a new sign-in).
//
// Lifecycle: start_account() for every active account at serve start and from AccountStore's
// account-connected event. For an account that already runs it returns at once: the worker
// resumes if a needs_sign_in had paused it and lists everything again (the remote reads the new
// tokens itself), and never two workers write one account's records. stop() (also the destructor) wakes every worker and joins it; a round in progress
// finishes its current Graph call first, and a page that was fetched but not applied is simply
// fetched again after the restart (delta links are stored only with the page that completes a
// round), so a stop or a kill -9 at any moment loses no UID.
//
// Threads: every method may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "mailtrixy/mail/remote_mailbox.hpp"
#include "mailtrixy/store/store.hpp"
#include "mailtrixy/sync/body_cache.hpp"
#include "mailtrixy/sync/synced_mailbox.hpp"

namespace mailtrixy::sync {

struct SyncOptions {
  std::chrono::milliseconds poll_interval{60'000};
  std::chrono::milliseconds idle_poll_interval{15'000};
  std::uint64_t body_cache_bytes = 2ULL << 30;
  // Background size learning (docs/adr/0006): when no folder is due, the worker downloads up to
  // prefetch_slice bodies whose RFC822.SIZE is unknown (INBOX first, newest first), then waits
  // prefetch_pause before the next slice. 10 per 2 s keeps it under 3,000 of Graph's 10,000
  // requests per 10 minutes per mailbox. 0 disables it.
  std::size_t prefetch_slice = 10;
  std::chrono::milliseconds prefetch_pause{2'000};
  // Wall clock in unix milliseconds (tests may substitute).
  std::function<std::int64_t()> now_ms;
  // Asked before every pass; false ends the account's worker without another write (an account
  // removed with `mailtrixy accounts remove` must not be re-created by a late round). Unset: always.
  std::function<bool(const std::string& account_key)> account_exists;
};

class SyncEngine {
 public:
  SyncEngine(store::Store& store, SyncOptions options);
  ~SyncEngine();
  SyncEngine(const SyncEngine&) = delete;
  SyncEngine& operator=(const SyncEngine&) = delete;

  // Loads the body cache index; call once before start_account().
  Result<void> open();

  // Starts the account's worker and returns its mailbox backend; for an account already running,
  // resumes it (see Lifecycle; `remote` is then unused) without blocking.
  std::shared_ptr<SyncedMailbox> start_account(const std::string& account_key,
                                               std::shared_ptr<mail::RemoteMailbox> remote);
  // The running account's backend, or nullptr.
  std::shared_ptr<SyncedMailbox> mailbox(std::string_view account_key) const;
  // Stops the account's worker (its records stay).
  void stop_account(std::string_view account_key);
  // Stops every worker; idempotent.
  void stop();

  // Completed-round counter per account, for tests and diagnostics.
  std::uint64_t rounds(std::string_view account_key) const;
  // Bodies downloaded by background size learning per account, for tests and diagnostics.
  std::uint64_t prefetched(std::string_view account_key) const;
  // Accounts whose most recent round (folder list or a folder's delta) failed, with the time
  // (options.now_ms) of the first failure since their last success, in account order. A round
  // that needs sign-in does not count: the account is paused, and reported as needing sign-in.
  // For /healthz; /metrics has the count as mailtrixy_sync_accounts_failing.
  std::vector<std::pair<std::string, std::int64_t>> failing_since() const;

 private:
  struct Worker;
  void run(Worker& worker);
  // One slice of background size learning; true when it did (or tried) work, so the worker
  // comes back after prefetch_pause.
  bool prefetch_slice(Worker& worker, const std::vector<SyncedMailbox::FolderSchedule>& folders);
  void stop_worker(const std::shared_ptr<Worker>& worker);

  store::Store& store_;
  SyncOptions options_;
  std::shared_ptr<BodyCache> bodies_;
  mutable std::mutex mutex_;
  // Shared so a mailbox's wake-up closure (held by sessions that may outlive the worker) can
  // check, through a weak_ptr, that the worker still exists.
  std::map<std::string, std::shared_ptr<Worker>, std::less<>> workers_;
};

}  // namespace mailtrixy::sync
