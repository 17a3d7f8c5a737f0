#include "../command_table.hpp"

namespace mailtrixy::imap::detail {

// CHECK: every write already went through to the backend, so a checkpoint has nothing to flush;
// like NOOP it asks for a refresh and lets queued changes (expunges included) out.
Reply handle_check(Context& context, const Command&) {
  (void)context.mailbox->request_refresh(context.selected->path);
  return Reply::ok("CHECK completed");
}

}  // namespace mailtrixy::imap::detail
