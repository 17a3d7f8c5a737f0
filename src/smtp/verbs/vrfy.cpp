// VRFY (RFC 5321 3.5.3): the bridge cannot verify remote addresses and would not tell if it
// could, so it answers the "cannot verify, but will accept" 252.

#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {

Outcome vrfy(Session::Context&, std::string_view arguments, std::string& out) {
  if (arguments.empty()) {
    append_reply(out, 501, "5.5.4", "Syntax: VRFY address");
    return Outcome::refused;
  }
  append_reply(out, 252, "2.5.0", "Cannot VRFY the address, but will accept mail for it; send it with RCPT");
  return Outcome::ok;
}

}  // namespace mailtrixy::smtp::verbs
