// NOOP (RFC 5321 4.1.1.9): the argument, if any, is ignored.

#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {

Outcome noop(Session::Context&, std::string_view, std::string& out) {
  append_reply(out, 250, "2.0.0", "Ok");
  return Outcome::ok;
}

}  // namespace mailtrixy::smtp::verbs
