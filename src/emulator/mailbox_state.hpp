#pragma once
// The inside of an emulated mailbox: folders, messages, ids, counts and change logs. Only the
// Graph-mail routes (graph_mail*.cpp) and mailbox.cpp use it. Every member function expects the
// caller to hold the owning Mailbox's mutex (shared for the const ones, exclusive otherwise).
//
// Ids
//   Ids are opaque base64url strings shaped like Exchange's ("AQMkAD..." folders, "AAMkAD..."
//   regular message ids, "AAkALg..." immutable message ids, ending in '='), but they are not
//   stored: they encode the mailbox's random tag, a kind, a serial number and a check value, and
//   are decoded on lookup, so resolving an id costs one hash lookup and 100,000 messages carry
//   no id strings.
//   - A message has an immutable serial (for its whole life in this mailbox) and a location
//     serial that is replaced on every move, which is how its regular id changes on move while
//     the immutable id does not. Both forms resolve, as on Exchange.
//   - Anything that does not decode is "malformed" (Graph: 400 ErrorInvalidIdMalformed); a
//     well-formed id of an item that is gone (or of another mailbox) is "not found" (404).
//   - Folder ids never change. Well-known aliases ("inbox", "SentItems", ...) are accepted
//     case-insensitively wherever find_folder() is used.
//
// Change keys
//   A mailbox-wide counter gives every message a change number; the changeKey (and etag) is
//   its standard-base64 encoding. It changes when a property Exchange versions changes (PATCH of
//   flag, categories, importance, extended properties, draft content, attachments; move, copy)
//   but NOT when only isRead changes: graph-facts G7 records a real mailbox returning the same
//   etag, changeKey and lastModifiedDateTime after marking a message read.
//
// Delta
//   A mailbox-wide sequence number orders every change. Each folder keeps a map from sequence
//   number to the message last changed at that number (one entry per message present, one
//   tombstone per message that left), so a delta round resumes from "everything after sequence
//   S" with a map lookup. Folder hierarchy changes have their own map. expire_sync_states()
//   raises the sync generation, which invalidates every delta token handed out before.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mailbox.hpp"
#include "mime_message.hpp"

namespace mailtrixy::emulator {

namespace mail {

using TimePoint = std::chrono::system_clock::time_point;

// Now, at the second precision Graph reports.
TimePoint now_seconds();

enum class WellKnown : std::uint8_t {
  none,
  msgfolderroot,
  inbox,
  drafts,
  sentitems,
  deleteditems,
  junkemail,
  archive,
  outbox,
  conversationhistory,
  syncissues,
  conflicts,
  localfailures,
  serverfailures,
  recoverableitemsdeletions,
  searchfolders,
  // Aliases Graph knows but this mailbox has no folder for (Clutter and Scheduled are only
  // created by features the emulator does not have): resolving them answers "not found".
  clutter,
  scheduled,
};

// The alias for a well-known folder ("inbox"); WellKnown::none for anything else.
WellKnown well_known_from_alias(std::string_view alias);

enum class Importance : std::uint8_t { low, normal, high };
enum class FlagStatus : std::uint8_t { not_flagged, complete, flagged };

struct DateTimeTimeZone {
  std::string date_time;  // as given, e.g. "2024-05-01T10:00:00.0000000"
  std::string time_zone;  // e.g. "UTC"
};

struct FlagDates {
  std::optional<DateTimeTimeZone> start, due, completed;
};

struct FollowupFlag {
  FlagStatus status = FlagStatus::not_flagged;
  // Rarely set, so kept out of line (100,000 messages should not carry three empty dates each);
  // shared and never modified in place, so copying a flag is cheap.
  std::shared_ptr<const FlagDates> dates;
};

// A single-value extended property; `id` is in Graph's normalised form ("Integer 0xe07").
struct ExtendedProperty {
  std::string id;
  std::string value;
};

// Normalises an extended-property id the way Exchange echoes it: the type name in Graph's
// casing ("LONG" → "Long"), proptag hex in lower case without leading zeros ("0x0E07" → "0xe07"),
// GUIDs in lower case; named-property names keep their case. nullopt when the id is not one of
// the three documented forms ("{type} 0x{tag}", "{type} {guid} Name {name}", "{type} {guid} Id 0x{id}").
std::optional<std::string> normalize_extended_property_id(std::string_view id);
// The type word of a normalised id ("Integer").
std::string_view extended_property_type(std::string_view normalized_id);

struct FileAttachment {
  std::uint32_t serial = 0;
  std::string name;
  std::string content_type = "application/octet-stream";
  std::string content_id;
  bool is_inline = false;
  std::shared_ptr<const std::string> bytes;
  TimePoint modified;
};

// What a message created from JSON is built from: its MIME is regenerated from these and the
// message's own fields whenever they change.
struct DraftParts {
  bool html = false;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // internetMessageHeaders (x-...)
  std::vector<FileAttachment> attachments;
  std::uint32_t next_attachment_serial = 1;
};

struct Message {
  std::uint64_t immutable_serial = 0;
  std::uint64_t location_serial = 0;
  std::uint32_t folder = 0;
  std::uint64_t change_number = 0;
  std::uint64_t delta_seq = 0;  // key of this message's entry in its folder's change map

  std::shared_ptr<const std::string> mime;

  std::string subject;
  std::optional<mime::Address> from, sender;
  std::vector<mime::Address> to, cc, bcc, reply_to;
  std::string internet_message_id;
  TimePoint created, last_modified, received, sent;
  bool is_read = false;
  bool is_draft = false;
  bool has_attachments = false;
  bool read_receipt_requested = false;
  std::optional<bool> delivery_receipt_requested;  // null for MIME-made messages, as on Exchange
  Importance importance = Importance::normal;
  bool focused = true;  // inferenceClassification
  std::vector<std::string> categories;
  FollowupFlag flag;
  std::vector<ExtendedProperty> extended;
  std::unique_ptr<DraftParts> draft;  // only for messages created from JSON
};

struct DeltaEntry {
  std::uint64_t immutable_serial = 0;
  std::uint64_t location_serial = 0;  // the message's location serial at the time
  bool removed = false;
};

struct Folder {
  std::uint32_t serial = 0;
  std::uint32_t parent = 0;  // 0 for the roots
  std::string display_name;
  bool hidden = false;
  bool in_ipm_subtree = true;  // under msgfolderroot (listed); false for Recoverable Items etc.
  WellKnown well_known = WellKnown::none;
  std::vector<std::uint32_t> children;  // in creation order
  // Sorted oldest first by (receivedDateTime, immutable serial): Graph's default order is the
  // reverse, so pages are read from the back.
  std::vector<Message*> messages;
  std::uint32_t unread = 0;
  std::uint64_t size_bytes = 0;
  std::map<std::uint64_t, DeltaEntry> changes;
  std::uint64_t hierarchy_seq = 0;  // key of this folder's entry in the hierarchy change map
};

struct UploadSession {
  std::string token;          // the authtoken in the upload URL
  std::uint64_t message = 0;  // immutable serial of the draft
  std::string name;
  std::string content_type;
  std::string content_id;
  bool is_inline = false;
  std::uint64_t size = 0;
  std::string data;  // bytes received so far, in order
  TimePoint expires;
};

}  // namespace mail

class MailboxState {
 public:
  MailboxState(std::string owner_address, Locale locale);

  const std::string& owner_address() const { return owner_address_; }

  // --- ids
  std::string folder_id(const mail::Folder& folder) const { return folder_id(folder.serial); }
  std::string folder_id(std::uint32_t folder_serial) const;
  std::string message_id(const mail::Message& message, bool immutable) const;
  std::string regular_id(std::uint64_t location_serial) const;
  std::string immutable_id(std::uint64_t immutable_serial) const;
  std::string change_key(const mail::Message& message) const;
  std::string conversation_id(const mail::Message& message) const;
  std::string conversation_index(const mail::Message& message) const;
  std::string attachment_id(const mail::Message& message, std::uint32_t serial) const;
  // The attachment serial an attachment id of `message` names, or nullopt.
  std::optional<std::uint32_t> attachment_serial(const mail::Message& message, std::string_view id) const;

  enum class Lookup { found, malformed, not_found };
  struct FolderLookup {
    Lookup status = Lookup::not_found;
    mail::Folder* folder = nullptr;
  };
  struct MessageLookup {
    Lookup status = Lookup::not_found;
    mail::Message* message = nullptr;
  };
  FolderLookup find_folder(std::string_view id_or_alias);
  MessageLookup find_message(std::string_view id);

  mail::Folder& folder(std::uint32_t serial) { return *folders_[serial]; }
  const mail::Folder& folder(std::uint32_t serial) const { return *folders_[serial]; }
  mail::Folder& well_known(mail::WellKnown which);
  mail::Folder& root() { return well_known(mail::WellKnown::msgfolderroot); }
  // Every live folder, in serial order.
  std::vector<mail::Folder*> all_folders();
  // Whether `folder` is `ancestor` or below it.
  bool is_within(const mail::Folder& folder, const mail::Folder& ancestor) const;
  int depth(const mail::Folder& folder) const;   // msgfolderroot's children: 1
  int height(const mail::Folder& folder) const;  // a folder without children: 1

  // --- folders
  // Folders nest at most this deep (Exchange has a similar limit; it also bounds recursion).
  static constexpr int kMaxFolderDepth = 300;
  enum class FolderError { none, exists, distinguished, into_itself, too_deep };
  // A child named `name` of `parent` (case-insensitive), or nullptr.
  mail::Folder* child_named(const mail::Folder& parent, std::string_view name);
  mail::Folder* create_folder(mail::Folder& parent, std::string name, bool hidden, FolderError& error);
  FolderError rename_folder(mail::Folder& folder, std::string name);
  FolderError move_folder(mail::Folder& folder, mail::Folder& destination);
  // Deletes the folder, its subfolders and their messages for good.
  FolderError delete_folder(mail::Folder& folder);
  std::uint32_t total_items(const mail::Folder& folder) const {
    return static_cast<std::uint32_t>(folder.messages.size());
  }

  // --- messages
  // A message from MIME as it arrives: subject, addresses, dates, attachments read from it.
  std::unique_ptr<mail::Message> message_from_mime(std::string mime, mail::TimePoint received) const;
  // Stores a new message in `folder`: gives it serials, a change key, indexes and counts it.
  mail::Message& insert(mail::Folder& folder, std::unique_ptr<mail::Message> message);
  // Records that `message` changed: a new delta position, and (when `versioned`) a new change
  // key and lastModifiedDateTime.
  void touch(mail::Message& message, bool versioned);
  void set_read(mail::Message& message, bool read);
  // Replaces the MIME (drafts), keeping sizes right.
  void replace_mime(mail::Message& message, std::string mime);
  // The MIME of a JSON-made message, from its fields and DraftParts (no folder needed).
  std::string build_draft_mime(const mail::Message& message) const;
  // Regenerates a JSON-made message's MIME (and hasAttachments) from its fields and DraftParts.
  void rebuild_draft_mime(mail::Message& message);
  mail::Message& move(mail::Message& message, mail::Folder& destination);
  mail::Message& copy(const mail::Message& message, mail::Folder& destination);
  void erase(mail::Message& message);
  mail::Message* by_immutable_serial(std::uint64_t serial);

  // While bulk loading (seeding), insert() appends without keeping folders sorted;
  // end_bulk_load() sorts them once.
  void begin_bulk_load() { bulk_loading_ = true; }
  void end_bulk_load();

  // --- delta
  std::uint64_t current_seq() const { return seq_; }
  std::uint64_t sync_generation() const { return sync_generation_; }
  void expire_sync_states() { ++sync_generation_; }
  const std::map<std::uint64_t, std::uint32_t>& hierarchy_changes() const { return hierarchy_changes_; }
  // Folders deleted, by the sequence number of their deletion → their serial.
  const std::map<std::uint64_t, std::uint32_t>& hierarchy_removals() const { return hierarchy_removals_; }
  std::string mailbox_tag_hex() const;

  // --- sending and uploads
  std::vector<SentRecord>& sent_records() { return sent_; }
  const std::vector<SentRecord>& sent_records() const { return sent_; }
  std::map<std::string, mail::UploadSession>& upload_sessions() { return uploads_; }

  // A fresh Message-ID for messages this mailbox writes.
  std::string new_internet_message_id();
  const std::string& tag() const { return tag_; }

 private:
  void index_add(mail::Folder& folder, mail::Message* message);
  void index_remove(mail::Folder& folder, mail::Message* message);
  void record_message_change(mail::Folder& folder, mail::Message& message);
  void record_message_removal(mail::Folder& folder, const mail::Message& message);
  void record_folder_change(mail::Folder& folder);
  mail::Folder& add_folder(std::uint32_t parent, std::string name, bool hidden, mail::WellKnown well_known,
                           bool in_ipm_subtree);
  void remove_folder_tree(mail::Folder& folder);
  void create_default_folders(Locale locale);

  std::string owner_address_;
  std::string tag_;                                     // 12 random bytes naming this mailbox inside its ids
  std::vector<std::unique_ptr<mail::Folder>> folders_;  // index = serial; [0] unused; nullptr = deleted
  std::map<mail::WellKnown, std::uint32_t> well_known_;
  std::unordered_map<std::uint64_t, std::unique_ptr<mail::Message>> messages_;  // by immutable serial
  std::unordered_map<std::uint64_t, mail::Message*> by_location_;
  std::uint64_t next_immutable_ = 1;
  std::uint64_t next_location_ = 1;
  std::uint64_t next_change_ = 1;
  std::uint64_t seq_ = 0;
  std::uint64_t sync_generation_ = 1;
  std::uint64_t next_message_id_ = 1;
  std::map<std::uint64_t, std::uint32_t> hierarchy_changes_;
  std::map<std::uint64_t, std::uint32_t> hierarchy_removals_;
  std::vector<SentRecord> sent_;
  std::map<std::string, mail::UploadSession> uploads_;
  bool bulk_loading_ = false;
};

}  // namespace mailtrixy::emulator
