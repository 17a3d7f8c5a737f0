#include "../command_table.hpp"
#include "../names.hpp"

namespace mailtrixy::imap::detail {

// DELETE: the folder and its messages (INBOX and Outlook's special folders are refused by the
// backend with NOPERM). Deleting the folder this session has selected closes it first.
Reply handle_delete(Context& context, const Command& command) {
  auto path = path_from_wire(std::get<MailboxArgs>(command.arguments).mailbox);
  if (!path) return Reply::bad(path.error().message);
  if (mail::is_inbox(*path)) return Reply::no("INBOX cannot be deleted.", "NOPERM");
  bool was_selected = context.selected && context.selected->path == *path;
  auto deleted = context.mailbox->delete_folder(*path);
  if (!deleted) return translate_error(deleted.error());
  if (was_selected) context.deselect();
  return Reply::ok("DELETE completed");
}

}  // namespace mailtrixy::imap::detail
