// AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms: the mailbox address and the
// bridge password, checked by the LoginService (hashing, rate limiting, account state).

#include <chrono>
#include <string>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/base/metrics.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/smtp/command.hpp"
#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {
namespace {

// The decoded credentials are overwritten before their memory is released.
void wipe(std::string& secret) {
  volatile char* bytes = secret.data();
  for (std::size_t i = 0; i < secret.size(); ++i) bytes[i] = 0;
  secret.clear();
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// RFC 4954 4: "=" stands for an empty initial response.
Result<std::string> decode_response(std::string_view text) {
  text = trim(text);
  if (text == "=") return std::string();
  return crypto::base64_decode(text);
}

Outcome refuse_undecodable(Session::Context& context, std::string& out) {
  context.sasl = SaslExchange{};
  append_reply(out, 501, "5.5.2", "The authentication response is not valid base64");
  return Outcome::refused;
}

void count_auth(mail::LoginResult::Outcome outcome) {
  using Outcome_ = mail::LoginResult::Outcome;
  static auto& attempts =
      metrics::global().counter("mailtrixy_smtp_auth_total", "SMTP AUTH attempts, by outcome.", {"outcome"});
  std::string_view name = "unavailable";
  switch (outcome) {
    case Outcome_::ok: name = "ok"; break;
    case Outcome_::wrong_credentials: name = "wrong_credentials"; break;
    case Outcome_::rate_limited: name = "rate_limited"; break;
    case Outcome_::needs_sign_in: name = "needs_sign_in"; break;
    case Outcome_::unavailable: name = "unavailable"; break;
  }
  attempts.with({name}).inc();
}

std::string seconds_text(std::chrono::milliseconds wait) {
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
  return std::to_string(seconds < 1 ? 1 : seconds);
}

Outcome authenticate(Session::Context& context, std::string user, std::string password, std::string& out) {
  context.sasl = SaslExchange{};
  mail::LoginResult result = context.logins.login(user, password, context.info.peer_address);
  wipe(password);
  using Outcome_ = mail::LoginResult::Outcome;
  count_auth(result.outcome);
  switch (result.outcome) {
    case Outcome_::ok:
      context.authenticated = true;
      context.account_key = result.account_key;
      context.address = result.address;
      log::info("smtp authenticated", {{"session", context.info.session_id},
                                       {"account", result.account_key},
                                       {"peer", context.info.peer}});
      append_reply(out, 235, "2.7.0", "Authentication successful");
      return Outcome::ok;
    case Outcome_::wrong_credentials:
      log::info("smtp authentication failed", {{"session", context.info.session_id}, {"peer", context.info.peer}});
      append_reply(out, 535, "5.7.8",
                   "Authentication credentials invalid: use the mailbox address and the bridge password "
                   "shown when the account was connected");
      return Outcome::refused;
    case Outcome_::rate_limited:
      append_reply(out, 454, "4.7.0",
                   "Too many failed logins; try again in " + seconds_text(result.retry_after) + " seconds");
      return Outcome::refused;
    case Outcome_::needs_sign_in:
      log::warn("smtp login for an account that needs sign-in",
                {{"session", context.info.session_id}, {"account", result.account_key}});
      append_reply(out, 454, "4.7.0",
                   "The Microsoft sign-in for " + result.address + " has expired or was revoked; sign in again at " +
                       result.reconnect_url);
      return Outcome::refused;
    case Outcome_::unavailable:
      log::warn("smtp login could not be checked",
                {{"session", context.info.session_id}, {"reason", result.message}});
      append_reply(out, 454, "4.7.0", "Temporary authentication failure; try again later");
      return Outcome::refused;
  }
  append_reply(out, 454, "4.7.0", "Temporary authentication failure; try again later");
  return Outcome::refused;
}

// PLAIN: [authzid] NUL authcid NUL passwd. The bridge has no proxy authorization, so authzid
// must be empty or name the same user.
Outcome finish_plain(Session::Context& context, std::string decoded, std::string& out) {
  const std::size_t first = decoded.find('\0');
  const std::size_t second = first == std::string::npos ? std::string::npos : decoded.find('\0', first + 1);
  if (second == std::string::npos) {
    wipe(decoded);
    context.sasl = SaslExchange{};
    append_reply(out, 501, "5.5.2", "AUTH PLAIN needs \"authzid NUL user NUL password\" in base64");
    return Outcome::refused;
  }
  std::string authzid = decoded.substr(0, first);
  std::string user = decoded.substr(first + 1, second - first - 1);
  std::string password = decoded.substr(second + 1);
  wipe(decoded);
  if (!authzid.empty() && !same_address(authzid, user)) {
    wipe(password);
    context.sasl = SaslExchange{};
    append_reply(out, 535, "5.7.8", "Acting as another user is not supported; leave the authorization identity empty");
    return Outcome::refused;
  }
  return authenticate(context, std::move(user), std::move(password), out);
}

}  // namespace

Outcome auth(Session::Context& context, std::string_view arguments, std::string& out) {
  if (context.authenticated) {
    append_reply(out, 503, "5.5.1", "Already authenticated");
    return Outcome::refused;
  }
  if (context.transaction.active) {
    append_reply(out, 503, "5.5.1", "AUTH is not allowed during a mail transaction; send RSET first");
    return Outcome::refused;
  }
  if (!context.auth_allowed()) {
    append_reply(out, 538, "5.7.11", "Encryption required for authentication; send STARTTLS first");
    return Outcome::refused;
  }
  const std::size_t space = arguments.find(' ');
  std::string mechanism(arguments.substr(0, space));
  for (char& c : mechanism) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  const std::string_view initial = space == std::string_view::npos ? std::string_view() : trim(arguments.substr(space + 1));
  const bool has_initial = space != std::string_view::npos && !initial.empty();

  if (mechanism == "PLAIN") {
    if (!has_initial) {
      context.sasl.step = SaslExchange::Step::plain_response;
      append_reply(out, 334, "", "");
      return Outcome::ok;
    }
    auto decoded = decode_response(initial);
    if (!decoded) return refuse_undecodable(context, out);
    return finish_plain(context, std::move(*decoded), out);
  }
  if (mechanism == "LOGIN") {
    if (has_initial) {
      auto user = decode_response(initial);
      if (!user) return refuse_undecodable(context, out);
      context.sasl.username = std::move(*user);
      context.sasl.step = SaslExchange::Step::login_password;
      append_reply(out, 334, "", "UGFzc3dvcmQ6");  // "Password:"
      return Outcome::ok;
    }
    context.sasl.step = SaslExchange::Step::login_username;
    append_reply(out, 334, "", "VXNlcm5hbWU6");  // "Username:"
    return Outcome::ok;
  }
  if (mechanism.empty()) {
    append_reply(out, 501, "5.5.4", "Syntax: AUTH PLAIN [initial-response] or AUTH LOGIN [username]");
  } else {
    append_reply(out, 504, "5.5.4", "Unrecognized authentication mechanism; use PLAIN or LOGIN");
  }
  return Outcome::refused;
}

Outcome continue_auth(Session::Context& context, std::string_view line, std::string& out) {
  if (trim(line) == "*") {
    context.sasl = SaslExchange{};
    append_reply(out, 501, "5.7.0", "Authentication cancelled");
    return Outcome::refused;
  }
  auto decoded = decode_response(line);
  if (!decoded) return refuse_undecodable(context, out);
  switch (context.sasl.step) {
    case SaslExchange::Step::plain_response:
      return finish_plain(context, std::move(*decoded), out);
    case SaslExchange::Step::login_username:
      context.sasl.username = std::move(*decoded);
      context.sasl.step = SaslExchange::Step::login_password;
      append_reply(out, 334, "", "UGFzc3dvcmQ6");
      return Outcome::ok;
    case SaslExchange::Step::login_password: {
      std::string user = std::move(context.sasl.username);
      return authenticate(context, std::move(user), std::move(*decoded), out);
    }
    case SaslExchange::Step::none:
      break;
  }
  context.sasl = SaslExchange{};
  append_reply(out, 503, "5.5.1", "No authentication in progress");
  return Outcome::refused;
}

}  // namespace mailtrixy::smtp::verbs
