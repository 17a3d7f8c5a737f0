#include "mailtrixy/mail/fake_remote_mailbox.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <set>
#include <stdexcept>

#include "mailtrixy/mail/envelope.hpp"

namespace mailtrixy::mail {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::string_view kLinkPrefix = "fakedelta";

// "fakedelta:<kind>:<folder>:<generation>:<since>:<upto>:<cursor>"; kind n = next page of a
// round (fixed upper bound), d = start of the next round (bound taken when used).
struct DeltaLink {
  char kind = 'd';
  std::string folder;
  std::uint64_t generation = 0;
  std::uint64_t since = 0;
  std::uint64_t upto = 0;
  std::uint64_t cursor = 0;

  std::string format() const {
    return std::string(kLinkPrefix) + ":" + kind + ":" + folder + ":" + std::to_string(generation) + ":" +
           std::to_string(since) + ":" + std::to_string(upto) + ":" + std::to_string(cursor);
  }

  static std::optional<DeltaLink> parse(std::string_view text) {
    std::vector<std::string_view> parts;
    while (true) {
      auto colon = text.find(':');
      parts.push_back(text.substr(0, colon));
      if (colon == std::string_view::npos) break;
      text.remove_prefix(colon + 1);
    }
    if (parts.size() != 7 || parts[0] != kLinkPrefix || parts[1].size() != 1 ||
        (parts[1][0] != 'n' && parts[1][0] != 'd')) {
      return std::nullopt;
    }
    DeltaLink link;
    link.kind = parts[1][0];
    link.folder = std::string(parts[2]);
    auto number = [](std::string_view digits, std::uint64_t& out) {
      auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
      return !digits.empty() && error == std::errc{} && end == digits.data() + digits.size();
    };
    if (!number(parts[3], link.generation) || !number(parts[4], link.since) || !number(parts[5], link.upto) ||
        !number(parts[6], link.cursor)) {
      return std::nullopt;
    }
    return link;
  }
};

}  // namespace

struct FakeRemoteMailbox::State {
  struct Folder {
    FolderId id;
    FolderId parent;
    std::string name;
    bool hidden = false;
    SpecialUse special_use = SpecialUse::none;
    std::string alias;  // well-known alias, "" for user folders
    std::uint64_t generation = 1;
    std::vector<std::pair<std::uint64_t, GraphId>> tombstones;  // {sequence, id}
    std::uint64_t order = 0;
  };
  struct Message {
    RemoteMessage remote;
    std::string mime;
    TimePoint created{};  // createdDateTime: the real clock, like Microsoft's
    std::uint64_t change_sequence = 0;
    std::uint64_t order = 0;
  };
  struct Fault {
    std::string operation;
    MailError error;
    int times = 0;
  };

  std::map<std::string, Folder> folders;    // by id
  std::map<std::string, Message> messages;  // by id
  FolderId root;
  std::uint64_t sequence = 0;
  std::uint64_t next_id = 1;
  std::uint64_t next_order = 1;
  TimePoint clock = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};
  std::size_t page_size = 10;
  bool report_sizes = false;
  std::vector<Fault> faults;
  struct Interruption {
    MailError error;
    bool stored_too = false;
  };
  std::optional<Interruption> interrupt_create;
  std::map<std::string, std::size_t, std::less<>> call_counts;
  std::size_t total_calls = 0;

  std::optional<MailError> begin(std::string_view operation) {
    ++total_calls;
    ++call_counts[std::string(operation)];
    for (auto it = faults.begin(); it != faults.end(); ++it) {
      if (it->operation.empty() || it->operation == operation) {
        MailError error = it->error;
        if (--it->times <= 0) faults.erase(it);
        return error;
      }
    }
    return std::nullopt;
  }

  Folder* find_folder(std::string_view id_or_alias) {
    if (auto it = folders.find(std::string(id_or_alias)); it != folders.end()) return &it->second;
    for (auto& [id, folder] : folders) {
      if (!folder.alias.empty() && iequals(folder.alias, id_or_alias)) return &folder;
    }
    return nullptr;
  }

  Folder* find_child(const FolderId& parent, std::string_view name) {
    for (auto& [id, folder] : folders) {
      if (folder.parent == parent && iequals(folder.name, name)) return &folder;
    }
    return nullptr;
  }

  Folder& add_folder(const FolderId& parent, std::string name, SpecialUse use, std::string alias) {
    FolderId id{"folder-" + std::to_string(next_id++)};
    Folder folder;
    folder.id = id;
    folder.parent = parent;
    folder.name = std::move(name);
    folder.special_use = use;
    folder.alias = std::move(alias);
    folder.order = next_order++;
    return folders.emplace(id.value(), std::move(folder)).first->second;
  }

  RemoteFolder describe(const Folder& folder) const {
    RemoteFolder out;
    out.id = folder.id;
    out.parent_id = folder.parent;
    out.display_name = folder.name;
    out.hidden = folder.hidden;
    out.special_use = folder.special_use;
    for (const auto& [id, other] : folders) {
      if (other.parent == folder.id) ++out.child_folder_count;
    }
    for (const auto& [id, message] : messages) {
      if (message.remote.folder_id != folder.id) continue;
      ++out.total_count;
      if (!message.remote.flags.has(SystemFlag::seen)) ++out.unread_count;
    }
    return out;
  }

  RemoteMessage describe(const Message& message) const {
    RemoteMessage out = message.remote;
    out.size = report_sizes ? std::optional<std::uint64_t>(message.mime.size()) : std::nullopt;
    return out;
  }

  void touch(Message& message) {
    message.change_sequence = ++sequence;
    message.remote.change_key = "ck-" + std::to_string(message.change_sequence);
  }

  void leave_folder(const Message& message) {
    if (auto* folder = find_folder(message.remote.folder_id.value())) {
      folder->tombstones.emplace_back(++sequence, message.remote.id);
    }
  }

  Message& add_message(const Folder& folder, std::string mime, Flags flags,
                       std::optional<TimePoint> received) {
    flags.clear(SystemFlag::deleted);
    Message message;
    message.remote.id = GraphId{"AAMkMsg" + std::to_string(next_id++) + "=="};
    message.remote.folder_id = folder.id;
    message.remote.flags = std::move(flags);
    clock += std::chrono::seconds{1};
    message.remote.received = received.value_or(clock);
    message.remote.envelope = parse_envelope(mime);
    message.created = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    message.mime = std::move(mime);
    message.order = next_order++;
    touch(message);
    return messages.emplace(message.remote.id.value(), std::move(message)).first->second;
  }

  void move(Message& message, const Folder& destination) {
    if (message.remote.folder_id == destination.id) return;
    leave_folder(message);
    message.remote.folder_id = destination.id;
    touch(message);
  }

  void remove(const std::string& id) {
    auto it = messages.find(id);
    if (it == messages.end()) return;
    leave_folder(it->second);
    messages.erase(it);
  }

  bool is_descendant(const FolderId& candidate, const FolderId& ancestor) const {
    FolderId current = candidate;
    while (!current.value().empty()) {
      if (current == ancestor) return true;
      auto it = folders.find(current.value());
      if (it == folders.end()) return false;
      current = it->second.parent;
    }
    return false;
  }

  void remove_folder_tree(const FolderId& id) {
    std::vector<FolderId> children;
    for (const auto& [child_id, folder] : folders) {
      if (folder.parent == id) children.push_back(folder.id);
    }
    for (const auto& child : children) remove_folder_tree(child);
    std::erase_if(messages, [&](const auto& entry) { return entry.second.remote.folder_id == id; });
    folders.erase(id.value());
  }
};

namespace {

MailError folder_not_found(std::string_view id) {
  return make_mail_error(
      ErrorCode::not_found,
      "The folder \"" + std::string(id) + "\" does not exist in the mailbox; list the folders again.");
}

MailError message_not_found(const GraphId& id) {
  return make_mail_error(ErrorCode::not_found, "The message \"" + id.value() +
                                                   "\" does not exist (any more); it may have been deleted.");
}

[[noreturn]] void unknown_in_test(std::string_view what, std::string_view id) {
  throw std::invalid_argument("FakeRemoteMailbox test control: no " + std::string(what) + " \"" +
                              std::string(id) + "\" exists in the fake mailbox.");
}

}  // namespace

FakeRemoteMailbox::FakeRemoteMailbox() : state_(std::make_unique<State>()) {
  auto& root = state_->add_folder(FolderId{}, "Top of Information Store", SpecialUse::none, "msgfolderroot");
  state_->root = root.id;
  FolderId root_id = root.id;
  state_->add_folder(root_id, "Inbox", SpecialUse::inbox, "inbox");
  state_->add_folder(root_id, "Drafts", SpecialUse::drafts, "drafts");
  state_->add_folder(root_id, "Sent Items", SpecialUse::sent, "sentitems");
  state_->add_folder(root_id, "Deleted Items", SpecialUse::trash, "deleteditems");
  state_->add_folder(root_id, "Junk Email", SpecialUse::junk, "junkemail");
  state_->add_folder(root_id, "Archive", SpecialUse::archive, "archive");
  state_->add_folder(root_id, "Outbox", SpecialUse::none, "outbox");
}

FakeRemoteMailbox::~FakeRemoteMailbox() = default;

MailResult<std::vector<RemoteFolder>> FakeRemoteMailbox::list_folders() {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("list_folders")) return *error;
  std::vector<const State::Folder*> ordered;
  for (const auto& [id, folder] : state_->folders) ordered.push_back(&folder);
  std::sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->order < b->order; });
  std::vector<RemoteFolder> out;
  std::function<void(const FolderId&)> visit = [&](const FolderId& parent) {
    for (const auto* folder : ordered) {
      if (folder->parent != parent) continue;
      out.push_back(state_->describe(*folder));
      visit(folder->id);
    }
  };
  visit(state_->root);
  return out;
}

MailResult<DeltaPage> FakeRemoteMailbox::message_delta(const FolderId& folder_id,
                                                       std::string_view link_text) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("message_delta")) return *error;
  auto* folder = state_->find_folder(folder_id.value());
  if (folder == nullptr) return folder_not_found(folder_id.value());

  DeltaLink link;
  if (link_text.empty()) {
    link.kind = 'n';
    link.folder = folder->id.value();
    link.generation = folder->generation;
    link.upto = state_->sequence;
  } else {
    auto parsed = DeltaLink::parse(link_text);
    if (!parsed || parsed->folder != folder->id.value()) {
      return make_mail_error(ErrorCode::invalid,
                             "The delta link was not issued for this folder by this mailbox; start a new "
                             "round with an empty link.");
    }
    link = *parsed;
    if (link.generation != folder->generation) {
      return make_mail_error(ErrorCode::sync_state_not_found,
                             "The delta link has expired (SyncStateNotFound); start a new round with an "
                             "empty link.");
    }
    if (link.kind == 'd') {
      link.kind = 'n';
      link.upto = state_->sequence;
      link.cursor = link.since;
    }
  }

  struct Entry {
    std::uint64_t sequence;
    const State::Message* message;  // nullptr: removal
    GraphId id;
  };
  std::vector<Entry> entries;
  std::uint64_t floor = std::max(link.since, link.cursor);
  for (const auto& [id, message] : state_->messages) {
    if (message.remote.folder_id == folder->id && message.change_sequence > floor &&
        message.change_sequence <= link.upto) {
      entries.push_back({message.change_sequence, &message, message.remote.id});
    }
  }
  if (link.since > 0) {  // the initial round reports no removals
    for (const auto& [sequence, id] : folder->tombstones) {
      if (sequence > floor && sequence <= link.upto) entries.push_back({sequence, nullptr, id});
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.sequence < b.sequence; });

  DeltaPage page;
  std::size_t count = std::min(entries.size(), state_->page_size);
  // Within one page only the latest event per id counts, so a removed-then-returned message
  // is not reported as both.
  std::set<std::string> seen_ids;
  std::vector<const Entry*> kept;
  for (std::size_t i = count; i-- > 0;) {
    if (seen_ids.insert(entries[i].id.value()).second) kept.push_back(&entries[i]);
  }
  std::reverse(kept.begin(), kept.end());
  for (const auto* entry : kept) {
    if (entry->message != nullptr) {
      page.changed.push_back(state_->describe(*entry->message));
    } else {
      page.removed.push_back(entry->id);
    }
  }
  if (count < entries.size()) {
    DeltaLink next = link;
    next.cursor = entries[count - 1].sequence;
    page.next_link = next.format();
  } else {
    DeltaLink delta;
    delta.kind = 'd';
    delta.folder = link.folder;
    delta.generation = link.generation;
    delta.since = link.upto;
    page.delta_link = delta.format();
  }
  return page;
}

MailResult<RemoteMessage> FakeRemoteMailbox::get_message(const GraphId& id) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("get_message")) return *error;
  auto it = state_->messages.find(id.value());
  if (it == state_->messages.end()) return message_not_found(id);
  return state_->describe(it->second);
}

MailResult<std::string> FakeRemoteMailbox::fetch_mime(const GraphId& id) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("fetch_mime")) return *error;
  auto it = state_->messages.find(id.value());
  if (it == state_->messages.end()) return message_not_found(id);
  return it->second.mime;
}

MailResult<std::uint64_t> FakeRemoteMailbox::message_size(const GraphId& id) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("message_size")) return *error;
  auto it = state_->messages.find(id.value());
  if (it == state_->messages.end()) return message_not_found(id);
  return static_cast<std::uint64_t>(it->second.mime.size());
}

MailResult<void> FakeRemoteMailbox::update_flags(const GraphId& id, const RemoteFlagUpdate& update) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("update_flags")) return *error;
  auto it = state_->messages.find(id.value());
  if (it == state_->messages.end()) return message_not_found(id);
  if (update.empty()) return {};
  auto& message = it->second;
  Flags& flags = message.remote.flags;
  if (update.seen) flags.set(SystemFlag::seen, *update.seen);
  if (update.flagged) flags.set(SystemFlag::flagged, *update.flagged);
  if (update.answered || update.forwarded) {
    bool answered = update.answered.value_or(flags.has(SystemFlag::answered));
    bool forwarded = update.forwarded.value_or(flags.has(SystemFlag::forwarded));
    // Graph keeps one last verb (Integer 0x1081): forwarding wins over replying.
    flags.set(SystemFlag::answered, answered && !forwarded);
    flags.set(SystemFlag::forwarded, forwarded);
  }
  if (update.keywords) {
    Flags replacement;
    replacement.set(SystemFlag::seen, flags.has(SystemFlag::seen))
        .set(SystemFlag::flagged, flags.has(SystemFlag::flagged))
        .set(SystemFlag::answered, flags.has(SystemFlag::answered))
        .set(SystemFlag::forwarded, flags.has(SystemFlag::forwarded))
        .set(SystemFlag::draft, flags.has(SystemFlag::draft));
    for (const auto& keyword : *update.keywords) replacement.add_keyword(keyword);
    flags = std::move(replacement);
  }
  state_->touch(message);
  return {};
}

MailResult<RemoteMessage> FakeRemoteMailbox::move_message(const GraphId& id, const FolderId& destination) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("move_message")) return *error;
  auto it = state_->messages.find(id.value());
  if (it == state_->messages.end()) return message_not_found(id);
  auto* folder = state_->find_folder(destination.value());
  if (folder == nullptr || folder->id == state_->root) return folder_not_found(destination.value());
  state_->move(it->second, *folder);
  return state_->describe(it->second);
}

MailResult<RemoteMessage> FakeRemoteMailbox::copy_message(const GraphId& id, const FolderId& destination) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("copy_message")) return *error;
  auto it = state_->messages.find(id.value());
  if (it == state_->messages.end()) return message_not_found(id);
  auto* folder = state_->find_folder(destination.value());
  if (folder == nullptr || folder->id == state_->root) return folder_not_found(destination.value());
  const auto& source = it->second;
  auto& copy = state_->add_message(*folder, source.mime, source.remote.flags, source.remote.received);
  return state_->describe(copy);
}

MailResult<void> FakeRemoteMailbox::delete_message(const GraphId& id) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("delete_message")) return *error;
  auto it = state_->messages.find(id.value());
  if (it == state_->messages.end()) return message_not_found(id);
  state_->move(it->second, *state_->find_folder("deleteditems"));
  return {};
}

MailResult<void> FakeRemoteMailbox::permanently_delete_message(const GraphId& id) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("permanently_delete_message")) return *error;
  if (!state_->messages.contains(id.value())) return message_not_found(id);
  state_->remove(id.value());
  return {};
}

MailResult<RemoteMessage> FakeRemoteMailbox::create_message(const FolderId& folder_id, std::string_view mime,
                                                            const CreateMessageOptions& options) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("create_message")) return *error;
  auto* folder = state_->find_folder(folder_id.value());
  if (folder == nullptr || folder->id == state_->root) return folder_not_found(folder_id.value());
  if (auto valid = validate_message(mime); !valid) return valid.error();
  if (state_->interrupt_create && !options.flags.has(SystemFlag::draft)) {
    // The staging draft Graph's recipe makes first (graph-facts B9) stays behind.
    const auto interruption = *state_->interrupt_create;
    state_->interrupt_create.reset();
    Flags draft_flags;
    draft_flags.set(SystemFlag::draft);
    state_->add_message(*state_->find_folder("drafts"), std::string(mime), draft_flags, options.received);
    if (interruption.stored_too) state_->add_message(*folder, std::string(mime), options.flags, options.received);
    return interruption.error;
  }
  auto& message = state_->add_message(*folder, std::string(mime), options.flags, options.received);
  return state_->describe(message);
}

MailResult<std::size_t> FakeRemoteMailbox::delete_staging_drafts(std::string_view message_id, TimePoint created_from,
                                                                 TimePoint created_until) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("delete_staging_drafts")) return *error;
  if (message_id.empty()) {
    return make_mail_error(ErrorCode::invalid, "A staging draft is found by its Message-ID; none was given.");
  }
  const auto* drafts = state_->find_folder("drafts");
  std::vector<std::string> doomed;
  for (const auto& [id, message] : state_->messages) {
    if (message.remote.folder_id == drafts->id && message.remote.flags.has(SystemFlag::draft) &&
        message.remote.envelope.message_id == message_id && message.created >= created_from &&
        message.created <= created_until) {
      doomed.push_back(id);
    }
  }
  for (const auto& id : doomed) state_->remove(id);
  return doomed.size();
}

MailResult<RemoteFolder> FakeRemoteMailbox::create_folder(const FolderId& parent_id,
                                                          std::string_view display_name) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("create_folder")) return *error;
  FolderId parent = parent_id.value().empty() ? state_->root : parent_id;
  auto* parent_folder = state_->find_folder(parent.value());
  if (parent_folder == nullptr) return folder_not_found(parent.value());
  if (display_name.empty()) {
    return make_mail_error(ErrorCode::invalid, "A folder name cannot be empty; choose a name.");
  }
  if (state_->find_child(parent_folder->id, display_name) != nullptr) {
    return make_mail_error(ErrorCode::already_exists,
                           "A folder named \"" + std::string(display_name) + "\" already exists there.");
  }
  auto& folder = state_->add_folder(parent_folder->id, std::string(display_name), SpecialUse::none, "");
  return state_->describe(folder);
}

MailResult<RemoteFolder> FakeRemoteMailbox::rename_folder(const FolderId& id,
                                                          std::string_view new_display_name) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("rename_folder")) return *error;
  auto* folder = state_->find_folder(id.value());
  if (folder == nullptr || folder->id == state_->root) return folder_not_found(id.value());
  if (!folder->alias.empty()) {
    return make_mail_error(ErrorCode::no_permission,
                           "\"" + folder->name + "\" is a default Outlook folder and cannot be renamed.");
  }
  if (new_display_name.empty()) {
    return make_mail_error(ErrorCode::invalid, "A folder name cannot be empty; choose a name.");
  }
  auto* clash = state_->find_child(folder->parent, new_display_name);
  if (clash != nullptr && clash != folder) {
    return make_mail_error(ErrorCode::already_exists,
                           "A folder named \"" + std::string(new_display_name) + "\" already exists there.");
  }
  folder->name = std::string(new_display_name);
  return state_->describe(*folder);
}

MailResult<RemoteFolder> FakeRemoteMailbox::move_folder(const FolderId& id, const FolderId& new_parent) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("move_folder")) return *error;
  auto* folder = state_->find_folder(id.value());
  if (folder == nullptr || folder->id == state_->root) return folder_not_found(id.value());
  if (!folder->alias.empty()) {
    return make_mail_error(ErrorCode::no_permission,
                           "\"" + folder->name + "\" is a default Outlook folder and cannot be moved.");
  }
  FolderId parent = new_parent.value().empty() ? state_->root : new_parent;
  auto* parent_folder = state_->find_folder(parent.value());
  if (parent_folder == nullptr) return folder_not_found(parent.value());
  if (state_->is_descendant(parent_folder->id, folder->id)) {
    return make_mail_error(ErrorCode::invalid,
                           "A folder cannot be moved into itself or one of its subfolders.");
  }
  auto* clash = state_->find_child(parent_folder->id, folder->name);
  if (clash != nullptr && clash != folder) {
    return make_mail_error(ErrorCode::already_exists,
                           "A folder named \"" + folder->name + "\" already exists there.");
  }
  folder->parent = parent_folder->id;
  return state_->describe(*folder);
}

MailResult<void> FakeRemoteMailbox::delete_folder(const FolderId& id) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("delete_folder")) return *error;
  auto* folder = state_->find_folder(id.value());
  if (folder == nullptr || folder->id == state_->root) return folder_not_found(id.value());
  if (!folder->alias.empty()) {
    return make_mail_error(ErrorCode::no_permission,
                           "\"" + folder->name + "\" is a default Outlook folder and cannot be deleted.");
  }
  state_->remove_folder_tree(folder->id);
  return {};
}

FolderId FakeRemoteMailbox::folder_id(std::string_view alias_or_id) const {
  std::lock_guard lock(mutex_);
  if (auto* folder = state_->find_folder(alias_or_id)) return folder->id;
  return FolderId{std::string(alias_or_id)};
}

std::optional<FolderId> FakeRemoteMailbox::find_folder(std::string_view display_path) const {
  std::lock_guard lock(mutex_);
  FolderId current = state_->root;
  for (const auto& part : split_folder_path(display_path)) {
    auto* child = state_->find_child(current, part);
    if (child == nullptr) return std::nullopt;
    current = child->id;
  }
  return current;
}

GraphId FakeRemoteMailbox::deliver(const FolderId& folder_id, std::string mime, Flags flags,
                                   std::optional<TimePoint> received) {
  std::lock_guard lock(mutex_);
  auto* folder = state_->find_folder(folder_id.value());
  if (folder == nullptr || folder->id == state_->root) unknown_in_test("folder", folder_id.value());
  return state_->add_message(*folder, std::move(mime), std::move(flags), received).remote.id;
}

void FakeRemoteMailbox::set_flags_outside(const GraphId& id, const Flags& flags) {
  std::lock_guard lock(mutex_);
  auto it = state_->messages.find(id.value());
  if (it == state_->messages.end()) unknown_in_test("message", id.value());
  Flags updated = flags;
  updated.clear(SystemFlag::deleted);
  it->second.remote.flags = std::move(updated);
  state_->touch(it->second);
}

void FakeRemoteMailbox::move_outside(const GraphId& id, const FolderId& destination) {
  std::lock_guard lock(mutex_);
  auto it = state_->messages.find(id.value());
  auto* folder = state_->find_folder(destination.value());
  if (it == state_->messages.end()) unknown_in_test("message", id.value());
  if (folder == nullptr || folder->id == state_->root) unknown_in_test("folder", destination.value());
  state_->move(it->second, *folder);
}

void FakeRemoteMailbox::remove_outside(const GraphId& id) {
  std::lock_guard lock(mutex_);
  if (!state_->messages.contains(id.value())) unknown_in_test("message", id.value());
  state_->remove(id.value());
}

FolderId FakeRemoteMailbox::create_folder_outside(const FolderId& parent, std::string display_name) {
  std::lock_guard lock(mutex_);
  auto* parent_folder = state_->find_folder(parent.value().empty() ? state_->root.value() : parent.value());
  if (parent_folder == nullptr) unknown_in_test("folder", parent.value());
  if (auto* existing = state_->find_child(parent_folder->id, display_name)) return existing->id;
  return state_->add_folder(parent_folder->id, std::move(display_name), SpecialUse::none, "").id;
}

std::optional<RemoteMessage> FakeRemoteMailbox::message(const GraphId& id) const {
  std::lock_guard lock(mutex_);
  auto it = state_->messages.find(id.value());
  if (it == state_->messages.end()) return std::nullopt;
  return state_->describe(it->second);
}

std::vector<GraphId> FakeRemoteMailbox::message_ids(const FolderId& folder_id) const {
  std::lock_guard lock(mutex_);
  auto* folder = state_->find_folder(folder_id.value());
  if (folder == nullptr) return {};
  std::vector<const State::Message*> found;
  for (const auto& [id, message] : state_->messages) {
    if (message.remote.folder_id == folder->id) found.push_back(&message);
  }
  std::sort(found.begin(), found.end(), [](auto* a, auto* b) { return a->order < b->order; });
  std::vector<GraphId> out;
  for (const auto* message : found) out.push_back(message->remote.id);
  return out;
}

std::size_t FakeRemoteMailbox::folder_count() const {
  std::lock_guard lock(mutex_);
  return state_->folders.size() - 1;  // the root is not a mail folder
}

void FakeRemoteMailbox::set_page_size(std::size_t size) {
  std::lock_guard lock(mutex_);
  state_->page_size = std::max<std::size_t>(size, 1);
}

void FakeRemoteMailbox::set_report_sizes(bool report) {
  std::lock_guard lock(mutex_);
  state_->report_sizes = report;
}

void FakeRemoteMailbox::expire_delta_links(const FolderId& folder_id) {
  std::lock_guard lock(mutex_);
  if (auto* folder = state_->find_folder(folder_id.value())) ++folder->generation;
}

void FakeRemoteMailbox::expire_delta_links() {
  std::lock_guard lock(mutex_);
  for (auto& [id, folder] : state_->folders) ++folder.generation;
}

void FakeRemoteMailbox::interrupt_next_create(MailError error, bool stored_too) {
  std::lock_guard lock(mutex_);
  state_->interrupt_create = State::Interruption{std::move(error), stored_too};
}

void FakeRemoteMailbox::fail_next(std::string_view operation, MailError error, int times) {
  std::lock_guard lock(mutex_);
  if (times > 0) state_->faults.push_back({std::string(operation), std::move(error), times});
}

std::size_t FakeRemoteMailbox::calls(std::string_view operation) const {
  std::lock_guard lock(mutex_);
  if (operation.empty()) return state_->total_calls;
  auto it = state_->call_counts.find(operation);
  return it == state_->call_counts.end() ? 0 : it->second;
}

void FakeRemoteMailbox::reset_calls() {
  std::lock_guard lock(mutex_);
  state_->call_counts.clear();
  state_->total_calls = 0;
}

}  // namespace mailtrixy::mail
