#include "../command_table.hpp"
#include "../flags.hpp"
#include "../names.hpp"

namespace mailtrixy::imap::detail {

// APPEND with APPENDUID (RFC 4315). The message is filed as sent, with the given flags (not a
// draft unless \Draft is among them) and internal date; a missing folder is NO [TRYCREATE].
Reply handle_append(Context& context, const Command& command) {
  const auto& args = std::get<AppendArgs>(command.arguments);
  auto path = path_from_wire(args.mailbox);
  if (!path) return Reply::bad(path.error().message);
  auto flags = parse_flags(args.flags);
  if (!flags) return Reply::bad(flags.error().message);
  if (context.selected && context.selected->read_only && context.selected->path == *path) {
    return Reply::no("The folder is open read-only (EXAMINE) on this connection; SELECT it to add messages.");
  }
  auto appended = context.mailbox->append(*path, args.message, *flags, args.internal_date);
  if (!appended) return translate_error(appended.error(), ErrorContext::destination);
  return Reply::ok("APPEND completed", "APPENDUID " + std::to_string(appended->uid_validity.value()) + " " +
                                           std::to_string(appended->uid.value()));
}

}  // namespace mailtrixy::imap::detail
