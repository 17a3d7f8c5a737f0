#pragma once
// The wall clock the auth module reads, injectable so tests can cross expiry times without
// sleeping. Token expiry, pending sign-in expiry, account timestamps and rate-limit lockouts
// all use it; nothing in the module calls system_clock::now() directly.

#include <chrono>
#include <functional>

namespace mailtrixy::auth {

using Clock = std::function<std::chrono::system_clock::time_point()>;

inline Clock system_clock() {
  return [] { return std::chrono::system_clock::now(); };
}

}  // namespace mailtrixy::auth
