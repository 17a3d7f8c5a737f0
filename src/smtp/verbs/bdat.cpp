// BDAT (RFC 3030) belongs to CHUNKING, which this server does not advertise: DATA carries every
// message. A client that sends BDAT anyway is told so instead of getting "unknown command".

#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {

Outcome bdat(Session::Context&, std::string_view, std::string& out) {
  append_reply(out, 502, "5.5.1", "BDAT is not supported (CHUNKING is not offered); send the message with DATA");
  return Outcome::refused;
}

}  // namespace mailtrixy::smtp::verbs
