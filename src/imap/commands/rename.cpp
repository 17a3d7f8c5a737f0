#include "../command_table.hpp"
#include "../names.hpp"

namespace mailtrixy::imap::detail {

// RENAME, children included (UIDVALIDITY and UIDs are kept by the backend). When the folder this
// session has selected is renamed, the session follows it to the new name.
Reply handle_rename(Context& context, const Command& command) {
  const auto& args = std::get<RenameArgs>(command.arguments);
  auto from = path_from_wire(args.from);
  if (!from) return Reply::bad(from.error().message);
  auto to = path_from_wire(args.to);
  if (!to) return Reply::bad(to.error().message);
  if (mail::is_inbox(*to)) return Reply::no("INBOX already exists; choose another name.", "ALREADYEXISTS");
  auto renamed = context.mailbox->rename_folder(*from, *to);
  if (!renamed) return translate_error(renamed.error());
  auto& selected = context.selected;
  if (selected && (selected->path == *from || selected->path.starts_with(*from + "/"))) {
    std::string new_path = *to + selected->path.substr(from->size());
    auto subscription = context.watch(new_path, selected->pending);
    if (subscription) {
      selected->subscription = std::move(*subscription);
      selected->path = new_path;
    }
  }
  return Reply::ok("RENAME completed");
}

}  // namespace mailtrixy::imap::detail
