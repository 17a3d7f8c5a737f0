#include "mailtrixy/sync/sync_engine.hpp"

#include <algorithm>
#include <atomic>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/base/metrics.hpp"

namespace mailtrixy::sync {

struct SyncEngine::Worker {
  std::string account;
  std::shared_ptr<SyncedMailbox> mailbox;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool woken = false;
  bool resume = false;
  std::atomic<std::uint64_t> rounds{0};
  std::atomic<std::uint64_t> prefetched{0};
  std::atomic<std::int64_t> failing_since_ms{0};  // 0: the last round succeeded
  std::thread thread;
};

namespace {

// Totals over every account: per-account series would grow with the accounts.
struct SyncMetrics {
  metrics::Family<metrics::Counter>& rounds = metrics::global().counter(
      "mailtrixy_sync_rounds_total", "Sync rounds (folder list or one folder's delta), by result (ok, failed).",
      {"result"});
  metrics::Gauge& last_success =
      metrics::global()
          .gauge("mailtrixy_sync_last_success_timestamp_seconds", "Unix time of the last successful sync round.")
          .get();
  metrics::Gauge& accounts_failing =
      metrics::global()
          .gauge("mailtrixy_sync_accounts_failing", "Accounts whose most recent sync round failed (sign-in aside).")
          .get();
  metrics::Counter& size_downloads =
      metrics::global()
          .counter("mailtrixy_sync_size_learning_downloads_total",
                   "Message bodies downloaded in the background to learn their exact size.")
          .get();
};

SyncMetrics& sync_metrics() {
  static SyncMetrics instance;
  return instance;
}

void round_succeeded(std::atomic<std::int64_t>& failing_since_ms, std::int64_t now_ms) {
  sync_metrics().rounds.with({"ok"}).inc();
  sync_metrics().last_success.set(static_cast<double>(now_ms) / 1000.0);
  if (failing_since_ms.exchange(0) != 0) sync_metrics().accounts_failing.sub();
}

void round_failed(std::atomic<std::int64_t>& failing_since_ms, std::int64_t now_ms) {
  sync_metrics().rounds.with({"failed"}).inc();
  std::int64_t expected = 0;
  if (failing_since_ms.compare_exchange_strong(expected, std::max<std::int64_t>(now_ms, 1)))
    sync_metrics().accounts_failing.add();
}

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

SyncEngine::SyncEngine(store::Store& store, SyncOptions options)
    : store_(store), options_(std::move(options)) {
  if (!options_.now_ms) options_.now_ms = system_now_ms;
  bodies_ = std::make_shared<BodyCache>(store_, options_.body_cache_bytes, options_.now_ms);
}

SyncEngine::~SyncEngine() { stop(); }

Result<void> SyncEngine::open() { return bodies_->load(); }

std::shared_ptr<SyncedMailbox> SyncEngine::start_account(const std::string& account_key,
                                                         std::shared_ptr<mail::RemoteMailbox> remote) {
  {
    std::lock_guard lock(mutex_);
    if (auto running = workers_.find(account_key); running != workers_.end()) {
      Worker& worker = *running->second;
      {
        std::lock_guard worker_lock(worker.mutex);
        worker.resume = true;
        worker.woken = true;
      }
      worker.wake.notify_all();
      return worker.mailbox;
    }
  }
  auto worker = std::make_shared<Worker>();
  worker->account = account_key;
  worker->mailbox = std::make_shared<SyncedMailbox>(store_, account_key, std::move(remote), bodies_, options_.now_ms);
  Worker* raw = worker.get();
  std::weak_ptr<Worker> weak = worker;
  worker->mailbox->set_wakeup([weak] {
    auto alive = weak.lock();
    if (!alive) return;
    {
      std::lock_guard lock(alive->mutex);
      alive->woken = true;
    }
    alive->wake.notify_all();
  });
  auto mailbox = worker->mailbox;
  worker->thread = std::thread([this, raw] { run(*raw); });
  std::lock_guard lock(mutex_);
  workers_[account_key] = std::move(worker);
  return mailbox;
}

std::shared_ptr<SyncedMailbox> SyncEngine::mailbox(std::string_view account_key) const {
  std::lock_guard lock(mutex_);
  auto it = workers_.find(account_key);
  return it == workers_.end() ? nullptr : it->second->mailbox;
}

std::uint64_t SyncEngine::rounds(std::string_view account_key) const {
  std::lock_guard lock(mutex_);
  auto it = workers_.find(account_key);
  return it == workers_.end() ? 0 : it->second->rounds.load();
}

std::vector<std::pair<std::string, std::int64_t>> SyncEngine::failing_since() const {
  std::vector<std::pair<std::string, std::int64_t>> failing;
  std::lock_guard lock(mutex_);
  for (const auto& [key, worker] : workers_) {
    if (const auto since = worker->failing_since_ms.load(); since != 0) failing.emplace_back(key, since);
  }
  return failing;
}

std::uint64_t SyncEngine::prefetched(std::string_view account_key) const {
  std::lock_guard lock(mutex_);
  auto it = workers_.find(account_key);
  return it == workers_.end() ? 0 : it->second->prefetched.load();
}

void SyncEngine::stop_worker(const std::shared_ptr<Worker>& worker) {
  if (!worker) return;
  {
    std::lock_guard lock(worker->mutex);
    worker->stopping = true;
  }
  worker->wake.notify_all();
  if (worker->thread.joinable()) worker->thread.join();
  worker->mailbox->set_wakeup(nullptr);
}

void SyncEngine::stop_account(std::string_view account_key) {
  std::shared_ptr<Worker> worker;
  {
    std::lock_guard lock(mutex_);
    auto it = workers_.find(account_key);
    if (it == workers_.end()) return;
    worker = std::move(it->second);
    workers_.erase(it);
  }
  stop_worker(worker);
}

void SyncEngine::stop() {
  std::map<std::string, std::shared_ptr<Worker>, std::less<>> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& [key, worker] : workers) {
    std::lock_guard lock(worker->mutex);
    worker->stopping = true;
    worker->wake.notify_all();
  }
  for (auto& [key, worker] : workers) stop_worker(worker);
}

bool SyncEngine::prefetch_slice(Worker& worker, const std::vector<SyncedMailbox::FolderSchedule>& folders) {
  for (const auto& folder : folders) {
    if (!folder.initial_sync_complete) continue;
    auto learned = worker.mailbox->prefetch_sizes(folder.id, options_.prefetch_slice);
    if (!learned) {
      log::warn("could not learn message sizes in the background; trying again later",
                {{"account", worker.account}, {"folder", folder.path}, {"code", mail::to_string(learned.code())},
                 {"reason", learned.error().message}});
      return true;
    }
    if (*learned > 0) {
      worker.prefetched += *learned;
      sync_metrics().size_downloads.inc(*learned);
      return true;
    }
  }
  return false;
}

void SyncEngine::run(Worker& worker) {
  auto& mailbox = *worker.mailbox;
  const auto poll = options_.poll_interval.count();
  const auto idle_poll = options_.idle_poll_interval.count();
  auto stopping = [&] {
    std::lock_guard lock(worker.mutex);
    return worker.stopping;
  };
  std::int64_t last_tree_ms = 0;
  bool tree_ok = false;
  bool paused = false;  // needs_sign_in: nothing works until the account signs in again
  log::info("sync started", {{"account", worker.account}});

  auto report = [&](const mail::MailError& error, std::string_view what) {
    if (error.code == mail::ErrorCode::needs_sign_in) {
      paused = true;
      // Reported as an account needing sign-in instead; a stale failure would double it.
      if (worker.failing_since_ms.exchange(0) != 0) sync_metrics().accounts_failing.sub();
      log::warn("sync paused: the account must sign in again", {{"account", worker.account}, {"reason", error.message}});
    } else {
      round_failed(worker.failing_since_ms, options_.now_ms());
      log::warn("sync round failed; retrying at the next interval",
                {{"account", worker.account}, {"what", what}, {"code", mail::to_string(error.code)}, {"reason", error.message}});
    }
  };

  while (!stopping()) {
    {
      std::lock_guard lock(worker.mutex);
      if (worker.resume) {
        worker.resume = false;
        paused = false;
        tree_ok = false;
      }
    }
    if (options_.account_exists && !options_.account_exists(worker.account)) {
      log::info("account removed; its sync ends", {{"account", worker.account}});
      break;
    }
    const std::int64_t now = options_.now_ms();
    if (!paused && (!tree_ok || now - last_tree_ms >= poll)) {
      last_tree_ms = now;
      auto tree = mailbox.sync_folder_tree();
      tree_ok = tree.ok();
      if (tree) round_succeeded(worker.failing_since_ms, options_.now_ms());
      else report(tree.error(), "folder list");
      // Graph answers again (first round after a start, or after an outage): the staging drafts
      // of APPENDs a crash or a lost answer interrupted can go now.
      if (tree_ok) {
        if (auto finished = mailbox.finish_interrupted_appends(); !finished)
          report(finished.error(), "interrupted APPEND clean-up");
      }
    }
    std::int64_t next_due = now + poll;
    if (!paused && tree_ok) {
      // INBOX first; folders whose initial sync never completed before the rest.
      auto folders = mailbox.schedule();
      std::stable_sort(folders.begin(), folders.end(), [](const auto& a, const auto& b) {
        if (a.inbox != b.inbox) return a.inbox;
        return !a.initial_sync_complete && b.initial_sync_complete;
      });
      for (const auto& folder : folders) {
        if (stopping() || paused) break;
        const std::int64_t interval = folder.watched ? idle_poll : poll;
        const std::int64_t due = folder.last_round_ms == 0 ? 0 : folder.last_round_ms + interval;
        const std::int64_t current = options_.now_ms();
        if (!folder.refresh_requested && due > current) {
          next_due = std::min(next_due, due);
          continue;
        }
        auto round = mailbox.sync_folder(folder.id);
        if (round) {
          ++worker.rounds;
          round_succeeded(worker.failing_since_ms, options_.now_ms());
        } else if (round.code() != mail::ErrorCode::not_found) report(round.error(), folder.path);
        next_due = std::min(next_due, options_.now_ms() + interval);
      }
      // Requests or subscriptions that arrived during the pass are handled without sleeping.
      for (const auto& folder : mailbox.schedule())
        if (folder.refresh_requested) next_due = options_.now_ms();
      if (!stopping() && !paused && options_.prefetch_slice > 0 && next_due > options_.now_ms()) {
        if (prefetch_slice(worker, mailbox.schedule())) next_due = std::min(next_due, options_.now_ms() + options_.prefetch_pause.count());
      }
    }
    std::unique_lock lock(worker.mutex);
    const auto wait = std::chrono::milliseconds(std::max<std::int64_t>(0, next_due - options_.now_ms()));
    worker.wake.wait_for(lock, wait, [&] { return worker.stopping || worker.woken; });
    if (paused && !worker.resume) {
      // Paused: sleep until resumed or stopped, whatever else wakes the worker.
      worker.wake.wait(lock, [&] { return worker.stopping || worker.resume; });
    }
    worker.woken = false;
  }
  if (worker.failing_since_ms.exchange(0) != 0) sync_metrics().accounts_failing.sub();
  log::info("sync stopped", {{"account", worker.account}});
}

}  // namespace mailtrixy::sync
