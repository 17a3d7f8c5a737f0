#pragma once
// The one protocol-neutral error vocabulary of the mail layer.
//
// Every RemoteMailbox and MailboxBackend call reports failure as a MailError: a code that callers
// branch on, plus one human sentence (what is wrong, what to do) that may be shown to a user or
// logged. Each front-end translates the code exactly once (IMAP: response codes such as
// [NONEXISTENT], [ALREADYEXISTS], [TOOBIG], [UNAVAILABLE], [NOPERM], [OVERQUOTA], [AUTHORIZATIONFAILED];
// SMTP: reply + enhanced status; HTTP: status). Messages never contain tokens or passwords.

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::mail {

enum class ErrorCode {
  not_found,             // folder, message or UID does not exist (Graph 404 ErrorItemNotFound)
  already_exists,        // folder name taken (Graph 409 ErrorFolderExists)
  no_permission,         // not allowed: special folder rename/delete, Graph 403 ErrorAccessDenied
  too_big,               // message or request larger than Microsoft accepts (413)
  unavailable,           // transient: throttled past the retry budget, 5xx, network; retry later
  needs_sign_in,         // the account's tokens are gone or revoked; the user must sign in again
  quota,                 // mailbox full (403 ErrorQuotaExceeded, 507)
  invalid,               // malformed input from the caller (bad MIME, bad folder name, bad link)
  sync_state_not_found,  // a delta link expired (Graph 410 SyncStateNotFound): restart with no link
  not_supported,         // the operation has no Graph equivalent (e.g. search folders are read-only)
  internal,              // a bug or an impossible state; logged, reported as a server error
};

// Stable lower_snake name of the code ("not_found"), for logs and tests.
std::string_view to_string(ErrorCode code);

struct MailError {
  ErrorCode code = ErrorCode::internal;
  std::string message;  // one sentence: what is wrong and, where known, what to do
};

inline MailError make_mail_error(ErrorCode code, std::string message) {
  return MailError{code, std::move(message)};
}

// MailResult<T>: a value or a MailError. Same shape as mailtrixy::Result<T> but the error carries a
// code; to_error() drops the code where a module-independent Error is wanted.
template <typename T>
class [[nodiscard]] MailResult {
 public:
  MailResult(T value) : state_(std::in_place_index<0>, std::move(value)) {}          // NOLINT
  MailResult(MailError error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const MailError& error() const { return std::get<1>(state_); }
  ErrorCode code() const { return error().code; }
  Error to_error() const { return Error{error().message}; }

 private:
  std::variant<T, MailError> state_;
};

template <>
class [[nodiscard]] MailResult<void> {
 public:
  MailResult() = default;
  MailResult(MailError error) : error_(std::move(error)), failed_(true) {}  // NOLINT
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const MailError& error() const { return error_; }
  ErrorCode code() const { return error_.code; }
  Error to_error() const { return Error{error_.message}; }

 private:
  MailError error_;
  bool failed_ = false;
};

}  // namespace mailtrixy::mail
