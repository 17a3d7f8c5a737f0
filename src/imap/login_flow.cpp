#include "login_flow.hpp"

#include <algorithm>
#include <thread>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/base/metrics.hpp"

namespace mailtrixy::imap::detail {

namespace {

void slow_down(const Context& context, std::chrono::milliseconds wanted) {
  auto delay = std::min({wanted, context.options.failed_login_delay, std::chrono::milliseconds{1000}});
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
}

std::string_view outcome_name(mail::LoginResult::Outcome outcome) {
  using Outcome = mail::LoginResult::Outcome;
  switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::wrong_credentials: return "wrong_credentials";
    case Outcome::rate_limited: return "rate_limited";
    case Outcome::needs_sign_in: return "needs_sign_in";
    case Outcome::unavailable: return "unavailable";
  }
  return "unavailable";
}

void count_login(mail::LoginResult::Outcome outcome) {
  static auto& logins = metrics::global().counter(
      "mailtrixy_imap_logins_total", "IMAP LOGIN and AUTHENTICATE attempts, by outcome.", {"outcome"});
  logins.with({outcome_name(outcome)}).inc();
}

}  // namespace

Reply privacy_required() {
  return Reply::no("Plaintext login is disabled on unencrypted connections from other hosts; use STARTTLS or the TLS port.",
                   "PRIVACYREQUIRED");
}

Reply complete_login(Context& context, std::string_view user, std::string_view password) {
  using Outcome = mail::LoginResult::Outcome;
  auto result = context.logins.login(user, password, context.info.peer_address);
  count_login(result.outcome);
  switch (result.outcome) {
    case Outcome::ok: {
      if (!result.mailbox) {
        log::error("imap login returned no mailbox", {{"account", result.account_key}, {"peer", context.info.peer}});
        return Reply::no("The bridge could not open this mailbox; please try again later.", "UNAVAILABLE");
      }
      context.account_key = result.account_key;
      context.address = result.address;
      context.mailbox = std::move(result.mailbox);
      context.state = State::authenticated;
      log::info("imap login", {{"account", context.account_key}, {"peer", context.info.peer}});
      return Reply::ok("Logged in", "CAPABILITY " + context.capabilities());
    }
    case Outcome::wrong_credentials:
      log::info("imap login failed", {{"peer", context.info.peer}, {"reason", "wrong credentials"}});
      slow_down(context, std::chrono::milliseconds{1000});
      return Reply::no("Wrong user name or bridge password; the bridge password is shown once on the bridge's web page when you connect the account.",
                       "AUTHENTICATIONFAILED");
    case Outcome::rate_limited: {
      auto seconds = std::max<long long>(
          1, std::chrono::ceil<std::chrono::seconds>(result.retry_after).count());
      log::info("imap login rate limited", {{"peer", context.info.peer}, {"retry_after_s", seconds}});
      slow_down(context, result.retry_after);
      return Reply::no("Too many failed logins; try again in " + std::to_string(seconds) + " s.", "UNAVAILABLE");
    }
    case Outcome::needs_sign_in:
      log::info("imap login needs sign-in", {{"account", result.account_key}, {"peer", context.info.peer}});
      return Reply::no("The Microsoft sign-in for this account has expired; sign in again at " +
                           (result.reconnect_url.empty() ? std::string("the bridge's web page") : result.reconnect_url),
                       "UNAVAILABLE");
    case Outcome::unavailable:
      log::warn("imap login unavailable", {{"peer", context.info.peer}, {"reason", result.message}});
      return Reply::no("The bridge cannot check logins right now; please try again in a minute.", "UNAVAILABLE");
  }
  return Reply::no("The bridge cannot check logins right now; please try again in a minute.", "UNAVAILABLE");
}

}  // namespace mailtrixy::imap::detail
