#include "../command_table.hpp"
#include "../names.hpp"

namespace mailtrixy::imap::detail {

// CREATE: missing parents are created too; a trailing '/' (RFC 3501: "the client intends to
// create names under this one") is dropped.
Reply handle_create(Context& context, const Command& command) {
  std::string_view wire = std::get<MailboxArgs>(command.arguments).mailbox;
  if (wire.size() > 1 && wire.back() == '/') wire.remove_suffix(1);
  auto path = path_from_wire(wire);
  if (!path) return Reply::bad(path.error().message);
  if (mail::is_inbox(*path)) return Reply::no("INBOX always exists.", "ALREADYEXISTS");
  auto created = context.mailbox->create_folder(*path);
  if (!created) return translate_error(created.error());
  return Reply::ok("CREATE completed");
}

}  // namespace mailtrixy::imap::detail
