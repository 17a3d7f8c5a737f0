// RSET (RFC 5321 4.1.1.5): abort the mail transaction; authentication and greeting stay.

#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {

Outcome rset(Session::Context& context, std::string_view, std::string& out) {
  context.reset_transaction();
  append_reply(out, 250, "2.0.0", "Ok");
  return Outcome::ok;
}

}  // namespace mailtrixy::smtp::verbs
