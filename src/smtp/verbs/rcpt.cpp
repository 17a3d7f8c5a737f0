// RCPT TO (RFC 5321 4.1.1.3). Every accepted recipient receives the message; the outbox adds
// those missing from the headers as Bcc (docs/smtp.md, "Recipients").

#include <string>

#include "mailtrixy/smtp/command.hpp"
#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {

Outcome rcpt(Session::Context& context, std::string_view arguments, std::string& out) {
  Transaction& transaction = context.transaction;
  if (!transaction.active) {
    append_reply(out, 503, "5.5.1", "Send MAIL FROM before RCPT TO");
    return Outcome::refused;
  }
  auto path = parse_path_argument(arguments, "TO:");
  if (!path) {
    append_reply(out, 501, "5.5.4", "Syntax: RCPT TO:<address> (" + path.error().message + ")");
    return Outcome::refused;
  }
  if (!path->parameters.empty()) {
    // NOTIFY and ORCPT belong to DSN (RFC 3461), which is not offered.
    append_reply(out, 555, "5.5.4", "RCPT parameter " + path->parameters.front().keyword + " is not supported");
    return Outcome::refused;
  }
  switch (check_address(path->address, transaction.smtputf8)) {
    case AddressCheck::ok:
      break;
    case AddressCheck::bad_syntax:
      append_reply(out, 501, "5.1.3", "Bad recipient address syntax; use RCPT TO:<name@domain>");
      return Outcome::refused;
    case AddressCheck::needs_smtputf8:
      append_reply(out, 553, "5.6.7", "The recipient address has non-ASCII characters; add SMTPUTF8 to MAIL FROM");
      return Outcome::refused;
  }
  std::string key = address_key(path->address);
  if (transaction.recipient_keys.contains(key)) {
    append_reply(out, 250, "2.1.5", "Recipient ok (already given)");
    return Outcome::ok;
  }
  if (transaction.recipients.size() >= context.options.max_recipients) {
    append_reply(out, 452, "4.5.3",
                 "Too many recipients; at most " + std::to_string(context.options.max_recipients) +
                     " per message, send the rest in another message");
    return Outcome::ok;  // not a protocol error: the client sends the message to those accepted
  }
  transaction.recipient_keys.insert(std::move(key));
  transaction.recipients.push_back(std::move(path->address));
  append_reply(out, 250, "2.1.5", "Recipient ok");
  return Outcome::ok;
}

}  // namespace mailtrixy::smtp::verbs
