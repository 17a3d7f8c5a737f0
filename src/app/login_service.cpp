#include "login_service.hpp"

#include <utility>

#include "mailtrixy/base/log.hpp"

namespace mailtrixy::app {

using mail::LoginResult;

BridgeLoginService::BridgeLoginService(auth::AccountStore& accounts, sync::SyncEngine& sync,
                                       StartAccount start_account, std::string public_url)
    : accounts_(accounts),
      sync_(sync),
      start_account_(std::move(start_account)),
      reconnect_url_(reconnect_url(public_url)) {}

std::string BridgeLoginService::reconnect_url(std::string_view public_url) {
  while (public_url.ends_with('/')) public_url.remove_suffix(1);
  return std::string(public_url) + "/settings/email-accounts";
}

LoginResult BridgeLoginService::login(std::string_view user, std::string_view password,
                                      std::string_view client_address) {
  auth::LoginAttempt attempt = accounts_.verify_password(user, password, client_address);
  LoginResult result;
  if (attempt.account) {
    result.account_key = attempt.account->key;
    result.address = attempt.account->address;
  }
  result.message = attempt.message;
  switch (attempt.outcome) {
    case auth::LoginAttempt::Outcome::ok: {
      std::shared_ptr<sync::SyncedMailbox> mailbox = sync_.mailbox(result.account_key);
      if (!mailbox && start_account_) mailbox = start_account_(result.account_key);
      if (!mailbox) {
        result.outcome = LoginResult::Outcome::unavailable;
        result.message = "the account's mailbox could not be opened; see the bridge's log";
        log::warn("login refused: the mailbox could not be opened",
                  {{"account", result.account_key}, {"client", client_address}});
        return result;
      }
      result.outcome = LoginResult::Outcome::ok;
      result.mailbox = std::move(mailbox);
      return result;
    }
    case auth::LoginAttempt::Outcome::wrong_credentials:
      result.outcome = LoginResult::Outcome::wrong_credentials;
      if (result.message.empty()) result.message = "unknown user or wrong password";
      return result;
    case auth::LoginAttempt::Outcome::rate_limited:
      result.outcome = LoginResult::Outcome::rate_limited;
      result.retry_after = attempt.retry_after;
      if (result.message.empty()) result.message = "too many failed logins; try again later";
      return result;
    case auth::LoginAttempt::Outcome::needs_sign_in:
      result.outcome = LoginResult::Outcome::needs_sign_in;
      result.reconnect_url = reconnect_url_;
      if (result.message.empty()) result.message = "the account must sign in with Microsoft again";
      return result;
    case auth::LoginAttempt::Outcome::unavailable:
      result.outcome = LoginResult::Outcome::unavailable;
      if (result.message.empty()) result.message = "the account store cannot be read right now";
      log::warn("login could not be checked", {{"client", client_address}, {"reason", result.message}});
      return result;
  }
  result.outcome = LoginResult::Outcome::unavailable;
  return result;
}

}  // namespace mailtrixy::app
