#include "../command_table.hpp"

namespace mailtrixy::imap::detail {

// The session returns start_tls after this reply and drops every byte already received, so
// that nothing sent in plaintext before the handshake is taken as a command.
Reply handle_starttls(Context& context, const Command&) {
  if (context.info.tls) return Reply::bad("The connection is already encrypted.");
  if (!context.info.starttls_available) {
    return Reply::bad("STARTTLS is not available on this listener; connect to the implicit-TLS port instead.");
  }
  context.action = SessionAction::start_tls;
  return Reply::ok("Begin TLS negotiation now");
}

}  // namespace mailtrixy::imap::detail
