#include "../command_table.hpp"

namespace mailtrixy::imap::detail {

// EXPUNGE and UID EXPUNGE (RFC 4315). Outside Deleted Items the messages move there; inside it
// they are gone for good (the backend decides). One untagged EXPUNGE per removed message, each
// with the sequence number it has at that moment.
Reply handle_expunge(Context& context, const Command& command) {
  auto& folder = *context.selected;
  if (folder.read_only) return Reply::no("The folder was opened with EXAMINE (read-only); SELECT it to expunge.");
  std::optional<std::vector<mail::Uid>> only;
  if (command.uid) {
    const auto& args = std::get<UidExpungeArgs>(command.arguments);
    auto indices = resolve_sequence_set(args.set, folder.uids, true);
    if (!indices) return Reply::bad(indices.error().message);
    only.emplace();
    for (auto index : *indices) only->push_back(folder.uids[index]);
    if (only->empty()) return Reply::ok("UID EXPUNGE completed");
  }
  auto expunged = context.mailbox->expunge(folder.path, only);
  if (!expunged) return translate_error(expunged.error());
  for (const auto& uid : *expunged) {
    if (auto sequence = folder.remove(uid)) *context.out += "* " + std::to_string(*sequence) + " EXPUNGE\r\n";
  }
  return Reply::ok(command.uid ? "UID EXPUNGE completed" : "EXPUNGE completed");
}

}  // namespace mailtrixy::imap::detail
