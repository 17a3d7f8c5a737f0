#include "../command_table.hpp"
#include "../names.hpp"

namespace mailtrixy::imap::detail {

// COPY and UID COPY with COPYUID (RFC 4315). A missing destination is NO [TRYCREATE].
Reply handle_copy(Context& context, const Command& command) {
  const auto& args = std::get<CopyArgs>(command.arguments);
  auto& folder = *context.selected;
  auto destination = path_from_wire(args.mailbox);
  if (!destination) return Reply::bad(destination.error().message);
  auto indices = resolve_sequence_set(args.set, folder.uids, command.uid);
  if (!indices) return Reply::bad(indices.error().message);
  std::vector<mail::Uid> uids;
  for (auto index : *indices) uids.push_back(folder.uids[index]);
  const char* done = command.uid ? "UID COPY completed" : "COPY completed";
  if (uids.empty()) return Reply::ok(done);
  auto copied = context.mailbox->copy(folder.path, uids, *destination);
  if (!copied) return translate_error(copied.error(), ErrorContext::destination);
  if (copied->uids.empty()) return Reply::ok(done);
  std::vector<std::uint32_t> sources;
  std::vector<std::uint32_t> targets;
  for (const auto& [source, target] : copied->uids) {
    sources.push_back(source.value());
    targets.push_back(target.value());
  }
  return Reply::ok(done, "COPYUID " + std::to_string(copied->destination_uid_validity.value()) + " " +
                             compact_set(sources) + " " + compact_set(targets));
}

}  // namespace mailtrixy::imap::detail
