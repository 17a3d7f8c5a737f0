#include "../command_table.hpp"

namespace mailtrixy::imap::detail {

// NOOP: the moment clients use to learn about changes. Ask the sync engine to look at the
// folder now; the session then delivers whatever is queued (expunges included).
Reply handle_noop(Context& context, const Command&) {
  if (context.selected && context.mailbox) (void)context.mailbox->request_refresh(context.selected->path);
  return Reply::ok("NOOP completed");
}

}  // namespace mailtrixy::imap::detail
