#pragma once
// Secrets never reach logs. Two defences:
//  1. Secret<T> wraps a value whose text form is always "[redacted]"; code must call reveal()
//     on purpose to get the value, which is easy to spot in review.
//  2. redact_text() scrubs log lines of anything shaped like a credential (bearer tokens, JWTs,
//     refresh tokens, form fields such as client_secret=, password=, code=, ...), as a safety net
//     for text that came from elsewhere (HTTP bodies, URLs, error messages).

#include <string>
#include <string_view>
#include <utility>

namespace mailtrixy {

inline constexpr std::string_view kRedacted = "[redacted]";

template <typename T>
class Secret {
 public:
  Secret() = default;
  explicit Secret(T value) : value_(std::move(value)) {}
  const T& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend bool operator==(const Secret&, const Secret&) = default;

 private:
  T value_{};
};

// Returns `text` with every credential-shaped substring replaced by "[redacted]".
std::string redact_text(std::string_view text);

}  // namespace mailtrixy
