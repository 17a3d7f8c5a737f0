#pragma once
// Access tokens for Graph calls, refreshed before they expire (product spec §5).
//
// access_token(key) returns the account's access token when it still has more than the refresh
// margin left; otherwise it refreshes first. The margin is min(minimum_remaining, lifetime / 2)
// — 5 minutes for Microsoft's 60-90 minute tokens, half the lifetime for the emulator's
// seconds-long test tokens, so a fresh token is never "already due".
//
// Single flight. At most one refresh per account is in progress, however many threads ask: the
// first caller that finds the token due starts it, every other caller for that account waits for
// the same outcome (100 concurrent callers → exactly one token request). Accounts do not wait for
// each other.
//
// Durability before use. A refresh answer's new refresh token (Microsoft rotates them) and
// access token are written, sealed, in one synced batch (AccountStore::store_tokens) BEFORE the
// access token is handed to anyone; if that write fails the refresh fails. A refresh answer
// without a refresh token keeps the stored one.
//
// Scheduler. A background thread (start()) refreshes each active account about
// `refresh_ahead` before its access token expires, minus a random jitter (so many accounts
// linked at once do not refresh at once), and any account whose last refresh is older than
// `idle_refresh` (24 h), so refresh tokens — valid 90 days since last use — never lapse for
// mailboxes nobody touches. It also makes sure every account's token is refreshed at start-up
// when it is already due.
//
// Failures:
//   invalid_grant (revoked, expired, consent withdrawn; also interaction_required) → the account
//       becomes needs_sign_in (AccountStore::mark_needs_sign_in, with Microsoft's first
//       description line as the reason) and is not refreshed again until it signs in again
//       (the account-connected event resets it);
//   invalid_client (wrong or expired secret, AADSTS7000215/7000222) → Integration::mark_broken;
//       no account is refreshed until the integration changes (a new secret on the admin page);
//   HTTP 429/5xx, network errors, malformed answers → per-account exponential backoff with
//       jitter: backoff_initial doubling to backoff_max; a Retry-After longer than the backoff is
//       honoured. During backoff no request is sent; callers get the cached token while it is
//       still valid, else an immediate temporarily_unavailable error — never a refresh storm.
// A still-valid cached token is returned whatever state the account or integration is in, except
// after invalidate().
//
// Threads: every method may be called from any thread; access_token() blocks for at most one
// token request (request_timeout) and should not run on network I/O threads. The destructor
// stops the scheduler and waits for it. Construct after Integration, AccountStore and HttpClient,
// destroy before them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/auth/clock.hpp"
#include "mailtrixy/auth/integration.hpp"
#include "mailtrixy/base/redact.hpp"
#include "mailtrixy/base/result.hpp"
#include "mailtrixy/net/http_client.hpp"

namespace mailtrixy::auth {

struct TokenManagerOptions {
  std::chrono::seconds minimum_remaining{300};
  std::chrono::seconds refresh_ahead{300};
  std::chrono::seconds jitter{60};
  std::chrono::hours idle_refresh{24};
  std::chrono::seconds backoff_initial{30};
  std::chrono::seconds backoff_max{1800};
  std::chrono::milliseconds request_timeout{30000};
};

enum class TokenFailure {
  none,
  unknown_account,          // no such account (removed?)
  needs_sign_in,            // the user must sign in with Microsoft again
  integration_broken,       // the admin must fix the client secret
  not_configured,           // no Client ID / secret
  temporarily_unavailable,  // Microsoft unreachable or erroring; backing off
  storage,                  // the store failed
};

// "needs_sign_in", ... for logs.
std::string_view to_string(TokenFailure failure);

class TokenManager {
 public:
  TokenManager(Integration& integration, AccountStore& accounts, net::HttpClient& http,
               TokenManagerOptions options = {}, Clock clock = system_clock());
  ~TokenManager();
  TokenManager(const TokenManager&) = delete;
  TokenManager& operator=(const TokenManager&) = delete;

  // Starts / stops the background scheduler thread (idempotent). Without start(), tokens are
  // still refreshed on demand by access_token(); tests drive the schedule with run_due_refreshes().
  void start();
  void stop();

  // The account's access token (see above). On failure the Error is one sentence for logs or the
  // client, and `failure` (when given) says which kind.
  Result<Secret<std::string>> access_token(std::string_view account_key,
                                           TokenFailure* failure = nullptr);

  // Graph rejected `rejected_token` (401 InvalidAuthenticationToken): forget it so the next
  // access_token() refreshes. A token other than the cached one (already replaced) is ignored.
  void invalidate(std::string_view account_key, const Secret<std::string>& rejected_token);

  // One scheduler pass at clock(): refreshes every account that is due. Returns when the next
  // account will be due (capped at one hour from now).
  std::chrono::system_clock::time_point run_due_refreshes();

  // Token requests sent so far (refresh grants), for metrics and tests.
  std::uint64_t refresh_requests() const { return refresh_requests_.load(); }

  struct AccountState;  // per-account cache, flight and backoff; defined in the .cpp
  struct ListenerGuard;  // lets listeners registered elsewhere outlive this object safely

 private:
  enum class Mode { on_demand, scheduled };
  std::shared_ptr<AccountState> state_for(const std::string& key);
  void forget(const std::string& key);
  Result<Secret<std::string>> obtain(const std::string& key, Mode mode, TokenFailure* failure,
                                     std::chrono::system_clock::time_point* next_due);
  void refresh_locked(const std::string& key, AccountState& state, std::unique_lock<std::mutex>& lock);
  void poke_scheduler();
  void scheduler_loop();

  Integration& integration_;
  AccountStore& accounts_;
  net::HttpClient& http_;
  TokenManagerOptions options_;
  Clock clock_;
  std::shared_ptr<ListenerGuard> guard_;

  std::mutex states_mutex_;
  std::map<std::string, std::shared_ptr<AccountState>, std::less<>> states_;
  std::atomic<std::uint64_t> refresh_requests_{0};

  std::mutex scheduler_mutex_;
  std::condition_variable scheduler_wake_;
  bool scheduler_stop_ = false;
  bool scheduler_poke_ = false;
  std::thread scheduler_;
};

}  // namespace mailtrixy::auth
