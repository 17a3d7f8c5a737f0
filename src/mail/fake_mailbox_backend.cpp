#include "mailtrixy/mail/fake_mailbox_backend.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <thread>

#include "mailtrixy/mail/envelope.hpp"

namespace mailtrixy::mail {

struct FakeMailboxBackend::Subscriber {
  std::string path;  // "" once the folder is gone: no further events
  ChangeCallback callback;
  bool active = true;
  int running = 0;
};

struct FakeMailboxBackend::State {
  struct StoredMessage {
    MessageMeta meta;
    std::string mime;
    bool size_revealed = false;
  };
  struct Folder {
    std::string path;
    SpecialUse special_use = SpecialUse::none;
    UidValidity uid_validity;
    std::uint32_t uid_next = 1;
    std::map<std::uint32_t, StoredMessage> messages;
  };
  struct Fault {
    std::string operation;
    MailError error;
    int times = 0;
  };

  Options options;
  std::map<std::string, Folder> folders;  // by normalized path
  std::set<std::string> subscribed;
  std::map<std::uint64_t, std::shared_ptr<Subscriber>> subscribers;
  std::uint64_t next_subscriber = 1;
  std::deque<std::pair<std::shared_ptr<Subscriber>, ChangeEvent>> pending;
  bool dispatching = false;
  std::thread::id dispatcher;
  std::condition_variable callbacks_done;
  std::uint32_t next_uid_validity = 1;
  std::uint64_t next_graph_id = 1;
  TimePoint clock = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};
  std::map<std::string, std::size_t, std::less<>> refreshes;
  std::vector<Fault> faults;
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

  Folder& add_folder(const std::string& path, SpecialUse use) {
    Folder folder;
    folder.path = path;
    folder.special_use = use;
    folder.uid_validity = UidValidity{next_uid_validity++};
    return folders.emplace(path, std::move(folder)).first->second;
  }

  static bool is_descendant_path(std::string_view candidate, std::string_view ancestor) {
    return candidate.size() > ancestor.size() && candidate.starts_with(ancestor) &&
           candidate[ancestor.size()] == kFolderDelimiter;
  }

  MailResult<std::string> normalize(std::string_view path) const {
    auto normalized = normalize_folder_path(path);
    if (!normalized) {
      return make_mail_error(ErrorCode::invalid,
                             "The folder name \"" + std::string(path) +
                                 "\" is not valid; use names separated by single '/' characters.");
    }
    return *normalized;
  }

  MailResult<Folder*> find(std::string_view path) {
    auto normalized = normalize(path);
    if (!normalized) return normalized.error();
    auto it = folders.find(*normalized);
    if (it == folders.end()) {
      return make_mail_error(
          ErrorCode::not_found,
          "The folder \"" + *normalized + "\" does not exist; LIST shows the folders there are.");
    }
    return &it->second;
  }

  MessageMeta visible(const StoredMessage& message) const {
    MessageMeta meta = message.meta;
    if (!options.sizes_known_upfront && !message.size_revealed) meta.rfc822_size.reset();
    return meta;
  }

  void emit(const std::string& path, ChangeEvent event) {
    event.folder = path;
    for (const auto& [id, subscriber] : subscribers) {
      if (subscriber->active && subscriber->path == path) pending.emplace_back(subscriber, event);
    }
  }

  void emit_message(const Folder& folder, ChangeEvent::Kind kind, const StoredMessage& message) {
    ChangeEvent event;
    event.kind = kind;
    event.uid = message.meta.uid;
    if (kind != ChangeEvent::Kind::message_expunged) event.meta = visible(message);
    emit(folder.path, std::move(event));
  }

  // Files a message in `folder` under the next UID.
  StoredMessage& add_message(Folder& folder, std::string mime, Flags flags, TimePoint internal_date) {
    StoredMessage message;
    message.meta.uid = Uid{folder.uid_next++};
    message.meta.graph_id = GraphId{"fake-" + std::to_string(next_graph_id++)};
    message.meta.flags = std::move(flags);
    message.meta.internal_date = internal_date;
    message.meta.rfc822_size = mime.size();
    message.meta.envelope = parse_envelope(mime);
    message.mime = std::move(mime);
    auto& stored = folder.messages.emplace(message.meta.uid.value(), std::move(message)).first->second;
    emit_message(folder, ChangeEvent::Kind::message_added, stored);
    return stored;
  }

  void remove_message(Folder& folder, std::uint32_t uid) {
    auto it = folder.messages.find(uid);
    if (it == folder.messages.end()) return;
    emit_message(folder, ChangeEvent::Kind::message_expunged, it->second);
    folder.messages.erase(it);
  }

  TimePoint tick() {
    clock += std::chrono::seconds{1};
    return clock;
  }

  void end_subscriptions(const std::string& path) {
    ChangeEvent event;
    event.kind = ChangeEvent::Kind::folder_removed;
    emit(path, event);
    for (auto& [id, subscriber] : subscribers) {
      if (subscriber->path == path) subscriber->path.clear();
    }
  }

  Folder* trash() {
    for (auto& [path, folder] : folders) {
      if (folder.special_use == SpecialUse::trash) return &folder;
    }
    return nullptr;
  }

  // Delivers queued events in order. Only one thread delivers at a time; others leave their
  // events to it.
  void dispatch(std::unique_lock<std::mutex>& lock) {
    if (dispatching) return;
    dispatching = true;
    dispatcher = std::this_thread::get_id();
    while (!pending.empty()) {
      auto [subscriber, event] = std::move(pending.front());
      pending.pop_front();
      if (!subscriber->active) continue;
      ++subscriber->running;
      lock.unlock();
      subscriber->callback(event);
      lock.lock();
      --subscriber->running;
      callbacks_done.notify_all();
    }
    dispatching = false;
    dispatcher = {};
  }
};

namespace {

std::vector<std::uint32_t> sorted_unique(const std::vector<Uid>& uids) {
  std::vector<std::uint32_t> out;
  out.reserve(uids.size());
  for (const auto& uid : uids) out.push_back(uid.value());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

MailResult<void> check_keywords(const Flags& flags) {
  for (const auto& keyword : flags.keywords()) {
    if (!is_valid_keyword(keyword)) {
      return make_mail_error(ErrorCode::invalid, "The keyword \"" + keyword +
                                                     "\" is not a valid IMAP flag; use letters, digits and "
                                                     "punctuation other than ( ) { % * \" \\ ].");
    }
  }
  return {};
}

bool is_protected(const std::string& path, SpecialUse use) {
  return use != SpecialUse::none || path == kInbox;
}

}  // namespace

FakeMailboxBackend::FakeMailboxBackend() : FakeMailboxBackend(Options{}) {}

FakeMailboxBackend::FakeMailboxBackend(Options options) : state_(std::make_unique<State>()) {
  state_->options = options;
  state_->next_uid_validity = options.first_uid_validity == 0 ? 1 : options.first_uid_validity;
  state_->add_folder(std::string(kInbox), SpecialUse::inbox);
  state_->add_folder("Drafts", SpecialUse::drafts);
  state_->add_folder("Sent Items", SpecialUse::sent);
  state_->add_folder("Deleted Items", SpecialUse::trash);
  state_->add_folder("Junk Email", SpecialUse::junk);
  state_->add_folder("Archive", SpecialUse::archive);
}

FakeMailboxBackend::~FakeMailboxBackend() = default;

MailResult<std::vector<FolderInfo>> FakeMailboxBackend::list_folders() {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("list_folders")) return *error;
  std::vector<FolderInfo> out;
  for (const auto& [path, folder] : state_->folders) {
    FolderInfo info;
    info.path = path;
    info.special_use = folder.special_use;
    info.subscribed = state_->subscribed.contains(path);
    auto next = state_->folders.upper_bound(path);
    const std::string& parent = path;  // a structured binding can't be captured before C++20 in clang 14
    info.has_children = std::any_of(next, state_->folders.end(), [&parent](const auto& entry) {
      return State::is_descendant_path(entry.first, parent);
    });
    out.push_back(std::move(info));
  }
  // Parents sort before their children already ("a" < "a/b"); INBOX goes first.
  std::stable_partition(out.begin(), out.end(), [](const FolderInfo& info) { return info.path == kInbox; });
  return out;
}

MailResult<FolderStatus> FakeMailboxBackend::folder_status(std::string_view path) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("folder_status")) return *error;
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  FolderStatus status;
  status.uid_validity = (*folder)->uid_validity;
  status.uid_next = Uid{(*folder)->uid_next};
  for (const auto& [uid, message] : (*folder)->messages) {
    ++status.messages;
    if (!message.meta.flags.has(SystemFlag::seen)) {
      ++status.unseen;
      if (!status.first_unseen) status.first_unseen = message.meta.uid;
    }
    if (message.meta.flags.has(SystemFlag::deleted)) ++status.deleted;
    if (auto size = state_->visible(message).rfc822_size) status.size += *size;
  }
  return status;
}

MailResult<std::vector<MessageMeta>> FakeMailboxBackend::list_messages(std::string_view path,
                                                                       UidRange range) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("list_messages")) return *error;
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  std::vector<MessageMeta> out;
  if (range.first > range.last) return out;
  auto& messages = (*folder)->messages;
  for (auto it = messages.lower_bound(range.first.value());
       it != messages.end() && it->first <= range.last.value(); ++it) {
    out.push_back(state_->visible(it->second));
  }
  return out;
}

MailResult<std::string> FakeMailboxBackend::fetch_mime(std::string_view path, Uid uid) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("fetch_mime")) return *error;
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  auto it = (*folder)->messages.find(uid.value());
  if (it == (*folder)->messages.end()) {
    return make_mail_error(ErrorCode::not_found, "Message UID " + std::to_string(uid.value()) +
                                                     " does not exist in \"" + (*folder)->path + "\".");
  }
  it->second.size_revealed = true;
  return it->second.mime;
}

MailResult<std::uint64_t> FakeMailboxBackend::message_size(std::string_view path, Uid uid) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("message_size")) return *error;
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  auto it = (*folder)->messages.find(uid.value());
  if (it == (*folder)->messages.end()) {
    return make_mail_error(ErrorCode::not_found, "Message UID " + std::to_string(uid.value()) +
                                                     " does not exist in \"" + (*folder)->path + "\".");
  }
  it->second.size_revealed = true;
  return static_cast<std::uint64_t>(it->second.mime.size());
}

MailResult<std::vector<MessageMeta>> FakeMailboxBackend::store_flags(std::string_view path,
                                                                     const std::vector<Uid>& uids,
                                                                     StoreMode mode, const Flags& flags) {
  std::unique_lock lock(mutex_);
  if (auto error = state_->begin("store_flags")) return *error;
  if (auto valid = check_keywords(flags); !valid) return valid.error();
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  std::vector<MessageMeta> out;
  for (auto uid : sorted_unique(uids)) {
    auto it = (*folder)->messages.find(uid);
    if (it == (*folder)->messages.end()) continue;
    auto& meta = it->second.meta;
    Flags updated = meta.flags;
    switch (mode) {
      case StoreMode::add: updated.add_all(flags); break;
      case StoreMode::remove: updated.remove_all(flags); break;
      case StoreMode::replace: updated = flags; break;
    }
    updated.set(SystemFlag::draft, meta.flags.has(SystemFlag::draft));  // read-only on Graph
    if (!(updated == meta.flags)) {
      meta.flags = std::move(updated);
      state_->emit_message(**folder, ChangeEvent::Kind::flags_changed, it->second);
    }
    out.push_back(state_->visible(it->second));
  }
  state_->dispatch(lock);
  return out;
}

MailResult<AppendResult> FakeMailboxBackend::append(std::string_view path, std::string_view mime,
                                                    const Flags& flags,
                                                    std::optional<TimePoint> internal_date) {
  std::unique_lock lock(mutex_);
  if (auto error = state_->begin("append")) return *error;
  if (auto valid = check_keywords(flags); !valid) return valid.error();
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  if (auto valid = validate_message(mime); !valid) return valid.error();
  TimePoint date = internal_date ? *internal_date : state_->tick();
  auto& message = state_->add_message(**folder, std::string(mime), flags, date);
  AppendResult result{(*folder)->uid_validity, message.meta.uid};
  state_->dispatch(lock);
  return result;
}

MailResult<CopyResult> FakeMailboxBackend::copy(std::string_view path, const std::vector<Uid>& uids,
                                                std::string_view destination) {
  std::unique_lock lock(mutex_);
  if (auto error = state_->begin("copy")) return *error;
  auto source = state_->find(path);
  if (!source) return source.error();
  auto target = state_->find(destination);
  if (!target) return target.error();
  CopyResult result;
  result.destination_uid_validity = (*target)->uid_validity;
  for (auto uid : sorted_unique(uids)) {
    auto it = (*source)->messages.find(uid);
    if (it == (*source)->messages.end()) continue;
    Flags flags = it->second.meta.flags;
    flags.clear(SystemFlag::deleted);
    // Copy out first: adding to the same folder may rehash nothing in a std::map, but keep the
    // source untouched while the new entry is built.
    std::string mime = it->second.mime;
    auto date = it->second.meta.internal_date;
    auto& added = state_->add_message(**target, std::move(mime), std::move(flags), date);
    result.uids.emplace_back(Uid{uid}, added.meta.uid);
  }
  state_->dispatch(lock);
  return result;
}

MailResult<CopyResult> FakeMailboxBackend::move(std::string_view path, const std::vector<Uid>& uids,
                                                std::string_view destination) {
  std::unique_lock lock(mutex_);
  if (auto error = state_->begin("move")) return *error;
  auto source = state_->find(path);
  if (!source) return source.error();
  auto target = state_->find(destination);
  if (!target) return target.error();
  CopyResult result;
  result.destination_uid_validity = (*target)->uid_validity;
  for (auto uid : sorted_unique(uids)) {
    auto it = (*source)->messages.find(uid);
    if (it == (*source)->messages.end()) continue;
    std::string mime = it->second.mime;
    Flags flags = it->second.meta.flags;
    flags.clear(SystemFlag::deleted);
    auto date = it->second.meta.internal_date;
    auto& added = state_->add_message(**target, std::move(mime), std::move(flags), date);
    result.uids.emplace_back(Uid{uid}, added.meta.uid);
  }
  for (const auto& [from, to] : result.uids) state_->remove_message(**source, from.value());
  state_->dispatch(lock);
  return result;
}

MailResult<std::vector<Uid>> FakeMailboxBackend::expunge(std::string_view path,
                                                         const std::optional<std::vector<Uid>>& only) {
  std::unique_lock lock(mutex_);
  if (auto error = state_->begin("expunge")) return *error;
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  std::optional<std::vector<std::uint32_t>> allowed;
  if (only) allowed = sorted_unique(*only);
  std::vector<Uid> expunged;
  for (const auto& [uid, message] : (*folder)->messages) {
    if (!message.meta.flags.has(SystemFlag::deleted)) continue;
    if (allowed && !std::binary_search(allowed->begin(), allowed->end(), uid)) continue;
    expunged.push_back(Uid{uid});
  }
  auto* trash = state_->trash();
  for (const auto& uid : expunged) {
    auto& message = (*folder)->messages.at(uid.value());
    if (trash != nullptr && trash != *folder) {
      Flags flags = message.meta.flags;
      flags.clear(SystemFlag::deleted);
      state_->add_message(*trash, message.mime, std::move(flags), message.meta.internal_date);
    }
    state_->remove_message(**folder, uid.value());
  }
  state_->dispatch(lock);
  return expunged;
}

MailResult<void> FakeMailboxBackend::create_folder(std::string_view path) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("create_folder")) return *error;
  auto normalized = state_->normalize(path);
  if (!normalized) return normalized.error();
  if (state_->folders.contains(*normalized)) {
    return make_mail_error(ErrorCode::already_exists, "The folder \"" + *normalized + "\" already exists.");
  }
  std::string prefix;
  for (const auto& part : split_folder_path(*normalized)) {
    if (!prefix.empty()) prefix += kFolderDelimiter;
    prefix += part;
    if (!state_->folders.contains(prefix)) state_->add_folder(prefix, SpecialUse::none);
  }
  return {};
}

MailResult<void> FakeMailboxBackend::rename_folder(std::string_view from, std::string_view to) {
  std::unique_lock lock(mutex_);
  if (auto error = state_->begin("rename_folder")) return *error;
  auto source = state_->find(from);
  if (!source) return source.error();
  auto target_path = state_->normalize(to);
  if (!target_path) return target_path.error();
  std::string source_path = (*source)->path;
  if (source_path == kInbox) {
    return make_mail_error(ErrorCode::not_supported,
                           "Renaming INBOX is not supported; create a folder and move the messages instead.");
  }
  if (is_protected(source_path, (*source)->special_use)) {
    return make_mail_error(ErrorCode::no_permission,
                           "\"" + source_path + "\" is a special Outlook folder and cannot be renamed.");
  }
  if (state_->folders.contains(*target_path)) {
    return make_mail_error(ErrorCode::already_exists, "The folder \"" + *target_path + "\" already exists.");
  }
  if (State::is_descendant_path(*target_path, source_path)) {
    return make_mail_error(ErrorCode::invalid, "A folder cannot be moved into one of its own subfolders.");
  }
  std::vector<std::string> moving;
  for (const auto& [path, folder] : state_->folders) {
    if (path == source_path || State::is_descendant_path(path, source_path)) moving.push_back(path);
  }
  for (const auto& old_path : moving) {
    auto node = state_->folders.extract(old_path);
    std::string new_path = *target_path + old_path.substr(source_path.size());
    node.key() = new_path;
    node.mapped().path = new_path;
    state_->folders.insert(std::move(node));
    state_->end_subscriptions(old_path);
  }
  // RENAME creates missing superior folders (RFC 3501 6.3.5).
  std::string prefix;
  auto parts = split_folder_path(*target_path);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!prefix.empty()) prefix += kFolderDelimiter;
    prefix += parts[i];
    if (!state_->folders.contains(prefix)) state_->add_folder(prefix, SpecialUse::none);
  }
  state_->dispatch(lock);
  return {};
}

MailResult<void> FakeMailboxBackend::delete_folder(std::string_view path) {
  std::unique_lock lock(mutex_);
  if (auto error = state_->begin("delete_folder")) return *error;
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  std::string folder_path = (*folder)->path;
  if (is_protected(folder_path, (*folder)->special_use)) {
    return make_mail_error(
        ErrorCode::no_permission,
        "\"" + folder_path + "\" is INBOX or a special Outlook folder and cannot be deleted.");
  }
  std::vector<std::string> doomed;
  for (const auto& [other, unused] : state_->folders) {
    if (other == folder_path || State::is_descendant_path(other, folder_path)) doomed.push_back(other);
  }
  for (const auto& doomed_path : doomed) {
    state_->end_subscriptions(doomed_path);
    state_->folders.erase(doomed_path);
  }
  state_->dispatch(lock);
  return {};
}

MailResult<void> FakeMailboxBackend::set_subscribed(std::string_view path, bool subscribed) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("set_subscribed")) return *error;
  auto normalized = state_->normalize(path);
  if (!normalized) return normalized.error();
  if (subscribed) {
    state_->subscribed.insert(*normalized);
  } else {
    state_->subscribed.erase(*normalized);
  }
  return {};
}

MailResult<std::vector<std::string>> FakeMailboxBackend::subscribed_folders() {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("subscribed_folders")) return *error;
  return std::vector<std::string>(state_->subscribed.begin(), state_->subscribed.end());
}

MailResult<ChangeSubscription> FakeMailboxBackend::subscribe(std::string_view path,
                                                             ChangeCallback on_change) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("subscribe")) return *error;
  if (!on_change) {
    return make_mail_error(ErrorCode::invalid, "A change subscription needs a callback.");
  }
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->path = (*folder)->path;
  subscriber->callback = std::move(on_change);
  std::uint64_t id = state_->next_subscriber++;
  state_->subscribers.emplace(id, std::move(subscriber));
  return ChangeSubscription([this, id] {
    std::unique_lock unsubscribe_lock(mutex_);
    auto it = state_->subscribers.find(id);
    if (it == state_->subscribers.end()) return;
    auto removed = it->second;
    state_->subscribers.erase(it);
    removed->active = false;
    if (state_->dispatcher != std::this_thread::get_id()) {
      state_->callbacks_done.wait(unsubscribe_lock, [&] { return removed->running == 0; });
    }
  });
}

MailResult<void> FakeMailboxBackend::request_refresh(std::string_view path) {
  std::lock_guard lock(mutex_);
  if (auto error = state_->begin("request_refresh")) return *error;
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  ++state_->refreshes[(*folder)->path];
  return {};
}

MailResult<Uid> FakeMailboxBackend::deliver(std::string_view path, std::string mime, Flags flags,
                                            std::optional<TimePoint> internal_date) {
  std::unique_lock lock(mutex_);
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  flags.clear(SystemFlag::deleted);
  TimePoint date = internal_date ? *internal_date : state_->tick();
  Uid uid = state_->add_message(**folder, std::move(mime), std::move(flags), date).meta.uid;
  state_->dispatch(lock);
  return uid;
}

MailResult<void> FakeMailboxBackend::set_flags_outside(std::string_view path, Uid uid, const Flags& flags) {
  std::unique_lock lock(mutex_);
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  auto it = (*folder)->messages.find(uid.value());
  if (it == (*folder)->messages.end()) {
    return make_mail_error(ErrorCode::not_found,
                           "Message UID " + std::to_string(uid.value()) + " does not exist.");
  }
  Flags updated = flags;
  updated.set(SystemFlag::deleted, it->second.meta.flags.has(SystemFlag::deleted));  // local state
  if (!(updated == it->second.meta.flags)) {
    it->second.meta.flags = std::move(updated);
    state_->emit_message(**folder, ChangeEvent::Kind::flags_changed, it->second);
  }
  state_->dispatch(lock);
  return {};
}

MailResult<void> FakeMailboxBackend::remove_outside(std::string_view path, Uid uid) {
  std::unique_lock lock(mutex_);
  auto folder = state_->find(path);
  if (!folder) return folder.error();
  if (!(*folder)->messages.contains(uid.value())) {
    return make_mail_error(ErrorCode::not_found,
                           "Message UID " + std::to_string(uid.value()) + " does not exist.");
  }
  state_->remove_message(**folder, uid.value());
  state_->dispatch(lock);
  return {};
}

bool FakeMailboxBackend::is_watched(std::string_view path) const {
  std::lock_guard lock(mutex_);
  auto normalized = normalize_folder_path(path);
  if (!normalized) return false;
  return std::any_of(state_->subscribers.begin(), state_->subscribers.end(), [&](const auto& entry) {
    return entry.second->active && entry.second->path == *normalized;
  });
}

std::size_t FakeMailboxBackend::refresh_requests(std::string_view path) const {
  std::lock_guard lock(mutex_);
  auto normalized = normalize_folder_path(path);
  if (!normalized) return 0;
  auto it = state_->refreshes.find(*normalized);
  return it == state_->refreshes.end() ? 0 : it->second;
}

void FakeMailboxBackend::fail_next(std::string_view operation, MailError error, int times) {
  std::lock_guard lock(mutex_);
  if (times > 0) state_->faults.push_back({std::string(operation), std::move(error), times});
}

std::size_t FakeMailboxBackend::calls(std::string_view operation) const {
  std::lock_guard lock(mutex_);
  if (operation.empty()) return state_->total_calls;
  auto it = state_->call_counts.find(operation);
  return it == state_->call_counts.end() ? 0 : it->second;
}

}  // namespace mailtrixy::mail
