#include "../command_table.hpp"
#include "../flags.hpp"

namespace mailtrixy::imap::detail {

// STORE and UID STORE (RFC 3501 6.4.6): +FLAGS / -FLAGS / FLAGS, with .SILENT. The answer gives
// every touched message's new flags (with its UID in UID STORE), which is also what the client
// now knows: the change event this write causes is therefore not echoed again.
Reply handle_store(Context& context, const Command& command) {
  const auto& args = std::get<StoreArgs>(command.arguments);
  auto& folder = *context.selected;
  if (folder.read_only) return Reply::no("The folder was opened with EXAMINE (read-only); SELECT it to change flags.");
  auto flags = parse_flags(args.flags);
  if (!flags) return Reply::bad(flags.error().message);
  auto indices = resolve_sequence_set(args.set, folder.uids, command.uid);
  if (!indices) return Reply::bad(indices.error().message);
  if (indices->empty()) return Reply::ok(command.uid ? "UID STORE completed" : "STORE completed");
  std::vector<mail::Uid> uids;
  uids.reserve(indices->size());
  for (auto index : *indices) uids.push_back(folder.uids[index]);
  auto updated = context.mailbox->store_flags(folder.path, uids, args.mode, *flags);
  if (!updated) return translate_error(updated.error());
  for (const auto& meta : *updated) {
    auto sequence = folder.sequence_of(meta.uid);
    if (!sequence) continue;
    folder.remember_flags(meta.uid, meta.flags);
    if (args.silent) continue;
    std::string line = "* " + std::to_string(*sequence) + " FETCH (";
    if (command.uid) line += "UID " + std::to_string(meta.uid.value()) + " ";
    line += "FLAGS " + flag_list(meta.flags) + ")\r\n";
    *context.out += line;
    context.maybe_stream();
  }
  return Reply::ok(command.uid ? "UID STORE completed" : "STORE completed");
}

}  // namespace mailtrixy::imap::detail
