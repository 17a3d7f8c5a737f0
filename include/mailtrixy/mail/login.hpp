#pragma once
// LoginService: how the IMAP and SMTP front-ends turn "user + bridge password" into an account
// and its mailbox, without knowing about the account store, the rate limiter or the sync engine.
//
// The bridge's implementation (src/app) checks the password with auth::AccountStore (scrypt,
// constant-time, rate-limited per client address and per account), then hands out the sync
// engine's backend of that account (starting its worker if it is not running). Tests use a
// small in-memory implementation over FakeMailboxBackend.
//
// Threading: thread-safe; login() blocks (password hashing, store reads), so call it from a
// thread that may block.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "mailtrixy/mail/backend.hpp"

namespace mailtrixy::mail {

struct LoginResult {
  enum class Outcome {
    ok,                 // account and mailbox are set
    wrong_credentials,  // unknown user or wrong password (indistinguishable on purpose)
    rate_limited,       // too many failures from this client or for this account; retry_after
    needs_sign_in,      // password right, but the Microsoft sign-in must be renewed: reconnect_url
    unavailable,        // the bridge cannot check right now (store failure); message says why
  };
  Outcome outcome = Outcome::wrong_credentials;
  std::string account_key;  // ok and needs_sign_in
  std::string address;      // the account's mail address (ok and needs_sign_in)
  std::shared_ptr<MailboxBackend> mailbox;  // ok only
  std::string reconnect_url;                // needs_sign_in: the web page where the user signs in again
  std::chrono::milliseconds retry_after{0};  // rate_limited
  std::string message;                       // one sentence for logs; no secrets
};

class LoginService {
 public:
  virtual ~LoginService() = default;
  // `user` is the account's address (case-insensitive); `client_address` the peer IP, used for
  // rate limiting and logs.
  virtual LoginResult login(std::string_view user, std::string_view password,
                            std::string_view client_address) = 0;
};

}  // namespace mailtrixy::mail
