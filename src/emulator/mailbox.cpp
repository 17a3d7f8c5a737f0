#include "mailbox.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <system_error>

#include "mailbox_state.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/hash.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::emulator {
namespace mail {

TimePoint now_seconds() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

namespace {

struct WellKnownFolder {
  WellKnown which;
  std::string_view alias;
  std::string_view english;
  std::string_view german;
};

// Creation order is the order Exchange lists them in (alphabetical by English name is what
// Graph returns for the root's children; the listing sorts anyway).
constexpr std::array<WellKnownFolder, 18> kWellKnown = {{
    {WellKnown::msgfolderroot, "msgfolderroot", "Top of Information Store",
     "Oberste Ebene des Informationsspeichers"},
    {WellKnown::inbox, "inbox", "Inbox", "Posteingang"},
    {WellKnown::drafts, "drafts", "Drafts", "Entwürfe"},
    {WellKnown::sentitems, "sentitems", "Sent Items", "Gesendete Elemente"},
    {WellKnown::deleteditems, "deleteditems", "Deleted Items", "Gelöschte Elemente"},
    {WellKnown::junkemail, "junkemail", "Junk Email", "Junk-E-Mail"},
    {WellKnown::archive, "archive", "Archive", "Archiv"},
    {WellKnown::outbox, "outbox", "Outbox", "Postausgang"},
    {WellKnown::conversationhistory, "conversationhistory", "Conversation History", "Unterhaltungsverlauf"},
    {WellKnown::syncissues, "syncissues", "Sync Issues", "Synchronisierungsprobleme"},
    {WellKnown::conflicts, "conflicts", "Conflicts", "Konflikte"},
    {WellKnown::localfailures, "localfailures", "Local Failures", "Lokale Fehler"},
    {WellKnown::serverfailures, "serverfailures", "Server Failures", "Serverfehler"},
    {WellKnown::recoverableitemsdeletions, "recoverableitemsdeletions", "Deletions", "Deletions"},
    {WellKnown::searchfolders, "searchfolders", "Finder", "Finder"},
    {WellKnown::clutter, "clutter", "", ""},
    {WellKnown::scheduled, "scheduled", "", ""},
    {WellKnown::none, "", "", ""},
}};

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

}  // namespace

WellKnown well_known_from_alias(std::string_view alias) {
  for (const auto& entry : kWellKnown) {
    if (!entry.alias.empty() && mime::iequals(entry.alias, alias)) return entry.which;
  }
  return WellKnown::none;
}

std::optional<std::string> normalize_extended_property_id(std::string_view id) {
  // Graph's spelling of the MAPI property types.
  static constexpr std::array<std::string_view, 24> kTypes = {
      "Integer",   "String",     "Boolean",     "SystemTime",   "Binary",      "Long",
      "Short",     "Double",     "Float",       "Currency",     "CLSID",       "ApplicationTime",
      "Null",      "Object",     "Error",       "IntegerArray", "StringArray", "BinaryArray",
      "LongArray", "ShortArray", "DoubleArray", "FloatArray",   "CLSIDArray",  "SystemTimeArray"};
  std::vector<std::string_view> words;
  std::string_view rest = id;
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    std::size_t n = rest.find(' ');
    if (words.size() == 3) n = std::string_view::npos;  // a property name may contain blanks
    words.push_back(rest.substr(0, n));
    rest = n == std::string_view::npos ? std::string_view{} : rest.substr(n);
  }
  if (words.size() != 2 && words.size() != 4) return std::nullopt;
  std::string type;
  for (std::string_view known : kTypes) {
    if (mime::iequals(known, words[0])) type = std::string(known);
  }
  if (type.empty()) return std::nullopt;
  const auto normalize_hex = [](std::string_view text) -> std::optional<std::string> {
    if (text.size() < 3 || text[0] != '0' || lower(text[1]) != 'x') return std::nullopt;
    std::string_view digits = text.substr(2);
    if (digits.size() > 8) return std::nullopt;
    for (char c : digits) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    }
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    return "0x" + to_lower(digits);
  };
  if (words.size() == 2) {
    const auto tag = normalize_hex(words[1]);
    if (!tag) return std::nullopt;
    return type + " " + *tag;
  }
  std::string_view guid = words[1];
  if (guid.size() != 38 || guid.front() != '{' || guid.back() != '}') return std::nullopt;
  for (std::size_t i = 1; i < 37; ++i) {
    const bool dash = i == 9 || i == 14 || i == 19 || i == 24;
    if (dash ? guid[i] != '-' : !std::isxdigit(static_cast<unsigned char>(guid[i]))) return std::nullopt;
  }
  if (mime::iequals(words[2], "Name")) {
    if (words[3].empty()) return std::nullopt;
    return type + " " + to_lower(guid) + " Name " + std::string(words[3]);
  }
  if (mime::iequals(words[2], "Id")) {
    const auto number = normalize_hex(words[3]);
    if (!number) return std::nullopt;
    return type + " " + to_lower(guid) + " Id " + *number;
  }
  return std::nullopt;
}

std::string_view extended_property_type(std::string_view normalized_id) {
  return normalized_id.substr(0, normalized_id.find(' '));
}

}  // namespace mail

using mail::Folder;
using mail::Message;
using mail::WellKnown;

namespace {

constexpr char kKindFolder = 'F';
constexpr char kKindRegular = 'R';
constexpr char kKindImmutable = 'I';
constexpr char kKindAttachment = 'A';
constexpr std::string_view kFolderPrefix = "AQMkAD";
constexpr std::string_view kRegularPrefix = "AAMkAD";
constexpr std::string_view kImmutablePrefix = "AAkALg";
constexpr std::size_t kFolderIdBytes = 44;
constexpr std::size_t kRegularIdBytes = 101;   // ≈ 142 characters, like Exchange's regular ids
constexpr std::size_t kImmutableIdBytes = 50;  // ≈ 74 characters, about half (graph-facts B12)
constexpr std::size_t kAttachmentIdBytes = 119;

void append_be(std::string& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

std::uint64_t read_be(std::string_view bytes) {
  std::uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

std::string base64url_padded(std::string_view bytes) {
  std::string out = crypto::base64url_encode(bytes);
  while (out.size() % 4 != 0) out += '=';
  return out;
}

// tag ‖ kind ‖ serial ‖ check ‖ (extra) ‖ zero padding up to `total` bytes.
std::string encode_id(std::string_view prefix, const std::string& tag, char kind, std::uint64_t serial,
                      std::size_t total, std::uint64_t extra = 0) {
  std::string bytes = tag;
  bytes += kind;
  append_be(bytes, serial, 8);
  append_be(bytes, extra, 8);
  bytes += crypto::sha256(bytes).substr(0, 8);
  bytes.resize(total, '\0');
  return std::string(prefix) + base64url_padded(bytes);
}

struct DecodedId {
  MailboxState::Lookup status = MailboxState::Lookup::malformed;
  std::uint64_t serial = 0;
  std::uint64_t extra = 0;
};

DecodedId decode_id(std::string_view id, std::string_view prefix, const std::string& tag, char kind,
                    std::size_t total) {
  DecodedId result;
  if (id.size() <= prefix.size() || id.substr(0, prefix.size()) != prefix) return result;
  const auto bytes = crypto::base64url_decode(id.substr(prefix.size()));
  if (!bytes.ok() || bytes->size() != total) return result;
  const std::string_view view = *bytes;
  const std::size_t header = tag.size() + 1 + 16;
  if (view.substr(header + 8).find_first_not_of('\0') != std::string_view::npos) return result;
  result.status = MailboxState::Lookup::not_found;
  if (view.substr(0, tag.size()) != tag || view[tag.size()] != kind) return result;
  if (crypto::sha256(view.substr(0, header)).substr(0, 8) != view.substr(header, 8)) return result;
  result.status = MailboxState::Lookup::found;
  result.serial = read_be(view.substr(tag.size() + 1, 8));
  result.extra = read_be(view.substr(tag.size() + 9, 8));
  return result;
}

bool received_order(const Message* a, const Message* b) {
  if (a->received != b->received) return a->received < b->received;
  return a->immutable_serial < b->immutable_serial;
}

std::string lower_topic(std::string_view topic) {
  std::string out(topic);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

// =============================================================================================
// MailboxState

MailboxState::MailboxState(std::string owner_address, Locale locale)
    : owner_address_(std::move(owner_address)), tag_(crypto::random_bytes(12)) {
  folders_.emplace_back();  // serial 0 means "no folder"
  create_default_folders(locale);
}

void MailboxState::create_default_folders(Locale locale) {
  const auto name_of = [&](WellKnown which) {
    for (const auto& entry : mail::kWellKnown) {
      if (entry.which == which) return std::string(locale == Locale::german ? entry.german : entry.english);
    }
    return std::string();
  };
  // The IPM subtree's parent ("root") and the non-IPM folders are not listed anywhere, but
  // msgfolderroot's parentFolderId points at it, as on Exchange.
  Folder& store_root = add_folder(0, "", true, WellKnown::none, false);
  Folder& top =
      add_folder(store_root.serial, name_of(WellKnown::msgfolderroot), false, WellKnown::msgfolderroot, true);
  for (WellKnown which :
       {WellKnown::inbox, WellKnown::drafts, WellKnown::sentitems, WellKnown::deleteditems,
        WellKnown::junkemail, WellKnown::archive, WellKnown::outbox, WellKnown::conversationhistory}) {
    add_folder(top.serial, name_of(which), false, which, true);
  }
  // Sync Issues and its children exist in every Exchange mailbox; they are hidden here so the
  // visible tree is exactly the product's eight default folders while includeHiddenFolders and
  // childFolderCount-includes-hidden (graph-facts G2) still have something to show.
  Folder& sync_issues =
      add_folder(top.serial, name_of(WellKnown::syncissues), true, WellKnown::syncissues, true);
  for (WellKnown which : {WellKnown::conflicts, WellKnown::localfailures, WellKnown::serverfailures}) {
    add_folder(sync_issues.serial, name_of(which), true, which, true);
  }
  Folder& recoverable = add_folder(store_root.serial, "Recoverable Items", true, WellKnown::none, false);
  add_folder(recoverable.serial, name_of(WellKnown::recoverableitemsdeletions), true,
             WellKnown::recoverableitemsdeletions, false);
  add_folder(store_root.serial, name_of(WellKnown::searchfolders), true, WellKnown::searchfolders, false);
}

Folder& MailboxState::add_folder(std::uint32_t parent, std::string name, bool hidden, WellKnown well_known,
                                 bool in_ipm_subtree) {
  auto folder = std::make_unique<Folder>();
  folder->serial = static_cast<std::uint32_t>(folders_.size());
  folder->parent = parent;
  folder->display_name = std::move(name);
  folder->hidden = hidden;
  folder->well_known = well_known;
  folder->in_ipm_subtree = in_ipm_subtree;
  Folder& ref = *folder;
  folders_.push_back(std::move(folder));
  if (parent != 0) folders_[parent]->children.push_back(ref.serial);
  if (well_known != WellKnown::none) well_known_[well_known] = ref.serial;
  if (in_ipm_subtree && well_known != WellKnown::msgfolderroot) record_folder_change(ref);
  return ref;
}

std::string MailboxState::folder_id(std::uint32_t folder_serial) const {
  return encode_id(kFolderPrefix, tag_, kKindFolder, folder_serial, kFolderIdBytes);
}

std::string MailboxState::regular_id(std::uint64_t location_serial) const {
  return encode_id(kRegularPrefix, tag_, kKindRegular, location_serial, kRegularIdBytes);
}

std::string MailboxState::immutable_id(std::uint64_t immutable_serial) const {
  return encode_id(kImmutablePrefix, tag_, kKindImmutable, immutable_serial, kImmutableIdBytes);
}

std::string MailboxState::message_id(const Message& message, bool immutable) const {
  return immutable ? immutable_id(message.immutable_serial) : regular_id(message.location_serial);
}

std::string MailboxState::change_key(const Message& message) const {
  std::string bytes("\x09\x00\x00\x00\x16\x00\x00\x00", 8);
  bytes += tag_;
  bytes += std::string(2, '\0');
  append_be(bytes, message.change_number, 8);
  return crypto::base64_encode(bytes);
}

std::string MailboxState::conversation_id(const Message& message) const {
  const std::string topic = lower_topic(mime::strip_subject_prefixes(message.subject));
  std::string bytes = tag_;
  bytes += crypto::sha256(topic).substr(0, 18);
  return "AAQkAD" + base64url_padded(bytes + std::string(1, '\x10'));
}

std::string MailboxState::conversation_index(const Message& message) const {
  // 22 bytes: a reserved byte, 5 bytes of time, 16 bytes of conversation GUID (MS-OXOMSG 2.2.1.3).
  std::string bytes(1, '\x01');
  const auto ticks = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(message.sent.time_since_epoch()).count());
  append_be(bytes, ticks >> 8, 5);
  const std::string topic = lower_topic(mime::strip_subject_prefixes(message.subject));
  bytes += crypto::sha256(tag_ + topic).substr(0, 16);
  return crypto::base64_encode(bytes);
}

std::string MailboxState::attachment_id(const Message& message, std::uint32_t serial) const {
  return encode_id(kRegularPrefix, tag_, kKindAttachment, message.immutable_serial, kAttachmentIdBytes,
                   serial);
}

std::optional<std::uint32_t> MailboxState::attachment_serial(const Message& message,
                                                             std::string_view id) const {
  const DecodedId decoded = decode_id(id, kRegularPrefix, tag_, kKindAttachment, kAttachmentIdBytes);
  if (decoded.status != Lookup::found || decoded.serial != message.immutable_serial) return std::nullopt;
  return static_cast<std::uint32_t>(decoded.extra);
}

std::string MailboxState::mailbox_tag_hex() const {
  return crypto::hex_encode(tag_);
}

MailboxState::FolderLookup MailboxState::find_folder(std::string_view id_or_alias) {
  const WellKnown alias = mail::well_known_from_alias(id_or_alias);
  if (alias != WellKnown::none) {
    const auto it = well_known_.find(alias);
    if (it == well_known_.end()) return {Lookup::not_found, nullptr};
    return {Lookup::found, folders_[it->second].get()};
  }
  const DecodedId decoded = decode_id(id_or_alias, kFolderPrefix, tag_, kKindFolder, kFolderIdBytes);
  if (decoded.status != Lookup::found) return {decoded.status, nullptr};
  if (decoded.serial >= folders_.size() || !folders_[decoded.serial]) return {Lookup::not_found, nullptr};
  return {Lookup::found, folders_[decoded.serial].get()};
}

MailboxState::MessageLookup MailboxState::find_message(std::string_view id) {
  if (id.substr(0, kImmutablePrefix.size()) == kImmutablePrefix) {
    const DecodedId decoded = decode_id(id, kImmutablePrefix, tag_, kKindImmutable, kImmutableIdBytes);
    if (decoded.status != Lookup::found) return {decoded.status, nullptr};
    Message* message = by_immutable_serial(decoded.serial);
    return {message ? Lookup::found : Lookup::not_found, message};
  }
  const DecodedId decoded = decode_id(id, kRegularPrefix, tag_, kKindRegular, kRegularIdBytes);
  if (decoded.status != Lookup::found) return {decoded.status, nullptr};
  const auto it = by_location_.find(decoded.serial);
  if (it == by_location_.end()) return {Lookup::not_found, nullptr};
  return {Lookup::found, it->second};
}

Message* MailboxState::by_immutable_serial(std::uint64_t serial) {
  const auto it = messages_.find(serial);
  return it == messages_.end() ? nullptr : it->second.get();
}

Folder& MailboxState::well_known(WellKnown which) {
  return *folders_[well_known_.at(which)];
}

std::vector<Folder*> MailboxState::all_folders() {
  std::vector<Folder*> result;
  for (auto& folder : folders_) {
    if (folder) result.push_back(folder.get());
  }
  return result;
}

bool MailboxState::is_within(const Folder& folder, const Folder& ancestor) const {
  std::uint32_t serial = folder.serial;
  while (serial != 0) {
    if (serial == ancestor.serial) return true;
    serial = folders_[serial]->parent;
  }
  return false;
}

int MailboxState::depth(const Folder& folder) const {
  int levels = 0;
  // The store root (parent 0) above msgfolderroot does not count.
  for (std::uint32_t serial = folder.parent; serial != 0 && folders_[serial]->parent != 0;
       serial = folders_[serial]->parent) {
    ++levels;
  }
  return levels;
}

int MailboxState::height(const Folder& folder) const {
  int tallest = 0;
  for (std::uint32_t child : folder.children) tallest = std::max(tallest, height(*folders_[child]));
  return tallest + 1;
}

Folder* MailboxState::child_named(const Folder& parent, std::string_view name) {
  for (std::uint32_t serial : parent.children) {
    if (mime::iequals(folders_[serial]->display_name, name)) return folders_[serial].get();
  }
  // Exchange compares folder names case-insensitively also beyond ASCII; good enough here.
  return nullptr;
}

Folder* MailboxState::create_folder(Folder& parent, std::string name, bool hidden, FolderError& error) {
  if (child_named(parent, name)) {
    error = FolderError::exists;
    return nullptr;
  }
  if (depth(parent) + 1 > kMaxFolderDepth) {
    error = FolderError::too_deep;
    return nullptr;
  }
  error = FolderError::none;
  Folder& folder = add_folder(parent.serial, std::move(name), hidden, WellKnown::none, parent.in_ipm_subtree);
  record_folder_change(parent);  // childFolderCount changed
  return &folder;
}

MailboxState::FolderError MailboxState::rename_folder(Folder& folder, std::string name) {
  // Exchange lets even default folders be renamed (clients must find them by alias, never by
  // name), so there is no distinguished-folder check here.
  if (folder.parent == 0) return FolderError::distinguished;
  Folder* same = child_named(*folders_[folder.parent], name);
  if (same && same != &folder) return FolderError::exists;
  folder.display_name = std::move(name);
  record_folder_change(folder);
  return FolderError::none;
}

MailboxState::FolderError MailboxState::move_folder(Folder& folder, Folder& destination) {
  if (folder.well_known != WellKnown::none) return FolderError::distinguished;
  if (is_within(destination, folder)) return FolderError::into_itself;
  if (folder.parent == destination.serial) return FolderError::none;
  if (child_named(destination, folder.display_name)) return FolderError::exists;
  if (depth(destination) + height(folder) > kMaxFolderDepth) return FolderError::too_deep;
  Folder& old_parent = *folders_[folder.parent];
  std::erase(old_parent.children, folder.serial);
  destination.children.push_back(folder.serial);
  folder.parent = destination.serial;
  record_folder_change(old_parent);
  record_folder_change(destination);
  record_folder_change(folder);
  return FolderError::none;
}

MailboxState::FolderError MailboxState::delete_folder(Folder& folder) {
  if (folder.well_known != WellKnown::none) return FolderError::distinguished;
  Folder& parent = *folders_[folder.parent];
  std::erase(parent.children, folder.serial);
  remove_folder_tree(folder);
  record_folder_change(parent);
  return FolderError::none;
}

void MailboxState::remove_folder_tree(Folder& folder) {
  for (std::uint32_t child : std::vector<std::uint32_t>(folder.children))
    remove_folder_tree(*folders_[child]);
  for (Message* message : std::vector<Message*>(folder.messages)) {
    by_location_.erase(message->location_serial);
    messages_.erase(message->immutable_serial);
  }
  hierarchy_changes_.erase(folder.hierarchy_seq);
  if (folder.in_ipm_subtree) hierarchy_removals_.emplace(++seq_, folder.serial);
  for (auto it = uploads_.begin(); it != uploads_.end();) {
    it = by_immutable_serial(it->second.message) ? std::next(it) : uploads_.erase(it);
  }
  folders_[folder.serial].reset();
}

std::unique_ptr<Message> MailboxState::message_from_mime(std::string mime_text,
                                                         mail::TimePoint received) const {
  auto message = std::make_unique<Message>();
  const mime::Summary summary = mime::summarize(mime_text);
  message->subject = summary.subject;
  message->from = summary.from;
  message->sender = summary.sender;
  message->to = summary.to;
  message->cc = summary.cc;
  message->bcc = summary.bcc;
  message->reply_to = summary.reply_to;
  message->internet_message_id = summary.message_id;
  message->received = received;
  message->created = received;
  message->last_modified = received;
  message->sent = summary.date ? std::chrono::floor<std::chrono::seconds>(*summary.date) : received;
  message->has_attachments = summary.has_attachments;
  message->read_receipt_requested = summary.read_receipt_requested;
  message->importance = summary.importance == "high"  ? mail::Importance::high
                        : summary.importance == "low" ? mail::Importance::low
                                                      : mail::Importance::normal;
  message->mime = std::make_shared<const std::string>(std::move(mime_text));
  return message;
}

Message& MailboxState::insert(Folder& folder, std::unique_ptr<Message> owned) {
  Message& message = *owned;
  message.immutable_serial = next_immutable_++;
  message.location_serial = next_location_++;
  message.change_number = next_change_++;
  message.folder = folder.serial;
  if (message.internet_message_id.empty()) message.internet_message_id = new_internet_message_id();
  messages_.emplace(message.immutable_serial, std::move(owned));
  by_location_.emplace(message.location_serial, &message);
  index_add(folder, &message);
  record_message_change(folder, message);
  return message;
}

void MailboxState::index_add(Folder& folder, Message* message) {
  if (bulk_loading_ || folder.messages.empty() || received_order(folder.messages.back(), message)) {
    folder.messages.push_back(message);
  } else {
    folder.messages.insert(
        std::upper_bound(folder.messages.begin(), folder.messages.end(), message, received_order), message);
  }
  if (!message->is_read) ++folder.unread;
  folder.size_bytes += message->mime ? message->mime->size() : 0;
  record_folder_change(folder);
}

void MailboxState::index_remove(Folder& folder, Message* message) {
  auto it = std::lower_bound(folder.messages.begin(), folder.messages.end(), message, received_order);
  if (it == folder.messages.end() || *it != message)
    it = std::find(folder.messages.begin(), folder.messages.end(), message);
  if (it != folder.messages.end()) folder.messages.erase(it);
  if (!message->is_read && folder.unread > 0) --folder.unread;
  const std::size_t size = message->mime ? message->mime->size() : 0;
  folder.size_bytes -= std::min<std::uint64_t>(folder.size_bytes, size);
  record_folder_change(folder);
}

void MailboxState::end_bulk_load() {
  bulk_loading_ = false;
  for (auto& folder : folders_) {
    if (folder) std::stable_sort(folder->messages.begin(), folder->messages.end(), received_order);
  }
}

void MailboxState::record_message_change(Folder& folder, Message& message) {
  if (message.delta_seq != 0) folder.changes.erase(message.delta_seq);
  message.delta_seq = ++seq_;
  folder.changes.emplace(message.delta_seq,
                         mail::DeltaEntry{message.immutable_serial, message.location_serial, false});
}

void MailboxState::record_message_removal(Folder& folder, const Message& message) {
  if (message.delta_seq != 0) folder.changes.erase(message.delta_seq);
  folder.changes.emplace(++seq_, mail::DeltaEntry{message.immutable_serial, message.location_serial, true});
}

void MailboxState::record_folder_change(Folder& folder) {
  if (!folder.in_ipm_subtree || folder.well_known == WellKnown::msgfolderroot) return;
  if (folder.hierarchy_seq != 0) hierarchy_changes_.erase(folder.hierarchy_seq);
  folder.hierarchy_seq = ++seq_;
  hierarchy_changes_.emplace(folder.hierarchy_seq, folder.serial);
}

void MailboxState::touch(Message& message, bool versioned) {
  if (versioned) {
    message.change_number = next_change_++;
    message.last_modified = mail::now_seconds();
  }
  record_message_change(*folders_[message.folder], message);
}

void MailboxState::set_read(Message& message, bool read) {
  if (message.is_read == read) return;
  Folder& folder = *folders_[message.folder];
  message.is_read = read;
  if (read && folder.unread > 0) --folder.unread;
  if (!read) ++folder.unread;
  record_folder_change(folder);
}

void MailboxState::replace_mime(Message& message, std::string mime_text) {
  Folder& folder = *folders_[message.folder];
  folder.size_bytes -= std::min<std::uint64_t>(folder.size_bytes, message.mime ? message.mime->size() : 0);
  message.mime = std::make_shared<const std::string>(std::move(mime_text));
  folder.size_bytes += message.mime->size();
}

std::string MailboxState::build_draft_mime(const Message& message) const {
  if (!message.draft) return message.mime ? *message.mime : std::string();
  mime::Outgoing outgoing;
  outgoing.from = message.from;
  outgoing.sender = message.sender;
  outgoing.to = message.to;
  outgoing.cc = message.cc;
  outgoing.bcc = message.bcc;
  outgoing.reply_to = message.reply_to;
  outgoing.subject = message.subject;
  outgoing.html = message.draft->html;
  outgoing.body = message.draft->body;
  outgoing.message_id = message.internet_message_id;
  outgoing.date = message.sent;
  outgoing.importance = message.importance == mail::Importance::high  ? "high"
                        : message.importance == mail::Importance::low ? "low"
                                                                      : "normal";
  outgoing.extra_headers = message.draft->headers;
  outgoing.read_receipt_requested = message.read_receipt_requested;
  for (const auto& attachment : message.draft->attachments) {
    outgoing.attachments.push_back({attachment.name, attachment.content_type, attachment.content_id,
                                    attachment.is_inline, *attachment.bytes});
  }
  return mime::build_message(outgoing);
}

void MailboxState::rebuild_draft_mime(Message& message) {
  if (!message.draft) return;
  message.has_attachments = std::any_of(message.draft->attachments.begin(), message.draft->attachments.end(),
                                        [](const mail::FileAttachment& a) { return !a.is_inline; });
  replace_mime(message, build_draft_mime(message));
}

Message& MailboxState::move(Message& message, Folder& destination) {
  Folder& source = *folders_[message.folder];
  index_remove(source, &message);
  record_message_removal(source, message);
  by_location_.erase(message.location_serial);
  message.location_serial = next_location_++;
  by_location_.emplace(message.location_serial, &message);
  message.folder = destination.serial;
  message.delta_seq = 0;
  message.change_number = next_change_++;
  message.last_modified = mail::now_seconds();
  index_add(destination, &message);
  record_message_change(destination, message);
  return message;
}

Message& MailboxState::copy(const Message& original, Folder& destination) {
  auto duplicate = std::make_unique<Message>();
  Message& copy = *duplicate;
  copy.mime = original.mime;
  copy.subject = original.subject;
  copy.from = original.from;
  copy.sender = original.sender;
  copy.to = original.to;
  copy.cc = original.cc;
  copy.bcc = original.bcc;
  copy.reply_to = original.reply_to;
  copy.internet_message_id = original.internet_message_id;
  copy.received = original.received;
  copy.sent = original.sent;
  copy.created = mail::now_seconds();
  copy.last_modified = copy.created;
  copy.is_read = original.is_read;
  copy.is_draft = original.is_draft;
  copy.has_attachments = original.has_attachments;
  copy.read_receipt_requested = original.read_receipt_requested;
  copy.delivery_receipt_requested = original.delivery_receipt_requested;
  copy.importance = original.importance;
  copy.focused = original.focused;
  copy.categories = original.categories;
  copy.flag = original.flag;
  copy.extended = original.extended;
  if (original.draft) copy.draft = std::make_unique<mail::DraftParts>(*original.draft);
  return insert(destination, std::move(duplicate));
}

void MailboxState::erase(Message& message) {
  Folder& folder = *folders_[message.folder];
  index_remove(folder, &message);
  record_message_removal(folder, message);
  by_location_.erase(message.location_serial);
  const std::uint64_t serial = message.immutable_serial;
  for (auto it = uploads_.begin(); it != uploads_.end();) {
    it = it->second.message == serial ? uploads_.erase(it) : std::next(it);
  }
  messages_.erase(serial);  // destroys `message`
}

std::string MailboxState::new_internet_message_id() {
  // Exchange Online style: <{hex}@{server}.{region}.prod.outlook.com>
  std::string local = crypto::hex_encode(tag_.substr(0, 6)) + std::to_string(next_message_id_++);
  for (char& c : local) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "<" + local + "@EMULATOR01.mailtrixy.prod.outlook.com>";
}

// =============================================================================================
// Mailbox

namespace {

std::optional<mail::TimePoint> top_received_date(std::string_view mime_text) {
  const mime::HeaderBlock headers = mime::parse_header_block(mime_text);
  if (const auto received = headers.get("Received")) {
    const std::size_t semicolon = received->rfind(';');
    if (semicolon != std::string_view::npos) {
      if (auto date = mime::parse_date(received->substr(semicolon + 1))) return date;
    }
  }
  if (const auto date = headers.get("Date")) return mime::parse_date(*date);
  return std::nullopt;
}

bool is_eml(const std::filesystem::path& path) {
  return mime::iequals(path.extension().string(), ".eml");
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error("cannot read seed file " + path.string() + "; check that it exists and is readable");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return make_error("cannot read seed file " + path.string() + "; check that it is readable");
  return buffer.str();
}

// Folders named after a default folder (English or German name, or its alias) map onto it.
Folder* default_folder_for(MailboxState& state, std::string_view name) {
  for (const auto& entry : mail::kWellKnown) {
    if (entry.which == WellKnown::none || entry.english.empty()) continue;
    if (mime::iequals(name, entry.english) || mime::iequals(name, entry.alias) ||
        mime::iequals(name, entry.german)) {
      auto found = state.find_folder(entry.alias);
      if (found.folder && found.folder->in_ipm_subtree &&
          found.folder->well_known != WellKnown::msgfolderroot) {
        return found.folder;
      }
    }
  }
  return nullptr;
}

// Files in `directory` go into `files_into`; subdirectories become folders below `folders_under`
// (at the top level, a subdirectory named after a default folder is that folder).
Result<void> seed_folder(MailboxState& state, Folder& files_into, Folder& folders_under,
                         const std::filesystem::path& directory, bool top) {
  std::error_code error;
  std::vector<std::filesystem::directory_entry> entries;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) entries.push_back(entry);
  if (error) return make_error("cannot list seed directory " + directory.string() + ": " + error.message());
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  for (const auto& entry : entries) {
    const std::filesystem::path& path = entry.path();
    if (entry.is_directory(error)) {
      const std::string name = mime::sanitize_utf8(path.filename().string());
      Folder* target = top ? default_folder_for(state, name) : nullptr;
      if (!target) target = state.child_named(folders_under, name);
      if (!target) {
        MailboxState::FolderError folder_error{};
        target = state.create_folder(folders_under, name, false, folder_error);
        if (!target) {
          return make_error("seed directory " + path.string() + " is nested more than " +
                            std::to_string(MailboxState::kMaxFolderDepth) +
                            " folders deep (a symbolic link loop?); flatten the seed tree");
        }
      }
      if (auto result = seed_folder(state, *target, *target, path, false); !result.ok()) return result;
      continue;
    }
    if (!entry.is_regular_file(error) || !is_eml(path)) continue;
    auto bytes = read_file(path);
    if (!bytes.ok()) return bytes.error();
    std::optional<mail::TimePoint> received = top_received_date(*bytes);
    const auto now = mail::now_seconds();
    if (!received || *received > now) {
      const auto modified = std::filesystem::last_write_time(path, error);
      received = error ? now : std::chrono::file_clock::to_sys(modified);
    }
    auto message =
        state.message_from_mime(std::move(*bytes), std::chrono::floor<std::chrono::seconds>(*received));
    const WellKnown kind = files_into.well_known;
    message->is_draft = kind == WellKnown::drafts;
    // What the user wrote or filed is read; incoming mail waits unread.
    message->is_read = kind == WellKnown::drafts || kind == WellKnown::sentitems || kind == WellKnown::outbox;
    state.insert(files_into, std::move(message));
  }
  return {};
}

}  // namespace

Mailbox::Mailbox(std::string owner_address, Locale locale)
    : owner_address_(std::move(owner_address)),
      state_(std::make_unique<MailboxState>(owner_address_, locale)) {}

Mailbox::~Mailbox() = default;

Result<void> Mailbox::seed_from_directory(const std::filesystem::path& directory) {
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    return make_error(
        "seed directory " + directory.string() + " for " + owner_address_ +
        " does not exist or is not a directory; pass --seed EMAIL=DIR with a directory of .eml files");
  }
  std::unique_lock lock(mutex_);
  state_->begin_bulk_load();
  Result<void> result =
      seed_folder(*state_, state_->well_known(WellKnown::inbox), state_->root(), directory, true);
  state_->end_bulk_load();
  return result;
}

void Mailbox::deliver(std::string mime_text) {
  std::unique_lock lock(mutex_);
  auto message = state_->message_from_mime(std::move(mime_text), mail::now_seconds());
  message->is_read = false;
  message->is_draft = false;
  state_->insert(state_->well_known(WellKnown::inbox), std::move(message));
}

std::vector<SentRecord> Mailbox::sent() const {
  std::shared_lock lock(mutex_);
  return state_->sent_records();
}

void Mailbox::expire_sync_states() {
  std::unique_lock lock(mutex_);
  state_->expire_sync_states();
}

}  // namespace mailtrixy::emulator
