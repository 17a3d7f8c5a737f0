#include <algorithm>
#include <map>
#include <set>

#include "../command_table.hpp"
#include "../names.hpp"
#include "../subscriptions.hpp"
#include "mailtrixy/imap/mailbox_name.hpp"
#include "mailtrixy/imap/wire.hpp"

namespace mailtrixy::imap::detail {

// LSUB (RFC 3501 6.3.9): the subscribed names matching the pattern, with the special-use
// attribute of existing folders (Apple Mail reads it from LSUB). A parent that matches a '%'
// pattern only through a subscribed child is listed with \Noselect, as the RFC asks.
Reply handle_lsub(Context& context, const Command& command) {
  const auto& args = std::get<ListArgs>(command.arguments);
  auto& out = *context.out;
  if (args.patterns.size() == 1 && args.patterns.front().empty()) {
    write_untagged(out, "LSUB (\\Noselect) \"/\" \"\"");
    return Reply::ok("LSUB completed");
  }
  auto folders = context.mailbox->list_folders();
  if (!folders) return translate_error(folders.error());
  auto subscribed = effective_subscriptions(context, *folders);
  if (!subscribed) return translate_error(subscribed.error());
  std::map<std::string, const mail::FolderInfo*> by_path;
  for (const auto& folder : *folders) by_path.emplace(folder.path, &folder);
  std::string pattern = combine_list_reference(args.reference, args.patterns.front());

  std::map<std::string, bool> listed;  // path -> listed as a \Noselect parent only
  for (const auto& path : *subscribed) {
    if (list_pattern_matches(pattern, wire_from_path(path))) {
      listed[path] = false;
      continue;
    }
    if (pattern.find('%') == std::string::npos) continue;
    // The nearest ancestor the pattern matches stands in for it.
    std::string ancestor = path;
    while (true) {
      auto slash = ancestor.rfind('/');
      if (slash == std::string::npos) break;
      ancestor.resize(slash);
      if (list_pattern_matches(pattern, wire_from_path(ancestor))) {
        if (!subscribed->contains(ancestor)) listed.emplace(ancestor, true);
        break;
      }
    }
  }
  // Folder order (parents first, INBOX first), then names that no longer exist.
  std::vector<std::string> order;
  for (const auto& folder : *folders) {
    if (listed.contains(folder.path)) order.push_back(folder.path);
  }
  for (const auto& [path, parent_only] : listed) {
    if (!by_path.contains(path)) order.push_back(path);
  }
  for (const auto& path : order) {
    std::vector<std::string> attributes;
    if (listed[path]) attributes.push_back("\\Noselect");
    if (auto it = by_path.find(path); it != by_path.end()) {
      if (auto use = mail::special_use_attribute(it->second->special_use); !use.empty()) attributes.emplace_back(use);
    }
    std::string text = "LSUB (";
    for (std::size_t i = 0; i < attributes.size(); ++i) {
      if (i > 0) text += ' ';
      text += attributes[i];
    }
    text += ") \"/\" ";
    append_astring(text, wire_from_path(path));
    write_untagged(out, text);
  }
  return Reply::ok("LSUB completed");
}

}  // namespace mailtrixy::imap::detail
