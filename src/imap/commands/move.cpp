#include "../command_table.hpp"
#include "../names.hpp"

namespace mailtrixy::imap::detail {

// MOVE and UID MOVE (RFC 6851): COPYUID in an untagged OK before the EXPUNGEs of the moved
// messages, then the tagged OK.
Reply handle_move(Context& context, const Command& command) {
  const auto& args = std::get<CopyArgs>(command.arguments);
  auto& folder = *context.selected;
  if (folder.read_only) return Reply::no("The folder was opened with EXAMINE (read-only); SELECT it to move messages.");
  auto destination = path_from_wire(args.mailbox);
  if (!destination) return Reply::bad(destination.error().message);
  auto indices = resolve_sequence_set(args.set, folder.uids, command.uid);
  if (!indices) return Reply::bad(indices.error().message);
  std::vector<mail::Uid> uids;
  for (auto index : *indices) uids.push_back(folder.uids[index]);
  const char* done = command.uid ? "UID MOVE completed" : "MOVE completed";
  if (uids.empty()) return Reply::ok(done);
  auto moved = context.mailbox->move(folder.path, uids, *destination);
  if (!moved) return translate_error(moved.error(), ErrorContext::destination);
  if (moved->uids.empty()) return Reply::ok(done);
  std::vector<std::uint32_t> sources;
  std::vector<std::uint32_t> targets;
  for (const auto& [source, target] : moved->uids) {
    sources.push_back(source.value());
    targets.push_back(target.value());
  }
  write_untagged(*context.out, "OK [COPYUID " + std::to_string(moved->destination_uid_validity.value()) + " " +
                                   compact_set(sources) + " " + compact_set(targets) + "] Moved");
  for (const auto& [source, target] : moved->uids) {
    if (auto sequence = folder.remove(source)) *context.out += "* " + std::to_string(*sequence) + " EXPUNGE\r\n";
  }
  return Reply::ok(done);
}

}  // namespace mailtrixy::imap::detail
