#include "mailtrixy/auth/login_rate_limiter.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace mailtrixy::auth {
namespace {

using std::chrono::milliseconds;

std::string client_key(std::string_view client_address) { return "c:" + std::string(client_address); }
std::string account_key_of(std::string_view account) {
  std::string out = "a:";
  for (const char c : account) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

}  // namespace

LoginRateLimiter::LoginRateLimiter(LoginRateLimiterOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {}

milliseconds LoginRateLimiter::remaining(const std::string& key, std::chrono::system_clock::time_point now) const {
  const auto found = entries_.find(key);
  if (found == entries_.end() || found->second.locked_until <= now) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(found->second.locked_until - now) + milliseconds(1);
}

milliseconds LoginRateLimiter::retry_after(std::string_view client_address, std::string_view account) const {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  milliseconds wait(0);
  if (!client_address.empty()) wait = std::max(wait, remaining(client_key(client_address), now));
  if (!account.empty()) wait = std::max(wait, remaining(account_key_of(account), now));
  return wait;
}

void LoginRateLimiter::fail(const std::string& key, std::chrono::system_clock::time_point now) {
  Entry& entry = entries_[key];
  if (entry.failures > 0 && now - entry.last_failure >= options_.forget_after) entry = Entry{};
  ++entry.failures;
  entry.last_failure = now;
  if (entry.failures > options_.free_failures) {
    const unsigned doublings = std::min(entry.failures - options_.free_failures - 1, 30U);
    const auto scaled = options_.first_lockout.count() * (std::int64_t{1} << doublings);
    const milliseconds lockout =
        std::min(milliseconds(std::max<std::int64_t>(scaled, 0)), options_.max_lockout);
    entry.locked_until = now + lockout;
  }
}

void LoginRateLimiter::record_failure(std::string_view client_address, std::string_view account) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  prune(now);
  if (!client_address.empty()) fail(client_key(client_address), now);
  if (!account.empty()) fail(account_key_of(account), now);
}

void LoginRateLimiter::record_success(std::string_view client_address, std::string_view account) {
  std::lock_guard lock(mutex_);
  if (!client_address.empty()) entries_.erase(client_key(client_address));
  if (!account.empty()) entries_.erase(account_key_of(account));
}

void LoginRateLimiter::prune(std::chrono::system_clock::time_point now) {
  if (entries_.size() < options_.max_tracked_keys) return;
  // Forget whatever is stale; if that is not enough, the entries whose last failure is oldest.
  std::erase_if(entries_, [&](const auto& item) {
    return now - item.second.last_failure >= options_.forget_after && item.second.locked_until <= now;
  });
  if (entries_.size() < options_.max_tracked_keys) return;
  // Still full (an attack from many addresses): drop the oldest tenth in one pass.
  std::vector<std::chrono::system_clock::time_point> times;
  times.reserve(entries_.size());
  for (const auto& item : entries_) times.push_back(item.second.last_failure);
  const std::size_t drop = std::max<std::size_t>(1, times.size() / 10);
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(drop - 1), times.end());
  const auto cutoff = times[drop - 1];
  std::erase_if(entries_, [&](const auto& item) { return item.second.last_failure <= cutoff; });
}

}  // namespace mailtrixy::auth
