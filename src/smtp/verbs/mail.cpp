// MAIL FROM (RFC 5321 4.1.1.2) with SIZE (RFC 1870), BODY (RFC 6152) and SMTPUTF8 (RFC 6531).
// The sender must be the authenticated account (docs/smtp.md, "Who may be the sender").

#include <charconv>
#include <cstdint>
#include <string>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/smtp/command.hpp"
#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {
namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) { return address_key(a) == address_key(b); }

bool sender_allowed(const Session::Context& context, const std::string& address) {
  if (same_address(address, context.address)) return true;
  return context.options.may_send_as && context.options.may_send_as(context.account_key, address);
}

}  // namespace

Outcome mail(Session::Context& context, std::string_view arguments, std::string& out) {
  if (context.transaction.active) {
    append_reply(out, 503, "5.5.1", "A mail transaction is already open; send RSET to start over");
    return Outcome::refused;
  }
  auto path = parse_path_argument(arguments, "FROM:");
  if (!path) {
    append_reply(out, 501, "5.5.4", "Syntax: MAIL FROM:<address> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8] (" +
                                        path.error().message + ")");
    return Outcome::refused;
  }

  bool smtputf8 = false;
  for (const PathParameter& parameter : path->parameters) {
    if (parameter.keyword == "SIZE") {
      std::uint64_t declared = 0;
      const std::string& value = parameter.value.value_or("");
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), declared);
      if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
        append_reply(out, 501, "5.5.4", "SIZE needs a number of bytes, as in SIZE=12345");
        return Outcome::refused;
      }
      if (declared > context.options.max_message_bytes) {
        append_reply(out, 552, "5.3.4",
                     "Message size exceeds the fixed maximum message size of " +
                         std::to_string(context.options.max_message_bytes) + " bytes");
        return Outcome::refused;
      }
    } else if (parameter.keyword == "BODY") {
      const std::string& value = parameter.value.value_or("");
      if (!equals_ignoring_case(value, "7BIT") && !equals_ignoring_case(value, "8BITMIME")) {
        append_reply(out, 555, "5.5.4", "BODY must be 7BIT or 8BITMIME");
        return Outcome::refused;
      }
    } else if (parameter.keyword == "SMTPUTF8") {
      if (parameter.value) {
        append_reply(out, 555, "5.5.4", "SMTPUTF8 takes no value");
        return Outcome::refused;
      }
      smtputf8 = true;
    } else if (parameter.keyword == "AUTH") {
      // RFC 4954 5: the AUTH= identity of a relayed message; meaningless for a submission and
      // safely ignored (the sender is checked below anyway).
    } else {
      append_reply(out, 555, "5.5.4", "MAIL parameter " + parameter.keyword + " is not supported");
      return Outcome::refused;
    }
  }

  if (path->address.empty()) {
    append_reply(out, 553, "5.7.1",
                 "A null sender <> cannot be used here; send as <" + context.address + ">");
    return Outcome::refused;
  }
  switch (check_address(path->address, smtputf8)) {
    case AddressCheck::ok:
      break;
    case AddressCheck::bad_syntax:
      append_reply(out, 501, "5.1.7", "Bad sender address syntax");
      return Outcome::refused;
    case AddressCheck::needs_smtputf8:
      append_reply(out, 553, "5.6.7", "The sender address has non-ASCII characters; add SMTPUTF8 to MAIL FROM");
      return Outcome::refused;
  }
  if (!sender_allowed(context, path->address)) {
    log::info("smtp sender refused", {{"session", context.info.session_id}, {"account", context.account_key}});
    append_reply(out, 553, "5.7.1",
                 "Sender address rejected: <" + path->address + "> is not an address of the signed-in account; send as <" +
                     context.address + "> (in MAIL FROM and in From:)");
    return Outcome::refused;
  }

  context.transaction = Transaction{};
  context.transaction.active = true;
  context.transaction.from = path->address;
  context.transaction.smtputf8 = smtputf8;
  append_reply(out, 250, "2.1.0", "Sender ok");
  return Outcome::ok;
}

}  // namespace mailtrixy::smtp::verbs
