#include "../command_table.hpp"

namespace mailtrixy::imap::detail {

// CLOSE: a silent EXPUNGE (no untagged EXPUNGE responses) unless the folder was opened with
// EXAMINE, then back to the authenticated state. The folder is closed even when the expunge fails.
Reply handle_close(Context& context, const Command&) {
  Reply reply = Reply::ok("CLOSE completed");
  if (!context.selected->read_only) {
    auto expunged = context.mailbox->expunge(context.selected->path, std::nullopt);
    if (!expunged) reply = translate_error(expunged.error());
  }
  context.deselect();
  return reply;
}

}  // namespace mailtrixy::imap::detail
