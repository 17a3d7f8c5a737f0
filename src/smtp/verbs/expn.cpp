// EXPN (RFC 5321 3.5.2): the bridge has no mailing lists to expand.

#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {

Outcome expn(Session::Context&, std::string_view, std::string& out) {
  append_reply(out, 502, "5.5.1", "EXPN is not supported by this server");
  return Outcome::refused;
}

}  // namespace mailtrixy::smtp::verbs
