#include <algorithm>
#include <map>
#include <set>

#include "../command_table.hpp"
#include "../names.hpp"
#include "../status_items.hpp"
#include "../subscriptions.hpp"
#include "mailtrixy/imap/mailbox_name.hpp"
#include "mailtrixy/imap/wire.hpp"

namespace mailtrixy::imap::detail {

// LIST (RFC 3501 6.3.8) with LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154), CHILDREN
// (RFC 3348) and LIST-STATUS (RFC 5819). Special-use attributes and \HasChildren/\HasNoChildren
// are on every line whatever was asked (iOS, Thunderbird and K-9 read them from plain LIST);
// \Subscribed only when the subscription state was asked for. Matching is done on the wire
// (modified UTF-7) names, as the patterns arrive.

namespace {

struct Line {
  std::string path;
  std::vector<std::string> attributes;
  std::string extended;  // " (\"CHILDINFO\" (\"SUBSCRIBED\"))" or ""
  bool selectable = false;
};

bool any_match(const std::vector<std::string>& patterns, const std::string& wire) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return list_pattern_matches(pattern, wire); });
}

}  // namespace

Reply handle_list(Context& context, const Command& command) {
  const auto& args = std::get<ListArgs>(command.arguments);
  auto& out = *context.out;

  // LIST "" "": the hierarchy delimiter and the root.
  if (args.patterns.size() == 1 && args.patterns.front().empty() && !args.selection.subscribed &&
      !args.selection.special_use) {
    write_untagged(out, std::string(args.xlist ? "XLIST" : "LIST") + " (\\Noselect) \"/\" \"\"");
    return Reply::ok(args.xlist ? "XLIST completed" : "LIST completed");
  }

  auto folders = context.mailbox->list_folders();
  if (!folders) return translate_error(folders.error());
  bool want_subscribed = args.selection.subscribed || args.returns.subscribed;
  std::set<std::string> subscribed;
  if (want_subscribed) {
    auto paths = effective_subscriptions(context, *folders);
    if (!paths) return translate_error(paths.error());
    subscribed = std::move(*paths);
  }
  std::vector<std::string> patterns;
  for (const auto& pattern : args.patterns) patterns.push_back(combine_list_reference(args.reference, pattern));

  std::vector<Line> lines;
  std::set<std::string> existing;
  for (const auto& folder : *folders) {
    existing.insert(folder.path);
    std::string wire = wire_from_path(folder.path);
    if (!any_match(patterns, wire)) continue;
    bool is_subscribed = subscribed.contains(folder.path);
    if (args.selection.special_use && mail::special_use_attribute(folder.special_use).empty()) continue;
    Line line{folder.path, {}, {}, folder.selectable};
    if (args.selection.subscribed && !is_subscribed) {
      // RECURSIVEMATCH: a parent that is not subscribed itself but has a subscribed descendant.
      if (!args.selection.recursive_match) continue;
      bool has_subscribed_child = std::any_of(subscribed.begin(), subscribed.end(), [&](const std::string& path) {
        return path.size() > folder.path.size() && path.starts_with(folder.path) && path[folder.path.size()] == '/';
      });
      if (!has_subscribed_child) continue;
      line.extended = " (\"CHILDINFO\" (\"SUBSCRIBED\"))";
    } else if (args.selection.subscribed && args.selection.recursive_match) {
      bool has_subscribed_child = std::any_of(subscribed.begin(), subscribed.end(), [&](const std::string& path) {
        return path.size() > folder.path.size() && path.starts_with(folder.path) && path[folder.path.size()] == '/';
      });
      if (has_subscribed_child) line.extended = " (\"CHILDINFO\" (\"SUBSCRIBED\"))";
    }
    if (!folder.selectable) line.attributes.push_back("\\Noselect");
    line.attributes.push_back(folder.has_children ? "\\HasChildren" : "\\HasNoChildren");
    if (auto use = mail::special_use_attribute(folder.special_use); !use.empty()) line.attributes.emplace_back(use);
    if (args.xlist && (folder.special_use == mail::SpecialUse::inbox || mail::is_inbox(folder.path))) line.attributes.emplace_back("\\Inbox");
    if (want_subscribed && is_subscribed) line.attributes.push_back("\\Subscribed");
    lines.push_back(std::move(line));
  }
  // Subscribed names that no longer exist are still listed by LIST (SUBSCRIBED) (RFC 5258 3.1).
  if (args.selection.subscribed && !args.selection.special_use) {
    for (const auto& path : subscribed) {
      if (existing.contains(path) || !any_match(patterns, wire_from_path(path))) continue;
      lines.push_back(Line{path, {"\\NonExistent", "\\Subscribed"}, {}, false});
    }
  }

  for (const auto& line : lines) {
    std::string text = args.xlist ? "XLIST (" : "LIST (";
    for (std::size_t i = 0; i < line.attributes.size(); ++i) {
      if (i > 0) text += ' ';
      text += line.attributes[i];
    }
    text += ") \"/\" ";
    std::string wire = wire_from_path(line.path);
    append_astring(text, wire);
    text += line.extended;
    write_untagged(out, text);
    if (!args.returns.status_items.empty() && line.selectable) {
      auto status = context.mailbox->folder_status(line.path);
      if (status) {
        std::string status_line = "STATUS ";
        append_astring(status_line, wire);
        status_line += " (" + status_attributes(*status, args.returns.status_items) + ")";
        write_untagged(out, status_line);
      }
    }
  }
  return Reply::ok(args.xlist ? "XLIST completed" : "LIST completed");
}

}  // namespace mailtrixy::imap::detail
