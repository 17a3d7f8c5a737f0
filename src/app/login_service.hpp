#pragma once
// BridgeLoginService: the bridge's mail::LoginService, shared by the IMAP and SMTP front-ends.
//
// login() checks the bridge password with auth::AccountStore::verify_password (scrypt, constant
// time, rate-limited per client address and per account) and answers:
//   ok              the sync engine's mailbox of the account; when its worker is not running
//                   (the account signed in while its first sync failed, or was stopped) it is
//                   started through `start_account`, the same function `serve` uses at start-up
//                   and on the account-connected event;
//   needs_sign_in   the password is right but Microsoft no longer accepts the account's tokens:
//                   reconnect_url is the web page where the user signs in again
//                   (public_url + "/settings/email-accounts");
//   rate_limited, wrong_credentials, unavailable as the account store says.
// No password ever reaches a log line or a message.
//
// Thread-safe; login() blocks (password hashing, store reads, starting a worker).

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/mail/login.hpp"
#include "mailtrixy/sync/sync_engine.hpp"

namespace mailtrixy::app {

class BridgeLoginService final : public mail::LoginService {
 public:
  // Starts the account's sync worker and returns its mailbox, or nullptr when it cannot (the
  // reason is logged by the function).
  using StartAccount = std::function<std::shared_ptr<sync::SyncedMailbox>(const std::string& account_key)>;

  // `accounts` and `sync` must outlive the service.
  BridgeLoginService(auth::AccountStore& accounts, sync::SyncEngine& sync, StartAccount start_account,
                     std::string public_url);

  mail::LoginResult login(std::string_view user, std::string_view password,
                          std::string_view client_address) override;

  // The page where a user whose account needs sign-in reconnects it.
  static std::string reconnect_url(std::string_view public_url);

 private:
  auth::AccountStore& accounts_;
  sync::SyncEngine& sync_;
  StartAccount start_account_;
  std::string reconnect_url_;
};

}  // namespace mailtrixy::app
