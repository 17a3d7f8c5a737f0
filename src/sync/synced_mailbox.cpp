#include "mailtrixy/sync/synced_mailbox.hpp"

#include <algorithm>
#include <utility>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/random.hpp"
#include "mailtrixy/mail/envelope.hpp"
#include "mailtrixy/mime/structure.hpp"

namespace mailtrixy::sync {
namespace {

using mail::ErrorCode;
using mail::MailError;
using mail::MailResult;

// A '/' inside an Outlook display name would split the IMAP path; it is shown as U+2215.
constexpr std::string_view kDivisionSlash = "\xE2\x88\x95";

std::string path_segment(std::string_view display_name) {
  std::string out;
  for (char c : display_name) {
    if (c == '/') out += kDivisionSlash;
    else out += c;
  }
  return out;
}

std::string display_name_of(std::string_view segment) {
  std::string out(segment);
  for (auto at = out.find(kDivisionSlash); at != std::string::npos; at = out.find(kDivisionSlash, at + 1))
    out.replace(at, kDivisionSlash.size(), "/");
  return out;
}

MailError store_error(const Error& error) {
  return mail::make_mail_error(ErrorCode::internal, "the bridge's database failed: " + error.message);
}

MessageRecord from_remote(const mail::RemoteMessage& remote) {
  MessageRecord meta;
  meta.graph_id = remote.id;
  meta.flags = remote.flags;
  meta.flags.clear(mail::SystemFlag::deleted);
  meta.internal_date = remote.received;
  meta.rfc822_size = remote.size;
  meta.envelope = remote.envelope;
  return meta;
}

std::string parent_path(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}
std::string leaf_name(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// The APPEND journal (see synced_mailbox.hpp): "<unix seconds>\n<folder id>\n<Message-ID>".
struct AppendJournalEntry {
  mail::TimePoint started{};
  std::string folder_id;
  std::string message_id;
};

std::string append_journal_prefix(std::string_view account) { return std::string(account) + "/#append/"; }

std::string to_record(const AppendJournalEntry& entry) {
  return std::to_string(entry.started.time_since_epoch().count()) + "\n" + entry.folder_id + "\n" + entry.message_id;
}

std::optional<AppendJournalEntry> journal_entry_from(std::string_view record) {
  const auto first = record.find('\n');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = record.find('\n', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const std::string_view seconds = record.substr(0, first);
  if (seconds.empty() || seconds.size() > 18 ||
      !std::all_of(seconds.begin(), seconds.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  AppendJournalEntry entry;
  entry.started = mail::TimePoint(std::chrono::seconds(std::stoll(std::string(seconds))));
  entry.folder_id = std::string(record.substr(first + 1, second - first - 1));
  entry.message_id = std::string(record.substr(second + 1));
  if (entry.message_id.empty()) return std::nullopt;
  return entry;
}

// Microsoft's createdDateTime is compared with the bridge's wall clock, not the injected
// scheduling clock.
mail::TimePoint wall_clock_now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

bool keywords_equal(const mail::Flags& a, const mail::Flags& b) {
  if (a.keywords().size() != b.keywords().size()) return false;
  for (const auto& k : a.keywords())
    if (!b.has_keyword(k)) return false;
  return true;
}

}  // namespace

SyncedMailbox::SyncedMailbox(store::Store& store, std::string account_key,
                             std::shared_ptr<mail::RemoteMailbox> remote,
                             std::shared_ptr<BodyCache> bodies, NowMs now_ms)
    : store_(store),
      state_(store, std::move(account_key)),
      remote_(std::move(remote)),
      bodies_(std::move(bodies)),
      now_ms_(std::move(now_ms)) {}

SyncedMailbox::~SyncedMailbox() = default;

// ---------------------------------------------------------------------------------------------
// Reads

MailResult<FolderRecord> SyncedMailbox::find_folder(std::string_view path) {
  auto normalized = mail::normalize_folder_path(path);
  if (!normalized)
    return mail::make_mail_error(ErrorCode::invalid, "\"" + std::string(path) +
                                 "\" is not a valid folder name; use names separated by single '/'");
  auto found = state_.folder_by_path(*normalized);
  if (!found) return store_error(found.error());
  if (!found.value())
    return mail::make_mail_error(ErrorCode::not_found, "there is no folder \"" + *normalized + "\"");
  return std::move(*found.value());
}

MailResult<std::vector<mail::FolderInfo>> SyncedMailbox::list_folders() {
  auto folders = state_.folders();
  if (!folders) return store_error(folders.error());
  auto subscribed = state_.subscribed();
  if (!subscribed) return store_error(subscribed.error());
  std::set<std::string> subscribed_paths(subscribed->begin(), subscribed->end());
  std::set<std::string> parents;
  for (const auto& f : folders.value()) parents.insert(f.parent_id);
  std::vector<mail::FolderInfo> out;
  for (const auto& f : folders.value()) {
    mail::FolderInfo info;
    info.path = f.path;
    info.special_use = f.special_use;
    info.has_children = parents.count(f.id) > 0;
    info.subscribed = subscribed_paths.count(f.path) > 0;
    out.push_back(std::move(info));
  }
  // Paths sort parents before children; INBOX (and its children) go first.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    auto rank = [](const std::string& p) { return mail::is_inbox(mail::split_folder_path(p).front()) ? 0 : 1; };
    return rank(a.path) < rank(b.path);
  });
  return out;
}

MailResult<mail::FolderStatus> SyncedMailbox::folder_status(std::string_view path) {
  auto folder = find_folder(path);
  if (!folder) return folder.error();
  // SELECT and STATUS of a large folder would otherwise read every record each time; the cached
  // value is used only while no record of the account changed since it was computed.
  const std::uint64_t generation = state_.generation();
  {
    std::lock_guard lock(status_cache_mutex_);
    auto cached = status_cache_.find(folder->id);
    if (cached != status_cache_.end() && cached->second.first == generation) return cached->second.second;
  }
  auto messages = state_.messages(folder->id);
  if (!messages) return store_error(messages.error());
  mail::FolderStatus status;
  status.uid_validity = mail::UidValidity(folder->uidvalidity);
  status.uid_next = mail::Uid(folder->uidnext);
  for (const auto& m : messages.value()) {
    ++status.messages;
    if (!m.flags.has(mail::SystemFlag::seen)) {
      ++status.unseen;
      if (!status.first_unseen) status.first_unseen = m.uid;
    }
    if (m.flags.has(mail::SystemFlag::deleted)) ++status.deleted;
    if (m.rfc822_size) status.size += *m.rfc822_size;
  }
  std::lock_guard lock(status_cache_mutex_);
  status_cache_[folder->id] = {generation, status};
  return status;
}

MailResult<std::vector<mail::MessageMeta>> SyncedMailbox::list_messages(std::string_view path,
                                                                        mail::UidRange range) {
  auto folder = find_folder(path);
  if (!folder) return folder.error();
  std::vector<mail::MessageMeta> out;
  if (range.first > range.last) return out;
  auto cursor = store_.cursor(store::Family::messages);
  const std::string prefix = folder_prefix(state_.account(), folder->id);
  const std::string last = message_key(state_.account(), folder->id, range.last.value());
  for (cursor.seek(message_key(state_.account(), folder->id, std::max<std::uint32_t>(1, range.first.value())));
       cursor.valid(); cursor.next()) {
    auto key = cursor.key();
    if (key.substr(0, prefix.size()) != prefix || key > last) break;
    auto meta = message_from_json(cursor.value());
    if (!meta) return store_error(meta.error());
    out.push_back(std::move(meta.value()));
  }
  auto status = cursor.status();
  if (!status) return store_error(status.error());
  return out;
}

MailResult<std::vector<mail::MessageFlags>> SyncedMailbox::list_flags(std::string_view path) {
  auto folder = find_folder(path);
  if (!folder) return folder.error();
  std::vector<mail::MessageFlags> out;
  auto cursor = store_.cursor(store::Family::messages);
  const std::string prefix = folder_prefix(state_.account(), folder->id);
  for (cursor.seek(prefix); cursor.valid(); cursor.next()) {
    if (cursor.key().substr(0, prefix.size()) != prefix) break;
    auto flags = message_flags_from_json(cursor.value());
    if (!flags) return store_error(flags.error());
    out.push_back(std::move(flags.value()));
  }
  auto status = cursor.status();
  if (!status) return store_error(status.error());
  return out;
}

MailResult<std::string> SyncedMailbox::load_mime(const std::string& folder_id, const MessageRecord& meta) {
  const std::string& id = meta.graph_id.value();
  std::optional<std::string> mime = bodies_->get(state_.account(), id);
  if (!mime) {
    auto fetched = remote_->fetch_mime(meta.graph_id);
    if (!fetched) return fetched.error();
    // IMAP serves CRLF line ends, and the size must be the length of what is served: normalise
    // once, before caching (Exchange already sends CRLF; other stores may not).
    mime = mime::normalize_crlf(fetched.value());
    auto cached = bodies_->put(state_.account(), id, *mime);
    if (!cached) log::warn("could not cache a message body", {{"account", state_.account()}, {"reason", cached.error().message}});
  }
  if (meta.rfc822_size != mime->size()) {
    if (meta.rfc822_size)
      log::warn("Microsoft served a message with another length than before; RFC822.SIZE follows the new body",
                {{"account", state_.account()}, {"old", *meta.rfc822_size}, {"new", mime->size()}});
    std::lock_guard lock(write_mutex_);
    auto current = state_.message(folder_id, meta.uid.value());
    if (current && current.value()) {
      MessageRecord updated = *current.value();
      updated.rfc822_size = mime->size();
      auto stored = state_.put_message(folder_id, updated);
      if (!stored) return store_error(stored.error());
    }
  }
  return std::move(*mime);
}

mail::MailResult<std::size_t> SyncedMailbox::prefetch_sizes(const std::string& folder_id, std::size_t limit) {
  std::lock_guard prefetch_lock(prefetch_mutex_);
  auto folder = state_.folder(folder_id);
  if (!folder) return store_error(folder.error());
  if (!folder.value()) return std::size_t{0};
  PrefetchCursor& cursor_state = prefetch_[folder_id];
  if (cursor_state.below == 0) {
    // A new pass covers what arrived since the last one: [floor, uidnext).
    if (folder.value()->uidnext <= cursor_state.floor) return std::size_t{0};
    cursor_state.below = folder.value()->uidnext;
    cursor_state.pass_top = folder.value()->uidnext;
  }
  // Newest first: walk down from `below` to `floor`, collecting messages without a size.
  std::vector<MessageRecord> wanted;
  std::uint32_t lowest_seen = cursor_state.below;
  {
    auto cursor = store_.cursor(store::Family::messages);
    const std::string prefix = folder_prefix(state_.account(), folder_id);
    for (cursor.seek_for_prev(message_key(state_.account(), folder_id, cursor_state.below - 1));
         cursor.valid() && wanted.size() < limit; cursor.prev()) {
      if (cursor.key().substr(0, prefix.size()) != prefix) break;
      auto meta = message_from_json(cursor.value());
      if (!meta) return store_error(meta.error());
      if (meta->uid.value() < cursor_state.floor) break;
      lowest_seen = meta->uid.value();
      if (!meta->rfc822_size) wanted.push_back(std::move(meta.value()));
    }
    auto status = cursor.status();
    if (!status) return store_error(status.error());
    if (wanted.size() < limit) lowest_seen = cursor_state.floor;  // walked to the floor
  }
  std::size_t downloaded = 0;
  for (const auto& meta : wanted) {
    auto current = state_.message(folder_id, meta.uid.value());
    if (!current) return store_error(current.error());
    if (!current.value() || current.value()->rfc822_size) continue;  // gone, or learned meanwhile
    auto mime = load_mime(folder_id, *current.value());
    if (!mime) {
      if (mime.code() == ErrorCode::not_found) continue;  // deleted on the Microsoft side meanwhile
      cursor_state.below = meta.uid.value() + 1;
      return mime.error();
    }
    ++downloaded;
  }
  if (lowest_seen <= cursor_state.floor) {
    cursor_state.floor = cursor_state.pass_top;  // this pass is done; next one starts at new mail
    cursor_state.below = 0;
  } else {
    cursor_state.below = lowest_seen;
  }
  return downloaded;
}

MailResult<std::string> SyncedMailbox::fetch_mime(std::string_view path, mail::Uid uid) {
  auto folder = find_folder(path);
  if (!folder) return folder.error();
  auto meta = state_.message(folder->id, uid.value());
  if (!meta) return store_error(meta.error());
  if (!meta.value())
    return mail::make_mail_error(ErrorCode::not_found, "there is no message with UID " +
                                 std::to_string(uid.value()) + " in \"" + folder->path + "\"");
  return load_mime(folder->id, *meta.value());
}

MailResult<std::uint64_t> SyncedMailbox::message_size(std::string_view path, mail::Uid uid) {
  auto folder = find_folder(path);
  if (!folder) return folder.error();
  auto meta = state_.message(folder->id, uid.value());
  if (!meta) return store_error(meta.error());
  if (!meta.value())
    return mail::make_mail_error(ErrorCode::not_found, "there is no message with UID " +
                                 std::to_string(uid.value()) + " in \"" + folder->path + "\"");
  if (meta.value()->rfc822_size) return *meta.value()->rfc822_size;
  auto mime = load_mime(folder->id, *meta.value());
  if (!mime) return mime.error();
  return static_cast<std::uint64_t>(mime->size());
}

// ---------------------------------------------------------------------------------------------
// Message writes

MailResult<std::vector<mail::MessageMeta>> SyncedMailbox::store_flags(std::string_view path,
                                                                      const std::vector<mail::Uid>& uids,
                                                                      mail::StoreMode mode,
                                                                      const mail::Flags& flags) {
  auto folder = find_folder(path);
  if (!folder) return folder.error();
  std::vector<mail::Uid> sorted = uids;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<mail::MessageMeta> out;
  for (auto uid : sorted) {
    auto meta = state_.message(folder->id, uid.value());
    if (!meta) return store_error(meta.error());
    if (!meta.value()) continue;
    const mail::Flags before = meta.value()->flags;
    mail::Flags after = before;
    switch (mode) {
      case mail::StoreMode::add: after.add_all(flags); break;
      case mail::StoreMode::remove: after.remove_all(flags); break;
      case mail::StoreMode::replace: after = flags; break;
    }
    after.set(mail::SystemFlag::draft, before.has(mail::SystemFlag::draft));  // read-only on Graph

    mail::RemoteFlagUpdate update;
    auto differs = [&](mail::SystemFlag f) { return before.has(f) != after.has(f); };
    if (differs(mail::SystemFlag::seen)) update.seen = after.has(mail::SystemFlag::seen);
    if (differs(mail::SystemFlag::flagged)) update.flagged = after.has(mail::SystemFlag::flagged);
    if (differs(mail::SystemFlag::answered) || differs(mail::SystemFlag::forwarded)) {
      update.answered = after.has(mail::SystemFlag::answered);
      update.forwarded = after.has(mail::SystemFlag::forwarded);
    }
    if (!keywords_equal(before, after)) update.keywords = after.keywords();
    if (!update.empty()) {
      auto written = remote_->update_flags(meta.value()->graph_id, update);
      if (!written) return written.error();
    }

    std::lock_guard lock(write_mutex_);
    auto current = state_.message(folder->id, uid.value());
    if (!current) return store_error(current.error());
    if (!current.value()) continue;  // expunged meanwhile
    MessageRecord updated = *current.value();
    const bool changed = !(updated.flags == after);
    updated.flags = after;
    if (changed) {
      auto stored = state_.put_message(folder->id, updated);
      if (!stored) return store_error(stored.error());
      mail::ChangeEvent event;
      event.kind = mail::ChangeEvent::Kind::flags_changed;
      event.folder = folder->path;
      event.uid = updated.uid;
      event.meta = updated;
      publish_event_locked(folder->id, event);
    }
    out.push_back(std::move(updated));
  }
  return out;
}

MailResult<mail::AppendResult> SyncedMailbox::append(std::string_view path, std::string_view mime,
                                                     const mail::Flags& flags,
                                                     std::optional<mail::TimePoint> internal_date) {
  auto folder = find_folder(path);
  if (!folder) return folder.error();
  auto valid = mail::validate_message(mime);
  if (!valid) return valid.error();
  if (auto existing = existing_sent_copy(*folder, mime)) return *existing;
  mail::CreateMessageOptions options;
  options.flags = flags;
  options.received = internal_date;
  // Only a non-draft goes through a staging draft; without a Message-ID it could not be found.
  std::string message_id;
  if (!flags.has(mail::SystemFlag::draft)) message_id = mail::parse_envelope(mime).message_id;
  if (message_id.find('\n') != std::string::npos || message_id.find('\r') != std::string::npos) message_id.clear();
  if (!message_id.empty()) {
    claim_message_id(message_id);
    AppendJournalEntry entry{wall_clock_now(), folder->id, message_id};
    const std::string journal_key = append_journal_prefix(state_.account()) + crypto::hex_encode(crypto::random_bytes(12));
    if (auto journaled = store_.put(store::Family::folders, journal_key, to_record(entry)); !journaled) {
      release_message_id(message_id);
      return store_error(journaled.error());
    }
    auto created = remote_->create_message(mail::FolderId(folder->id), mime, options);
    bool finished = true;
    if (!created) {
      auto cleaned = remote_->delete_staging_drafts(message_id, entry.started - kClockAllowance,
                                                    wall_clock_now() + kClockAllowance);
      if (cleaned) {
        if (*cleaned > 0)
          log::info("removed the staging draft of a failed APPEND",
                    {{"account", state_.account()}, {"drafts", std::to_string(*cleaned)}});
      } else {
        finished = false;  // the journal record stays: the next sync round tries again
        log::warn("could not remove the staging draft of a failed APPEND; the sync will try again",
                  {{"account", state_.account()}, {"reason", cleaned.error().message}});
      }
    }
    if (finished) {
      if (auto dropped = store_.del(store::Family::folders, journal_key); !dropped)
        log::warn("could not delete an APPEND journal record", {{"account", state_.account()}, {"reason", dropped.error().message}});
    }
    release_message_id(message_id);
    if (!created) return created.error();
    return record_append(*folder, mime, flags, created.value());
  }
  auto created = remote_->create_message(mail::FolderId(folder->id), mime, options);
  if (!created) return created.error();
  return record_append(*folder, mime, flags, created.value());
}

MailResult<mail::AppendResult> SyncedMailbox::record_append(const FolderRecord& folder, std::string_view mime,
                                                            const mail::Flags& flags,
                                                            const mail::RemoteMessage& created) {
  MessageRecord meta = from_remote(created);
  meta.flags.set(mail::SystemFlag::deleted, flags.has(mail::SystemFlag::deleted));
  // Outlook regenerates MIME (and a non-draft is re-created from JSON, graph-facts B9); the
  // client appended these exact bytes, so they are what it reads back while they are cached
  // (ADR 0006: the size is the length of what is served).
  const std::string served = mime::normalize_crlf(mime);
  if (auto cached = bodies_->put(state_.account(), meta.graph_id.value(), served); cached) {
    meta.rfc822_size = served.size();
  } else {
    log::warn("could not cache an appended message", {{"account", state_.account()}, {"reason", cached.error().message}});
  }
  std::lock_guard lock(write_mutex_);
  auto uid = state_.add_local(folder.id, meta);
  if (!uid) return store_error(uid.error());
  meta.uid = mail::Uid(uid.value());
  AccountState::Applied applied;
  applied.added.push_back(meta);
  publish_locked(folder.id, folder.path, applied);
  return mail::AppendResult{mail::UidValidity(folder.uidvalidity), meta.uid};
}

MailResult<mail::CopyResult> SyncedMailbox::copy_or_move(std::string_view path,
                                                         const std::vector<mail::Uid>& uids,
                                                         std::string_view destination, bool move) {
  auto source = find_folder(path);
  if (!source) return source.error();
  auto target = find_folder(destination);
  if (!target) return target.error();
  std::vector<mail::Uid> sorted = uids;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  mail::CopyResult result;
  result.destination_uid_validity = mail::UidValidity(target->uidvalidity);
  for (auto uid : sorted) {
    auto meta = state_.message(source->id, uid.value());
    if (!meta) return store_error(meta.error());
    if (!meta.value()) continue;
    auto placed = move ? remote_->move_message(meta.value()->graph_id, mail::FolderId(target->id))
                       : remote_->copy_message(meta.value()->graph_id, mail::FolderId(target->id));
    if (!placed) {
      if (placed.code() == ErrorCode::not_found) continue;  // gone on the Microsoft side meanwhile
      return placed.error();
    }
    MessageRecord copy = from_remote(placed.value());
    // Same immutable id after a move: the cached body, and so its size, still apply.
    if (move && !copy.rfc822_size && copy.graph_id == meta.value()->graph_id)
      copy.rfc822_size = meta.value()->rfc822_size;
    std::lock_guard lock(write_mutex_);
    auto new_uid = state_.add_local(target->id, copy);
    if (!new_uid) return store_error(new_uid.error());
    copy.uid = mail::Uid(new_uid.value());
    if (move) {
      auto removed = state_.remove_uids(source->id, {uid.value()});
      if (!removed) return store_error(removed.error());
      AccountState::Applied gone;
      gone.expunged.push_back(*meta.value());
      publish_locked(source->id, source->path, gone);
    }
    AccountState::Applied added;
    added.added.push_back(copy);
    publish_locked(target->id, target->path, added);
    result.uids.emplace_back(uid, copy.uid);
  }
  return result;
}

MailResult<mail::CopyResult> SyncedMailbox::copy(std::string_view path, const std::vector<mail::Uid>& uids,
                                                 std::string_view destination) {
  return copy_or_move(path, uids, destination, false);
}

MailResult<mail::CopyResult> SyncedMailbox::move(std::string_view path, const std::vector<mail::Uid>& uids,
                                                 std::string_view destination) {
  return copy_or_move(path, uids, destination, true);
}

MailResult<std::vector<mail::Uid>> SyncedMailbox::expunge(std::string_view path,
                                                          const std::optional<std::vector<mail::Uid>>& only) {
  auto folder = find_folder(path);
  if (!folder) return folder.error();
  auto messages = state_.messages(folder->id);
  if (!messages) return store_error(messages.error());
  std::set<mail::Uid> allowed;
  if (only) allowed.insert(only->begin(), only->end());
  const bool in_trash = folder->special_use == mail::SpecialUse::trash;
  std::vector<mail::Uid> out;
  for (const auto& m : messages.value()) {
    if (!m.flags.has(mail::SystemFlag::deleted)) continue;
    if (only && !allowed.count(m.uid)) continue;
    auto removed = in_trash ? remote_->permanently_delete_message(m.graph_id) : remote_->delete_message(m.graph_id);
    if (!removed && removed.code() != ErrorCode::not_found) return removed.error();
    std::lock_guard lock(write_mutex_);
    auto dropped = state_.remove_uids(folder->id, {m.uid.value()});
    if (!dropped) return store_error(dropped.error());
    if (in_trash) (void)bodies_->remove(state_.account(), m.graph_id.value());
    AccountState::Applied gone;
    gone.expunged.push_back(m);
    publish_locked(folder->id, folder->path, gone);
    out.push_back(m.uid);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Folder writes

MailResult<void> SyncedMailbox::create_folder(std::string_view path) {
  auto normalized = mail::normalize_folder_path(path);
  if (!normalized)
    return mail::make_mail_error(ErrorCode::invalid, "\"" + std::string(path) +
                                 "\" is not a valid folder name; use names separated by single '/'");
  auto existing = state_.folder_by_path(*normalized);
  if (!existing) return store_error(existing.error());
  if (existing.value())
    return mail::make_mail_error(ErrorCode::already_exists, "the folder \"" + *normalized + "\" already exists");
  std::string prefix;
  std::string parent_id;
  for (const auto& segment : mail::split_folder_path(*normalized)) {
    prefix = prefix.empty() ? segment : prefix + "/" + segment;
    auto level = state_.folder_by_path(prefix);
    if (!level) return store_error(level.error());
    if (level.value()) {
      parent_id = level.value()->id;
      continue;
    }
    auto created = remote_->create_folder(mail::FolderId(parent_id), display_name_of(segment));
    if (!created) return created.error();
    FolderRecord record;
    record.id = created->id.value();
    record.parent_id = created->parent_id.value().empty() ? parent_id : created->parent_id.value();
    record.path = prefix;
    record.display_name = created->display_name;
    std::lock_guard lock(write_mutex_);
    auto stored = state_.upsert_folder(record, now_ms_());
    if (!stored) return store_error(stored.error());
    parent_id = record.id;
  }
  wake();
  return {};
}

MailResult<void> SyncedMailbox::rename_folder(std::string_view from, std::string_view to) {
  auto folder = find_folder(from);
  if (!folder) return folder.error();
  if (mail::is_inbox(folder->path) || folder->special_use == mail::SpecialUse::inbox)
    return mail::make_mail_error(ErrorCode::not_supported, "INBOX cannot be renamed");
  if (folder->special_use != mail::SpecialUse::none)
    return mail::make_mail_error(ErrorCode::no_permission, "\"" + folder->path + "\" is a special folder of Outlook and cannot be renamed");
  auto target = mail::normalize_folder_path(to);
  if (!target)
    return mail::make_mail_error(ErrorCode::invalid, "\"" + std::string(to) +
                                 "\" is not a valid folder name; use names separated by single '/'");
  auto taken = state_.folder_by_path(*target);
  if (!taken) return store_error(taken.error());
  if (taken.value())
    return mail::make_mail_error(ErrorCode::already_exists, "the folder \"" + *target + "\" already exists");
  if (target->rfind(folder->path + "/", 0) == 0)
    return mail::make_mail_error(ErrorCode::invalid, "a folder cannot be moved into itself");

  const std::string new_parent_path = parent_path(*target);
  std::string new_parent_id;
  if (!new_parent_path.empty()) {
    auto parent = state_.folder_by_path(new_parent_path);
    if (!parent) return store_error(parent.error());
    if (!parent.value()) {
      auto made = create_folder(new_parent_path);
      if (!made) return made;
      parent = state_.folder_by_path(new_parent_path);
      if (!parent || !parent.value()) return mail::make_mail_error(ErrorCode::internal, "the new parent folder vanished");
    }
    new_parent_id = parent.value()->id;
  }
  const std::string old_parent_path = parent_path(folder->path);
  FolderRecord updated = *folder;
  if (new_parent_path != old_parent_path) {
    auto moved = remote_->move_folder(mail::FolderId(folder->id), mail::FolderId(new_parent_id));
    if (!moved) return moved.error();
    updated.parent_id = moved->parent_id.value().empty() ? new_parent_id : moved->parent_id.value();
  }
  const std::string new_name = display_name_of(leaf_name(*target));
  if (new_name != folder->display_name) {
    auto renamed = remote_->rename_folder(mail::FolderId(folder->id), new_name);
    if (!renamed) return renamed.error();
    updated.display_name = renamed->display_name;
  }

  std::lock_guard lock(write_mutex_);
  auto all = state_.folders();
  if (!all) return store_error(all.error());
  const std::string old_prefix = folder->path + "/";
  for (auto record : all.value()) {
    const std::string old_path = record.path;
    if (record.id == folder->id) {
      record = updated;
      record.path = *target;
    } else if (record.path.rfind(old_prefix, 0) == 0) {
      record.path = *target + "/" + record.path.substr(old_prefix.size());
    } else {
      continue;
    }
    auto stored = state_.upsert_folder(record, now_ms_());
    if (!stored) return store_error(stored.error());
    mail::ChangeEvent event;
    event.kind = mail::ChangeEvent::Kind::folder_removed;
    event.folder = old_path;
    publish_event_locked(record.id, event);
  }
  return {};
}

MailResult<void> SyncedMailbox::delete_folder(std::string_view path) {
  auto folder = find_folder(path);
  if (!folder) return folder.error();
  if (folder->special_use != mail::SpecialUse::none || mail::is_inbox(folder->path))
    return mail::make_mail_error(ErrorCode::no_permission, "\"" + folder->path + "\" is a special folder of Outlook and cannot be deleted");
  auto deleted = remote_->delete_folder(mail::FolderId(folder->id));
  if (!deleted && deleted.code() != ErrorCode::not_found) return deleted;
  std::lock_guard lock(write_mutex_);
  auto all = state_.folders();
  if (!all) return store_error(all.error());
  for (const auto& record : all.value()) {
    if (record.id != folder->id && record.path.rfind(folder->path + "/", 0) != 0) continue;
    auto removed = state_.remove_folder(record.id);
    if (!removed) return store_error(removed.error());
    mail::ChangeEvent event;
    event.kind = mail::ChangeEvent::Kind::folder_removed;
    event.folder = record.path;
    publish_event_locked(record.id, event);
  }
  return {};
}

MailResult<void> SyncedMailbox::set_subscribed(std::string_view path, bool subscribed) {
  auto normalized = mail::normalize_folder_path(path);
  if (!normalized)
    return mail::make_mail_error(ErrorCode::invalid, "\"" + std::string(path) +
                                 "\" is not a valid folder name; use names separated by single '/'");
  auto stored = state_.set_subscribed(*normalized, subscribed);
  if (!stored) return store_error(stored.error());
  return {};
}

MailResult<std::vector<std::string>> SyncedMailbox::subscribed_folders() {
  auto list = state_.subscribed();
  if (!list) return store_error(list.error());
  return std::move(list.value());
}

// ---------------------------------------------------------------------------------------------
// Subscriptions and scheduling

MailResult<mail::ChangeSubscription> SyncedMailbox::subscribe(std::string_view path, mail::ChangeCallback on_change) {
  auto folder = find_folder(path);
  if (!folder) return folder.error();
  std::uint64_t id = 0;
  {
    std::lock_guard lock(subscribers_->mutex);
    id = ++subscribers_->next_id;
    subscribers_->by_folder[folder->id].push_back({id, std::move(on_change)});
  }
  wake();
  std::weak_ptr<Subscribers> weak = subscribers_;
  std::string folder_id = folder->id;
  return mail::ChangeSubscription([weak, folder_id, id] {
    auto registry = weak.lock();
    if (!registry) return;
    std::lock_guard lock(registry->mutex);
    auto& list = registry->by_folder[folder_id];
    std::erase_if(list, [id](const auto& entry) { return entry.id == id; });
    if (list.empty()) registry->by_folder.erase(folder_id);
  });
}

MailResult<void> SyncedMailbox::request_refresh(std::string_view path) {
  auto folder = find_folder(path);
  if (!folder) return folder.error();
  {
    std::lock_guard lock(schedule_mutex_);
    refresh_requested_.insert(folder->id);
  }
  wake();
  return {};
}

void SyncedMailbox::publish_event_locked(const std::string& folder_id, const mail::ChangeEvent& event) {
  std::lock_guard lock(subscribers_->mutex);
  auto it = subscribers_->by_folder.find(folder_id);
  if (it == subscribers_->by_folder.end()) return;
  for (const auto& entry : it->second) entry.callback(event);
}

void SyncedMailbox::publish_locked(const std::string& folder_id, const std::string& path,
                                   const AccountState::Applied& applied) {
  for (const auto& m : applied.expunged) {
    mail::ChangeEvent event;
    event.kind = mail::ChangeEvent::Kind::message_expunged;
    event.folder = path;
    event.uid = m.uid;
    publish_event_locked(folder_id, event);
  }
  for (const auto& m : applied.added) {
    mail::ChangeEvent event;
    event.kind = mail::ChangeEvent::Kind::message_added;
    event.folder = path;
    event.uid = m.uid;
    event.meta = m;
    publish_event_locked(folder_id, event);
  }
  for (const auto& m : applied.changed) {
    mail::ChangeEvent event;
    event.kind = mail::ChangeEvent::Kind::flags_changed;
    event.folder = path;
    event.uid = m.uid;
    event.meta = m;
    publish_event_locked(folder_id, event);
  }
}

std::vector<SyncedMailbox::FolderSchedule> SyncedMailbox::schedule() {
  std::vector<FolderSchedule> out;
  auto folders = state_.folders();
  if (!folders) {
    log::warn("cannot read the folder list to schedule sync", {{"account", state_.account()}, {"reason", folders.error().message}});
    return out;
  }
  std::set<std::string> watched;
  {
    std::lock_guard lock(subscribers_->mutex);
    for (const auto& [id, list] : subscribers_->by_folder)
      if (!list.empty()) watched.insert(id);
  }
  std::lock_guard lock(schedule_mutex_);
  for (const auto& f : folders.value()) {
    FolderSchedule entry;
    entry.id = f.id;
    entry.path = f.path;
    entry.inbox = f.special_use == mail::SpecialUse::inbox || mail::is_inbox(f.path);
    entry.watched = watched.count(f.id) > 0;
    entry.refresh_requested = refresh_requested_.count(f.id) > 0;
    entry.initial_sync_complete = f.initial_sync_complete;
    auto it = last_round_ms_.find(f.id);
    entry.last_round_ms = it == last_round_ms_.end() ? 0 : it->second;
    out.push_back(std::move(entry));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.inbox > b.inbox; });
  return out;
}

void SyncedMailbox::set_sent_copy_check(std::function<bool(std::string_view message_id)> recently_sent) {
  std::lock_guard lock(sent_check_mutex_);
  recently_sent_ = std::move(recently_sent);
}

std::optional<mail::AppendResult> SyncedMailbox::existing_sent_copy(const FolderRecord& folder,
                                                                    std::string_view mime) {
  if (folder.special_use != mail::SpecialUse::sent) return std::nullopt;
  std::function<bool(std::string_view)> recently_sent;
  {
    std::lock_guard lock(sent_check_mutex_);
    recently_sent = recently_sent_;
  }
  if (!recently_sent) return std::nullopt;
  const std::string message_id = mail::parse_envelope(mime).message_id;
  if (message_id.empty() || !recently_sent(message_id)) return std::nullopt;
  auto find = [&]() -> std::optional<mail::AppendResult> {
    auto messages = state_.messages(folder.id);
    if (!messages) return std::nullopt;
    for (const auto& message : messages.value()) {
      if (message.envelope.message_id == message_id) {
        return mail::AppendResult{mail::UidValidity(folder.uidvalidity), message.uid};
      }
    }
    return std::nullopt;
  };
  auto found = find();
  // Microsoft's copy may not be synced yet: one delta round of Sent Items brings it in.
  if (!found && sync_folder(folder.id)) found = find();
  if (found) {
    log::info("APPEND of a message the queue sent answered with Microsoft's Sent Items copy",
              {{"account", state_.account()}, {"uid", static_cast<std::uint64_t>(found->uid.value())}});
  }
  return found;
}

void SyncedMailbox::set_wakeup(std::function<void()> wakeup) {
  std::lock_guard lock(schedule_mutex_);
  wakeup_ = std::move(wakeup);
}

void SyncedMailbox::wake() {
  std::function<void()> wakeup;
  {
    std::lock_guard lock(schedule_mutex_);
    wakeup = wakeup_;
  }
  if (wakeup) wakeup();
}

void SyncedMailbox::note_round(const std::string& folder_id) {
  std::lock_guard lock(schedule_mutex_);
  last_round_ms_[folder_id] = now_ms_();
  refresh_requested_.erase(folder_id);
}

// ---------------------------------------------------------------------------------------------
// Sync side

MailResult<void> SyncedMailbox::sync_folder_tree() {
  auto remote = remote_->list_folders();
  if (!remote) return remote.error();
  return record_tree(remote.value());
}

MailResult<void> SyncedMailbox::record_tree(const std::vector<mail::RemoteFolder>& remote) {
  std::map<std::string, const mail::RemoteFolder*> by_id;
  for (const auto& f : remote)
    if (!f.search_folder) by_id[f.id.value()] = &f;
  std::map<std::string, std::string> paths;
  // Parents come before children in list_folders(), but resolve recursively to be safe.
  std::function<std::string(const mail::RemoteFolder&, int)> path_of = [&](const mail::RemoteFolder& f, int depth) -> std::string {
    if (auto known = paths.find(f.id.value()); known != paths.end()) return known->second;
    std::string path;
    if (f.special_use == mail::SpecialUse::inbox) {
      path = std::string(mail::kInbox);
    } else {
      auto parent = by_id.find(f.parent_id.value());
      std::string segment = path_segment(f.display_name);
      path = (parent == by_id.end() || depth > 64) ? segment : path_of(*parent->second, depth + 1) + "/" + segment;
    }
    paths[f.id.value()] = path;
    return path;
  };
  std::lock_guard lock(write_mutex_);
  for (const auto& [id, f] : by_id) {
    FolderRecord tree;
    tree.id = id;
    tree.parent_id = f->parent_id.value();
    tree.path = path_of(*f, 0);
    tree.display_name = f->display_name;
    tree.special_use = f->special_use;
    tree.total = f->total_count;
    tree.unread = f->unread_count;
    auto stored = state_.upsert_folder(tree, now_ms_());
    if (!stored) return store_error(stored.error());
  }
  auto known = state_.folders();
  if (!known) return store_error(known.error());
  for (const auto& record : known.value()) {
    if (by_id.count(record.id)) continue;
    auto removed = state_.remove_folder(record.id);
    if (!removed) return store_error(removed.error());
    log::info("folder removed on the Microsoft side", {{"account", state_.account()}, {"folder", record.path}});
    mail::ChangeEvent event;
    event.kind = mail::ChangeEvent::Kind::folder_removed;
    event.folder = record.path;
    publish_event_locked(record.id, event);
  }
  return {};
}

MailResult<void> SyncedMailbox::sync_folder(const std::string& folder_id) {
  note_round(folder_id);
  auto folder = state_.folder(folder_id);
  if (!folder) return store_error(folder.error());
  if (!folder.value())
    return mail::make_mail_error(ErrorCode::not_found, "the folder is no longer in the folder list");
  const bool full = folder.value()->delta_link.empty();
  auto round = full_or_incremental_round(*folder.value(), full);
  if (!round && round.code() == ErrorCode::sync_state_not_found) {
    log::info("delta state expired (410); listing the folder again, keeping UIDs",
              {{"account", state_.account()}, {"folder", folder.value()->path}});
    {
      std::lock_guard lock(write_mutex_);
      auto reset = state_.reset_delta(folder_id);
      if (!reset) return store_error(reset.error());
    }
    auto again = state_.folder(folder_id);
    if (!again) return store_error(again.error());
    if (!again.value()) return {};
    return full_or_incremental_round(*again.value(), true);
  }
  return round;
}

MailResult<void> SyncedMailbox::full_or_incremental_round(const FolderRecord& folder, bool full) {
  std::string link = full ? std::string() : folder.delta_link;
  std::set<std::string> listed;
  const std::uint32_t bound = folder.uidnext;
  std::string path = folder.path;
  for (;;) {
    auto page = remote_->message_delta(mail::FolderId(folder.id), link);
    if (!page) return page.error();
    AccountState::Changes changes;
    changes.now_ms = now_ms_();
    changes.upserts.reserve(page->changed.size());
    for (const auto& m : page->changed) {
      changes.upserts.push_back(from_remote(m));
      if (full) listed.insert(m.id.value());
    }
    for (const auto& id : page->removed) changes.removed.push_back(id.value());
    if (page->last_page()) {
      changes.delta_link = page->delta_link;
      changes.round_complete = true;
      if (full) {
        changes.expunge_unseen_below = bound;
        changes.seen_ids = &listed;
      }
    } else if (page->next_link.empty()) {
      return mail::make_mail_error(ErrorCode::internal, "a delta page carried neither a next link nor a delta link");
    }
    std::lock_guard lock(write_mutex_);
    auto applied = state_.apply(folder.id, changes);
    if (!applied) return store_error(applied.error());
    publish_locked(folder.id, path, applied.value());
    if (page->last_page()) return {};
    link = page->next_link;
  }
}

// ---------------------------------------------------------------------------------------------
// Interrupted APPENDs

void SyncedMailbox::claim_message_id(const std::string& message_id) {
  std::unique_lock lock(append_mutex_);
  append_released_.wait(lock, [&] { return !busy_message_ids_.contains(message_id); });
  busy_message_ids_.insert(message_id);
}

bool SyncedMailbox::try_claim_message_id(const std::string& message_id) {
  std::lock_guard lock(append_mutex_);
  return busy_message_ids_.insert(message_id).second;
}

void SyncedMailbox::release_message_id(const std::string& message_id) {
  {
    std::lock_guard lock(append_mutex_);
    busy_message_ids_.erase(message_id);
  }
  append_released_.notify_all();
}

Result<std::size_t> SyncedMailbox::pending_appends() const {
  std::size_t count = 0;
  auto walked = store_.for_each_prefix(store::Family::folders, append_journal_prefix(state_.account()),
                                       [&](std::string_view, std::string_view) {
                                         ++count;
                                         return true;
                                       });
  if (!walked) return walked.error();
  return count;
}

MailResult<std::size_t> SyncedMailbox::finish_interrupted_appends() {
  std::vector<std::pair<std::string, std::string>> records;  // key, value
  auto walked = store_.for_each_prefix(store::Family::folders, append_journal_prefix(state_.account()),
                                       [&](std::string_view key, std::string_view value) {
                                         records.emplace_back(key, value);
                                         return true;
                                       });
  if (!walked) return store_error(walked.error());
  std::size_t deleted = 0;
  for (const auto& [key, value] : records) {
    const auto entry = journal_entry_from(value);
    if (!entry) {
      log::warn("dropping an unreadable APPEND journal record", {{"account", state_.account()}});
      if (auto dropped = store_.del(store::Family::folders, key); !dropped) return store_error(dropped.error());
      continue;
    }
    // An APPEND of this Message-ID is running (maybe the very one that wrote the record): its
    // staging draft is not a leftover yet. A later round looks again.
    if (!try_claim_message_id(entry->message_id)) continue;
    // That APPEND may have finished (and deleted the record) since the records were read.
    auto still_there = store_.get(store::Family::folders, key);
    if (!still_there || !*still_there) {
      release_message_id(entry->message_id);
      if (!still_there) return store_error(still_there.error());
      continue;
    }
    auto cleaned = remote_->delete_staging_drafts(entry->message_id, entry->started - kClockAllowance,
                                                  entry->started + kStagingWindow);
    if (!cleaned) {
      release_message_id(entry->message_id);
      return cleaned.error();
    }
    auto dropped = store_.del(store::Family::folders, key);
    release_message_id(entry->message_id);
    if (!dropped) return store_error(dropped.error());
    deleted += *cleaned;
    log::info("finished an interrupted APPEND", {{"account", state_.account()},
                                                  {"staging_drafts_removed", std::to_string(*cleaned)}});
  }
  return deleted;
}

}  // namespace mailtrixy::sync
