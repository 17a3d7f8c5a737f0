#include "../command_table.hpp"
#include "../names.hpp"
#include "../status_items.hpp"
#include "mailtrixy/imap/wire.hpp"

namespace mailtrixy::imap::detail {

// STATUS: answered from the backend's cached folder status, no Graph call.
Reply handle_status(Context& context, const Command& command) {
  const auto& args = std::get<StatusArgs>(command.arguments);
  auto path = path_from_wire(args.mailbox);
  if (!path) return Reply::bad(path.error().message);
  auto status = context.mailbox->folder_status(*path);
  if (!status) return translate_error(status.error());
  std::string line = "STATUS ";
  append_astring(line, wire_from_path(*path));
  line += " (" + status_attributes(*status, args.items) + ")";
  write_untagged(*context.out, line);
  return Reply::ok("STATUS completed");
}

}  // namespace mailtrixy::imap::detail
