// QUIT (RFC 5321 4.1.1.10).

#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {

Outcome quit(Session::Context&, std::string_view, std::string& out) {
  append_reply(out, 221, "2.0.0", "Bye");
  return Outcome::close;
}

}  // namespace mailtrixy::smtp::verbs
