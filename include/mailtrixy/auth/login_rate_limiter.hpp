#pragma once
// Throttles password guessing against bridge passwords (IMAP, SMTP) and the admin login (web).
//
// Failures are counted per client address and per account (or admin user name), separately:
//   - the first `free_failures` failures of a key cost nothing;
//   - each further failure locks that key for first_lockout, doubling per failure up to
//     max_lockout (defaults: 5 free, then 1 s, 2 s, 4 s, ... capped at 15 minutes);
//   - a key's counter is forgotten after `forget_after` without failures, and a success clears
//     the per-account counter and the per-client one for that client.
// A login is refused (without checking the password) while either key is locked, so one client
// cannot probe many accounts quickly and many clients cannot hammer one account quickly. The
// per-account lockout is capped so an attacker cannot lock a user out for long.
//
// In memory only: a restart forgets it, which is acceptable because a restart takes longer than
// the lockouts matter. Memory is bounded: at most max_tracked_keys keys are kept (the oldest
// are dropped first). Thread-safe.

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "mailtrixy/auth/clock.hpp"

namespace mailtrixy::auth {

struct LoginRateLimiterOptions {
  unsigned free_failures = 5;
  std::chrono::milliseconds first_lockout{1000};
  std::chrono::milliseconds max_lockout{15 * 60 * 1000};
  std::chrono::milliseconds forget_after{60 * 60 * 1000};
  std::size_t max_tracked_keys = 100000;
};

class LoginRateLimiter {
 public:
  explicit LoginRateLimiter(LoginRateLimiterOptions options = {}, Clock clock = system_clock());

  // How long the caller must wait before trying this client/account pair; zero when allowed.
  std::chrono::milliseconds retry_after(std::string_view client_address,
                                        std::string_view account) const;
  void record_failure(std::string_view client_address, std::string_view account);
  void record_success(std::string_view client_address, std::string_view account);

 private:
  struct Entry {
    unsigned failures = 0;
    std::chrono::system_clock::time_point last_failure{};
    std::chrono::system_clock::time_point locked_until{};
  };
  std::chrono::milliseconds remaining(const std::string& key,
                                      std::chrono::system_clock::time_point now) const;
  void fail(const std::string& key, std::chrono::system_clock::time_point now);
  void prune(std::chrono::system_clock::time_point now);

  LoginRateLimiterOptions options_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace mailtrixy::auth
