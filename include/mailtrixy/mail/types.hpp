#pragma once
// The core mail model shared by the IMAP and SMTP front-ends, the sync engine and the Graph
// client: strong identifiers, flags, folders and message metadata. Plain value types, no I/O,
// safe to copy between threads.
//
// Strong types keep the four kinds of numbers and strings apart: a UID can't be passed where a
// sequence number is expected, and a Graph message id can't be passed where a folder id is.

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtrixy::mail {

// An explicit wrapper around an integer or string. Comparable, hashable, no implicit conversion
// in either direction.
template <typename Tag, typename Rep>
class StrongValue {
 public:
  constexpr StrongValue() = default;
  constexpr explicit StrongValue(Rep value) : value_(std::move(value)) {}
  constexpr const Rep& value() const { return value_; }
  friend constexpr auto operator<=>(const StrongValue&, const StrongValue&) = default;
  friend constexpr bool operator==(const StrongValue&, const StrongValue&) = default;

 private:
  Rep value_{};
};

// IMAP UID (RFC 3501 2.3.1.1): per folder, strictly ascending, never reused. 0 is never a valid
// UID; a default-constructed Uid means "none".
using Uid = StrongValue<struct UidTag, std::uint32_t>;
// IMAP UIDVALIDITY: per folder, nonzero, never changes while the folder exists.
using UidValidity = StrongValue<struct UidValidityTag, std::uint32_t>;
// IMAP message sequence number: 1-based position in one session's view. Front-end only; the
// backend never uses sequence numbers because each session has its own view.
using SequenceNumber = StrongValue<struct SequenceNumberTag, std::uint32_t>;
// Graph immutable message id (Prefer: IdType="ImmutableId"): opaque, case-sensitive, stable
// across moves inside the mailbox. Never URL-decoded or case-folded.
using GraphId = StrongValue<struct GraphIdTag, std::string>;
// Graph mail folder id: opaque, case-sensitive, stable (folders have no immutable-id variant).
// Also accepts a well-known alias such as "inbox" where Graph does (RemoteMailbox calls).
using FolderId = StrongValue<struct FolderIdTag, std::string>;

// Inclusive UID range; IMAP "n:*" is {n, Uid::max}. Empty when first > last.
struct UidRange {
  Uid first{1};
  Uid last{UINT32_MAX};
  static UidRange all() { return {}; }
  static UidRange single(Uid uid) { return {uid, uid}; }
  bool contains(Uid uid) const { return first <= uid && uid <= last; }
  friend bool operator==(const UidRange&, const UidRange&) = default;
};

// ---------------------------------------------------------------------------------------------
// Flags (spec section 6)

enum class SystemFlag : std::uint8_t {
  seen = 1 << 0,       // \Seen      <-> isRead
  answered = 1 << 1,   // \Answered  <-> Integer 0x1081 = 102/103 (+ icon 0x1080 = 261)
  flagged = 1 << 2,    // \Flagged   <-> flag.flagStatus == flagged
  deleted = 1 << 3,    // \Deleted   bridge-local until EXPUNGE; never sent to Graph
  draft = 1 << 4,      // \Draft     <-> isDraft (read-only on Graph after creation)
  forwarded = 1 << 5,  // $Forwarded <-> Integer 0x1081 = 104 (+ icon 0x1080 = 262); a keyword in IMAP
};

// "\Seen", "\Answered", "\Flagged", "\Deleted", "\Draft", "$Forwarded".
std::string_view flag_name(SystemFlag flag);
// Case-insensitive inverse of flag_name ("\seen" -> seen); nullopt for anything else (keywords,
// \Recent, \*).
std::optional<SystemFlag> parse_system_flag(std::string_view name);

// A set of system flags plus keywords. Keywords are IMAP atoms kept in their original case;
// "$Forwarded" is always represented as SystemFlag::forwarded, never as a keyword.
class Flags {
 public:
  Flags() = default;

  bool has(SystemFlag flag) const { return (bits_ & bit(flag)) != 0; }
  Flags& set(SystemFlag flag, bool on = true);
  Flags& clear(SystemFlag flag) { return set(flag, false); }

  // Keywords compare case-insensitively (RFC 3501 flags are case-insensitive); the first
  // spelling added is kept. add_keyword("$forwarded") sets SystemFlag::forwarded.
  bool has_keyword(std::string_view keyword) const;
  Flags& add_keyword(std::string_view keyword);
  Flags& remove_keyword(std::string_view keyword);
  const std::vector<std::string>& keywords() const { return keywords_; }

  // Adds/removes one flag given by its IMAP name: system flag or keyword.
  Flags& add(std::string_view name);
  Flags& remove(std::string_view name);

  // Union / difference, for STORE +FLAGS / -FLAGS.
  Flags& add_all(const Flags& other);
  Flags& remove_all(const Flags& other);

  // Every flag as IMAP names: system flags first in a fixed order, then keywords in insertion
  // order. Used for FETCH FLAGS output and tests.
  std::vector<std::string> names() const;

  std::uint8_t system_bits() const { return bits_; }
  bool empty() const { return bits_ == 0 && keywords_.empty(); }

  friend bool operator==(const Flags& a, const Flags& b);

 private:
  static std::uint8_t bit(SystemFlag flag) { return static_cast<std::uint8_t>(flag); }
  std::uint8_t bits_ = 0;
  std::vector<std::string> keywords_;
};

// Keywords <-> Outlook categories. Categories are free text ("Red category", "Projekt Ä");
// IMAP keywords are atoms. The mapping is reversible:
//   space -> '_', '_' -> "=5F", '=' -> "=3D", and every byte that is not an atom-safe printable
//   ASCII character (atom-specials, '%', '*', ']', '\\', '"', controls, non-ASCII) -> "=XX" hex.
// keyword_from_category("Red category") == "Red_category";
// category_from_keyword("Red_category") == "Red category".
std::string keyword_from_category(std::string_view category);
// Inverse; a keyword typed by a user that contains no escapes maps to itself (with '_' -> ' ').
// A malformed escape ("=Z1") is kept literally.
std::string category_from_keyword(std::string_view keyword);
// True when `keyword` is a valid IMAP flag-keyword atom (non-empty, printable ASCII, no
// atom-specials, not starting with '\\').
bool is_valid_keyword(std::string_view keyword);

// ---------------------------------------------------------------------------------------------
// Folders

inline constexpr char kFolderDelimiter = '/';
inline constexpr std::string_view kInbox = "INBOX";

// RFC 6154 special-use, found on Graph via the well-known aliases (v1.0 has no wellKnownName).
enum class SpecialUse : std::uint8_t { none, inbox, sent, drafts, trash, junk, archive };

// "\Sent", "\Drafts", "\Trash", "\Junk", "\Archive"; "" for none and inbox (INBOX is not an
// RFC 6154 attribute).
std::string_view special_use_attribute(SpecialUse use);
// Graph well-known alias for the special use ("inbox", "sentitems", "drafts", "deleteditems",
// "junkemail", "archive"); "" for none.
std::string_view well_known_alias(SpecialUse use);

// One folder as the front-ends see it.
struct FolderInfo {
  // Full path in UTF-8 with '/' between levels: "INBOX", "Archive/2024", "Projects/Q1".
  // INBOX is always spelled "INBOX"; other names keep Outlook's display names. A '/' inside an
  // Outlook display name is shown as U+2215 DIVISION SLASH so that it can't split the path.
  // Modified UTF-7 is the IMAP front-end's business, not stored here.
  std::string path;
  SpecialUse special_use = SpecialUse::none;
  bool has_children = false;  // \HasChildren / \HasNoChildren
  bool selectable = true;     // false -> \Noselect (e.g. a search folder the bridge can't list)
  bool subscribed = false;    // IMAP SUBSCRIBE state, bridge-local
  friend bool operator==(const FolderInfo&, const FolderInfo&) = default;
};

// Splits "a/b/c" into {"a","b","c"}; "" gives {}.
std::vector<std::string> split_folder_path(std::string_view path);
// True when path names INBOX (case-insensitive), including "inbox".
bool is_inbox(std::string_view path);
// Canonical form: INBOX spelled "INBOX" (also as the first level of "inbox/child"), no leading,
// trailing or doubled '/'. Returns nullopt for an invalid path ("", "a//b", "/a").
std::optional<std::string> normalize_folder_path(std::string_view path);

// ---------------------------------------------------------------------------------------------
// Messages

using TimePoint = std::chrono::sys_seconds;

// One mailbox: display name (may be empty) and addr-spec "local@domain".
struct Address {
  std::string name;
  std::string address;
  friend bool operator==(const Address&, const Address&) = default;
};

// The fields IMAP ENVELOPE and metadata SEARCH need. Text is UTF-8; values taken from raw MIME
// headers are kept as sent (RFC 2047 encoded words are not decoded), values from Graph are
// already decoded.
struct Envelope {
  std::optional<TimePoint> date;  // Date: header / Graph sentDateTime
  std::string subject;
  std::vector<Address> from;
  std::vector<Address> sender;
  std::vector<Address> reply_to;
  std::vector<Address> to;
  std::vector<Address> cc;
  std::vector<Address> bcc;
  std::string in_reply_to;  // raw "<id@host>" list, "" when absent
  std::string message_id;   // "<id@host>", "" when absent
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

// What the metadata cache holds for one message in one folder.
struct MessageMeta {
  Uid uid;
  GraphId graph_id;
  Flags flags;
  TimePoint internal_date{};                 // INTERNALDATE = Graph receivedDateTime
  std::optional<std::uint64_t> rfc822_size;  // exact byte length of the BODY[] served; nullopt
                                             // until known (see MailboxBackend::message_size)
  Envelope envelope;
  friend bool operator==(const MessageMeta&, const MessageMeta&) = default;
};

}  // namespace mailtrixy::mail
