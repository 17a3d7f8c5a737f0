// STARTTLS (RFC 3207). The session discards whatever the client pipelined after this line and,
// once the transport finished the handshake, forgets everything learnt so far (on_tls_started).

#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {

Outcome starttls(Session::Context& context, std::string_view, std::string& out) {
  if (context.info.tls) {
    append_reply(out, 503, "5.5.1", "The connection is already encrypted");
    return Outcome::refused;
  }
  if (!context.info.starttls_available) {
    append_reply(out, 454, "4.7.0", "TLS is not available on this listener; use the implicit-TLS port");
    return Outcome::refused;
  }
  append_reply(out, 220, "2.0.0", "Ready to start TLS");
  return Outcome::start_tls;
}

}  // namespace mailtrixy::smtp::verbs
