#include "mailtrixy/auth/token_manager.hpp"

#include <algorithm>
#include <random>

#include "mailtrixy/auth/oauth.hpp"
#include "mailtrixy/auth/token_endpoint.hpp"
#include "mailtrixy/base/log.hpp"

namespace mailtrixy::auth {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;
using time_point = system_clock::time_point;

// Uniform in [0, range].
milliseconds random_up_to(milliseconds range) {
  if (range.count() <= 0) return milliseconds(0);
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> distribution(0, range.count());
  return milliseconds(distribution(generator));
}

bool is_invalid_client(const TokenEndpointError& error) {
  const std::int64_t code = error.aadsts();
  return error.error == "invalid_client" || code == 7000215 || code == 7000222 || code == 7000218;
}

bool needs_new_sign_in(const TokenEndpointError& error) {
  return error.error == "invalid_grant" || error.error == "interaction_required" ||
         error.error == "consent_required";
}

}  // namespace

std::string_view to_string(TokenFailure failure) {
  switch (failure) {
    case TokenFailure::none: return "none";
    case TokenFailure::unknown_account: return "unknown_account";
    case TokenFailure::needs_sign_in: return "needs_sign_in";
    case TokenFailure::integration_broken: return "integration_broken";
    case TokenFailure::not_configured: return "not_configured";
    case TokenFailure::temporarily_unavailable: return "temporarily_unavailable";
    case TokenFailure::storage: return "storage";
  }
  return "unknown";
}

struct TokenManager::AccountState {
  std::mutex mutex;
  std::condition_variable flight_done;
  bool loaded = false;
  bool retired = false;  // the account was re-linked or removed: this state's results are stale
  std::optional<StoredTokens> tokens;
  time_point last_refresh{};
  milliseconds jitter{0};  // drawn once per access token, so the schedule does not wander

  bool refreshing = false;
  std::uint64_t flights = 0;
  TokenFailure last_failure = TokenFailure::none;
  std::string last_error;

  bool needs_sign_in = false;
  std::string needs_sign_in_reason;

  unsigned backoff_level = 0;
  time_point retry_not_before{};
};

struct TokenManager::ListenerGuard {
  std::mutex mutex;
  TokenManager* self = nullptr;
};

TokenManager::TokenManager(Integration& integration, AccountStore& accounts, net::HttpClient& http,
                           TokenManagerOptions options, Clock clock)
    : integration_(integration),
      accounts_(accounts),
      http_(http),
      options_(options),
      clock_(std::move(clock)),
      guard_(std::make_shared<ListenerGuard>()) {
  guard_->self = this;
  accounts_.subscribe_account_connected([guard = guard_](const Account& account, bool) {
    std::lock_guard lock(guard->mutex);
    if (guard->self == nullptr) return;
    guard->self->forget(account.key);
    guard->self->poke_scheduler();
  });
  integration_.subscribe_changed([guard = guard_] {
    std::lock_guard lock(guard->mutex);
    if (guard->self != nullptr) guard->self->poke_scheduler();
  });
}

TokenManager::~TokenManager() {
  {
    std::lock_guard lock(guard_->mutex);
    guard_->self = nullptr;
  }
  stop();
}

void TokenManager::start() {
  std::lock_guard lock(scheduler_mutex_);
  if (scheduler_.joinable()) return;
  scheduler_stop_ = false;
  scheduler_ = std::thread([this] { scheduler_loop(); });
}

void TokenManager::stop() {
  {
    std::lock_guard lock(scheduler_mutex_);
    if (!scheduler_.joinable()) return;
    scheduler_stop_ = true;
  }
  scheduler_wake_.notify_all();
  scheduler_.join();
  std::lock_guard lock(scheduler_mutex_);
  scheduler_ = std::thread();
}

void TokenManager::poke_scheduler() {
  {
    std::lock_guard lock(scheduler_mutex_);
    scheduler_poke_ = true;
  }
  scheduler_wake_.notify_all();
}

std::shared_ptr<TokenManager::AccountState> TokenManager::state_for(const std::string& key) {
  std::lock_guard lock(states_mutex_);
  auto& slot = states_[key];
  if (!slot) slot = std::make_shared<AccountState>();
  return slot;
}

void TokenManager::forget(const std::string& key) {
  std::shared_ptr<AccountState> old;
  {
    std::lock_guard lock(states_mutex_);
    auto found = states_.find(key);
    if (found == states_.end()) return;
    old = std::move(found->second);
    states_.erase(found);
  }
  std::lock_guard lock(old->mutex);
  old->retired = true;
}

void TokenManager::invalidate(std::string_view account_key, const Secret<std::string>& rejected_token) {
  auto state = state_for(std::string(account_key));
  std::lock_guard lock(state->mutex);
  if (state->tokens && state->tokens->access_token == rejected_token) {
    state->tokens->access_token_expires_at = time_point{};
  }
}

Result<Secret<std::string>> TokenManager::access_token(std::string_view account_key, TokenFailure* failure) {
  return obtain(std::string(account_key), Mode::on_demand, failure, nullptr);
}

Result<Secret<std::string>> TokenManager::obtain(const std::string& key, Mode mode, TokenFailure* failure,
                                                 time_point* next_due) {
  const auto fail = [&](TokenFailure kind, std::string message) -> Result<Secret<std::string>> {
    if (failure != nullptr) *failure = kind;
    return make_error(std::move(message));
  };
  if (failure != nullptr) *failure = TokenFailure::none;
  auto state = state_for(key);
  std::unique_lock lock(state->mutex);

  if (!state->loaded) {
    auto account = accounts_.find(key);
    if (!account) return fail(TokenFailure::storage, "the account database cannot be read: " + account.error().message);
    if (!account->has_value()) return fail(TokenFailure::unknown_account, "there is no account \"" + key + "\"");
    auto tokens = accounts_.load_tokens(key);
    if (!tokens) return fail(TokenFailure::storage, "the account's tokens cannot be read: " + tokens.error().message);
    state->tokens = std::move(*tokens);
    state->last_refresh = (*account)->last_refresh;
    state->needs_sign_in = (*account)->status == AccountStatus::needs_sign_in;
    state->needs_sign_in_reason = (*account)->needs_sign_in_reason;
    if (state->tokens) {
      const auto lifetime = duration_cast<milliseconds>(state->tokens->access_token_lifetime);
      state->jitter = random_up_to(std::min(duration_cast<milliseconds>(options_.jitter), lifetime / 4));
    }
    state->loaded = true;
  }

  const auto lifetime_of = [&] {
    const auto lifetime = state->tokens ? state->tokens->access_token_lifetime : seconds(0);
    return lifetime.count() > 0 ? lifetime : seconds(3600);
  };
  // When the scheduler should refresh: ahead of expiry, and at least every idle_refresh.
  const auto due_at = [&] {
    if (!state->tokens) return time_point{};
    const auto half_life = duration_cast<milliseconds>(lifetime_of()) / 2;
    const auto lead = std::min(duration_cast<milliseconds>(options_.refresh_ahead), half_life) + state->jitter;
    const auto due = std::min(state->tokens->access_token_expires_at - lead, state->last_refresh + options_.idle_refresh);
    return std::max(due, state->retry_not_before);
  };

  bool after_flight = false;
  for (;;) {
    const time_point now = clock_();
    const bool valid = state->tokens && !state->tokens->access_token.empty() &&
                       now < state->tokens->access_token_expires_at;
    if (after_flight) {
      // Whoever ran the flight, its outcome is the answer: no second request from this caller.
      if (valid && state->last_failure == TokenFailure::none) {
        if (next_due != nullptr) *next_due = due_at();
        return state->tokens->access_token;
      }
      if (next_due != nullptr) *next_due = due_at();
      if (valid && mode == Mode::on_demand) return state->tokens->access_token;
      if (state->last_failure != TokenFailure::none) return fail(state->last_failure, state->last_error);
      return fail(TokenFailure::temporarily_unavailable, "the refreshed access token expired at once");
    }
    const auto margin =
        std::min(duration_cast<milliseconds>(options_.minimum_remaining), duration_cast<milliseconds>(lifetime_of()) / 2);
    const bool fresh = valid && (mode == Mode::on_demand ? state->tokens->access_token_expires_at - now > margin
                                                         : now < due_at());
    if (fresh) {
      if (next_due != nullptr) *next_due = due_at();
      return state->tokens->access_token;
    }
    if (state->refreshing) {
      const std::uint64_t seen = state->flights;
      state->flight_done.wait(lock, [&] { return state->flights != seen; });
      after_flight = true;
      continue;
    }
    // Due, but maybe not allowed to refresh: then a still-valid token is better than nothing.
    const bool usable = valid && mode == Mode::on_demand;
    if (state->needs_sign_in) {
      if (usable) return state->tokens->access_token;
      return fail(TokenFailure::needs_sign_in,
                  "the account must sign in with Microsoft again" +
                      (state->needs_sign_in_reason.empty() ? std::string() : " (" + state->needs_sign_in_reason + ")"));
    }
    const IntegrationStatus status = integration_.status();
    if (status.state != IntegrationState::ok) {
      if (next_due != nullptr) *next_due = now + std::chrono::hours(1);
      if (usable) return state->tokens->access_token;
      return fail(status.state == IntegrationState::broken ? TokenFailure::integration_broken
                                                           : TokenFailure::not_configured,
                  status.reason + " " + status.fix);
    }
    if (now < state->retry_not_before) {
      if (next_due != nullptr) *next_due = state->retry_not_before;
      if (usable) return state->tokens->access_token;
      const auto wait = duration_cast<seconds>(state->retry_not_before - now).count() + 1;
      return fail(TokenFailure::temporarily_unavailable,
                  state->last_error + "; the next attempt is in " + std::to_string(wait) + " s");
    }
    if (!state->tokens || state->tokens->refresh_token.empty()) {
      return fail(TokenFailure::needs_sign_in, "the account has no refresh token; sign in with Microsoft again");
    }
    refresh_locked(key, *state, lock);
    after_flight = true;
  }
}

// Runs one refresh flight. Called with `lock` held and state.refreshing false; returns with it
// held, refreshing false again, and every waiter woken.
void TokenManager::refresh_locked(const std::string& key, AccountState& state, std::unique_lock<std::mutex>& lock) {
  state.refreshing = true;
  const Secret<std::string> refresh_token = state.tokens->refresh_token;
  const IntegrationSettings settings = integration_.current();
  lock.unlock();

  struct Outcome {
    TokenFailure failure = TokenFailure::none;
    std::string error;
    std::optional<StoredTokens> tokens;
    std::optional<seconds> retry_after;
    bool needs_sign_in = false;
  } outcome;

  const auto temporary = [&](std::string message) {
    outcome.failure = TokenFailure::temporarily_unavailable;
    outcome.error = std::move(message);
  };

  try {
    net::HttpClientRequest request;
    request.method = "POST";
    request.url = settings.token_endpoint();
    request.timeout = options_.request_timeout;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    request.body = net::form_encode({
        {"client_id", settings.client_id},
        {"scope", kSignInScopes},
        {"refresh_token", refresh_token.reveal()},
        {"grant_type", "refresh_token"},
        {"client_secret", settings.client_secret.reveal()},
    });
    refresh_requests_.fetch_add(1);
    auto response = http_.send(request);
    const time_point received = clock_();
    if (!response) {
      temporary("Microsoft's token endpoint could not be reached: " + response.error().message);
    } else if (response->status == 200) {
      auto granted = parse_token_response(response->body, received);
      if (!granted) {
        temporary("Microsoft's token endpoint gave an unusable answer: " + granted.error().message);
      } else {
        StoredTokens stored;
        stored.access_token = granted->access_token;
        // Microsoft rotates refresh tokens; an answer without one leaves the old one valid.
        stored.refresh_token = granted->refresh_token.empty() ? refresh_token : granted->refresh_token;
        stored.access_token_expires_at = granted->expires_at;
        stored.access_token_lifetime = granted->expires_in;
        stored.scopes = granted->scopes;
        bool retired = false;
        {
          std::lock_guard relock(state.mutex);
          retired = state.retired;
        }
        auto written = retired ? Result<void>(make_error("the account was re-linked or removed during the refresh"))
                               : accounts_.store_tokens(key, stored);
        if (!written) {
          outcome.failure = retired ? TokenFailure::unknown_account : TokenFailure::storage;
          outcome.error = "the refreshed tokens could not be stored: " + written.error().message;
        } else {
          outcome.tokens = std::move(stored);
        }
      }
    } else {
      const TokenEndpointError error = parse_token_error(response->status, response->body);
      const std::string code = error.aadsts() != 0 ? "AADSTS" + std::to_string(error.aadsts()) : error.error;
      if (needs_new_sign_in(error)) {
        outcome.failure = TokenFailure::needs_sign_in;
        outcome.needs_sign_in = true;
        outcome.error = error.description.empty() ? "Microsoft refused the refresh token (" + error.error + ")"
                                                  : error.description;
      } else if (is_invalid_client(error)) {
        outcome.failure = TokenFailure::integration_broken;
        integration_.mark_broken(code, error.description);
        const IntegrationStatus status = integration_.status();
        outcome.error = status.reason + " " + status.fix;
      } else {
        if (response->status == 429 || response->status == 503) {
          if (const auto header = response->header("Retry-After")) {
            outcome.retry_after = parse_retry_after(*header, received);
          }
        }
        temporary("Microsoft's token endpoint answered HTTP " + std::to_string(response->status) +
                  (code.empty() ? std::string() : " (" + code + ")"));
      }
    }
  } catch (const std::exception& e) {
    temporary(std::string("the token refresh failed unexpectedly: ") + e.what());
  }

  if (outcome.needs_sign_in) {
    bool retired = false;
    {
      std::lock_guard relock(state.mutex);
      retired = state.retired;
    }
    if (!retired) {
      if (auto marked = accounts_.mark_needs_sign_in(key, outcome.error); !marked) {
        log::error("the account could not be marked as needing sign-in",
                   {{"account", key}, {"error", marked.error().message}});
      }
    }
  }

  lock.lock();
  const time_point now = clock_();
  state.last_failure = outcome.failure;
  if (outcome.tokens) {
    state.tokens = std::move(outcome.tokens);
    state.last_refresh = now;
    state.backoff_level = 0;
    state.retry_not_before = {};
    state.last_error.clear();
    const auto lifetime = duration_cast<milliseconds>(state.tokens->access_token_lifetime);
    state.jitter = random_up_to(std::min(duration_cast<milliseconds>(options_.jitter), lifetime / 4));
    log::debug("access token refreshed", {{"account", key}});
  } else {
    state.last_error = outcome.error;
    if (outcome.needs_sign_in) {
      state.needs_sign_in = true;
      state.needs_sign_in_reason = outcome.error;
    } else if (outcome.failure == TokenFailure::temporarily_unavailable || outcome.failure == TokenFailure::storage) {
      // Exponential backoff with "equal jitter": half fixed, half random, so accounts that failed
      // together do not retry together.
      state.backoff_level = std::min(state.backoff_level + 1, 30U);
      const auto initial = duration_cast<milliseconds>(options_.backoff_initial);
      const auto ceiling = duration_cast<milliseconds>(options_.backoff_max);
      milliseconds base = initial;
      for (unsigned i = 1; i < state.backoff_level && base < ceiling; ++i) base *= 2;
      base = std::min(base, ceiling);
      milliseconds delay = base / 2 + random_up_to(base / 2);
      if (outcome.retry_after) delay = std::max(delay, duration_cast<milliseconds>(*outcome.retry_after));
      state.retry_not_before = now + delay;
      log::warn("token refresh failed; backing off",
                {{"account", key}, {"error", outcome.error}, {"retry_in_ms", delay.count()}});
    }
  }
  state.refreshing = false;
  ++state.flights;
  state.flight_done.notify_all();
}

time_point TokenManager::run_due_refreshes() {
  const time_point now = clock_();
  time_point next = now + std::chrono::hours(1);
  if (integration_.status().state != IntegrationState::ok) return next;  // a change pokes the scheduler
  auto accounts = accounts_.list();
  if (!accounts) {
    log::error("the token scheduler cannot list accounts", {{"error", accounts.error().message}});
    return now + std::chrono::minutes(1);
  }
  for (const Account& account : *accounts) {
    if (account.status == AccountStatus::needs_sign_in) continue;
    time_point due = now + std::chrono::hours(1);
    TokenFailure failure = TokenFailure::none;
    auto token = obtain(account.key, Mode::scheduled, &failure, &due);
    if (!token && failure == TokenFailure::storage) due = now + std::chrono::minutes(1);
    next = std::min(next, due);
  }
  return next;
}

void TokenManager::scheduler_loop() {
  log::debug("token refresh scheduler started");
  for (;;) {
    time_point next;
    try {
      next = run_due_refreshes();
    } catch (const std::exception& e) {
      log::error("token refresh scheduler pass failed", {{"error", e.what()}});
      next = clock_() + std::chrono::minutes(1);
    }
    std::unique_lock lock(scheduler_mutex_);
    if (scheduler_stop_) break;
    // At least a second between passes, however overdue something is: never a busy loop.
    const auto wait = std::clamp<milliseconds>(duration_cast<milliseconds>(next - clock_()), milliseconds(1000),
                                               milliseconds(3600 * 1000));
    scheduler_wake_.wait_for(lock, wait, [&] { return scheduler_stop_ || scheduler_poke_; });
    scheduler_poke_ = false;
    if (scheduler_stop_) break;
  }
  log::debug("token refresh scheduler stopped");
}

}  // namespace mailtrixy::auth
