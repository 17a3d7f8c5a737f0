// HELP (RFC 5321 4.1.1.8).

#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {

Outcome help(Session::Context&, std::string_view, std::string& out) {
  append_reply(out, 214, "2.0.0",
               "Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP QUIT VRFY HELP; see docs/smtp.md");
  return Outcome::ok;
}

}  // namespace mailtrixy::smtp::verbs
