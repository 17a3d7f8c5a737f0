#include "../command_table.hpp"

namespace mailtrixy::imap::detail {

// UNSELECT (RFC 3691): like CLOSE without the expunge.
Reply handle_unselect(Context& context, const Command&) {
  context.deselect();
  return Reply::ok("UNSELECT completed");
}

}  // namespace mailtrixy::imap::detail
