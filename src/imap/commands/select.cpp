#include <algorithm>

#include "../command_table.hpp"
#include "../flags.hpp"
#include "../names.hpp"

namespace mailtrixy::imap::detail {

namespace {

bool same_text_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

// SELECT and EXAMINE. The previous selection ends first, even when the new one fails (RFC 3501).
// The change subscription starts before the message listing, so nothing that happens in between
// is missed; events the listing already reflects are ignored when delivered.
Reply handle_select(Context& context, const Command& command) {
  const auto& args = std::get<MailboxArgs>(command.arguments);
  bool read_only = command.kind == CommandKind::examine;
  context.deselect();
  if (!args.parameters.empty()) {
    return Reply::bad("SELECT parameters such as (" + args.parameters.front() +
                      ") are not supported; the server does not offer CONDSTORE or QRESYNC.");
  }
  auto path = path_from_wire(args.mailbox);
  if (!path) return Reply::bad(path.error().message);

  // The backend's own spelling of the path, so that change events (which carry it) match.
  auto folders = context.mailbox->list_folders();
  if (!folders) return translate_error(folders.error());
  const mail::FolderInfo* info = nullptr;
  for (const auto& candidate : *folders) {
    if (candidate.path == *path) {
      info = &candidate;
      break;
    }
    if (info == nullptr && same_text_ignoring_case(candidate.path, *path)) info = &candidate;
  }
  if (info == nullptr) {
    return Reply::no("The folder \"" + *path + "\" does not exist; LIST shows the folders there are.", "NONEXISTENT");
  }
  if (!info->selectable) return Reply::no("The folder \"" + info->path + "\" cannot be opened; it holds only other folders.", "CANNOT");

  auto folder = std::make_unique<SelectedFolder>();
  folder->path = info->path;
  folder->read_only = read_only;
  auto subscription = context.watch(folder->path, folder->pending);
  if (!subscription) return translate_error(subscription.error());
  folder->subscription = std::move(*subscription);
  auto status = context.mailbox->folder_status(folder->path);
  if (!status) return translate_error(status.error());
  auto messages = context.mailbox->list_flags(folder->path);
  if (!messages) return translate_error(messages.error());

  folder->uid_validity = status->uid_validity;
  folder->uids.reserve(messages->size());
  std::optional<std::size_t> first_unseen;
  std::vector<std::string> keywords;
  for (const auto& meta : *messages) {
    if (!first_unseen && !meta.flags.has(mail::SystemFlag::seen)) first_unseen = folder->uids.size() + 1;
    folder->uids.push_back(meta.uid);
    for (const auto& keyword : meta.flags.keywords()) {
      if (keywords.size() < 200 && std::find(keywords.begin(), keywords.end(), keyword) == keywords.end()) {
        keywords.push_back(keyword);
      }
    }
  }
  std::uint32_t uid_next = status->uid_next.value();
  if (!folder->uids.empty()) uid_next = std::max(uid_next, folder->uids.back().value() + 1);

  std::string flags = kSystemFlagList;
  for (const auto& keyword : keywords) flags += " " + keyword;
  auto& out = *context.out;
  write_untagged(out, "FLAGS (" + flags + ")");
  if (read_only) {
    write_untagged(out, "OK [PERMANENTFLAGS ()] Read-only folder, flags cannot be changed.");
  } else {
    std::string permanent = kPermanentFlagList;
    for (const auto& keyword : keywords) permanent.insert(permanent.size() - 2, keyword + " ");
    write_untagged(out, "OK [PERMANENTFLAGS (" + permanent + ")] Flags permitted.");
  }
  write_untagged(out, std::to_string(folder->uids.size()) + " EXISTS");
  write_untagged(out, "0 RECENT");
  if (first_unseen) write_untagged(out, "OK [UNSEEN " + std::to_string(*first_unseen) + "] First unseen.");
  write_untagged(out, "OK [UIDVALIDITY " + std::to_string(status->uid_validity.value()) + "] UIDs valid.");
  write_untagged(out, "OK [UIDNEXT " + std::to_string(uid_next) + "] Predicted next UID.");

  context.selected = std::move(folder);
  context.state = State::selected;
  return read_only ? Reply::ok("EXAMINE completed", "READ-ONLY") : Reply::ok("SELECT completed", "READ-WRITE");
}

}  // namespace mailtrixy::imap::detail
