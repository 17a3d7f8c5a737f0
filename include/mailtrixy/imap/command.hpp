#pragma once
// The IMAP command model: what the sans-I/O parser (parser.hpp) produces from the client's bytes
// and what the session's command table consumes. Plain values, no I/O, no backend types except
// the mail module's time point.
//
// Grammar: RFC 3501 section 9 (IMAP4rev1) plus the extensions the bridge advertises: LITERAL+
// (RFC 7888), SASL-IR (RFC 4959), ID (RFC 2971), ENABLE (RFC 5161), IDLE (RFC 2177), NAMESPACE
// (RFC 2342), UNSELECT (RFC 3691), UIDPLUS (RFC 4315, UID EXPUNGE), MOVE (RFC 6851), LIST-EXTENDED
// selection/return options (RFC 5258) with SPECIAL-USE (RFC 6154) and LIST-STATUS (RFC 5819).
//
// Conventions:
//  - Strings (atom, quoted, literal) arrive unescaped, as bytes. Mailbox names arrive exactly as
//    sent on the wire (modified UTF-7 per RFC 3501 5.1.3, or UTF-8 after ENABLE UTF8=ACCEPT);
//    decoding and the INBOX case rule are the session's business (mailbox_name.hpp).
//  - Command names and keyword arguments (fetch items, search keys, STATUS items, flags' system
//    names) are matched case-insensitively by the parser and reported in the enums below.
//  - Numbers are validated: nz-number fields never carry 0, sequence sets never contain 0.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "mailtrixy/mail/backend.hpp"
#include "mailtrixy/mail/types.hpp"

namespace mailtrixy::imap {

// ---------------------------------------------------------------------------------------------
// Sequence sets (RFC 3501 "sequence-set"): message sequence numbers, or UIDs in UID commands.

// One end of a range: a number, or "*" (the largest number in use).
struct SequenceBound {
  bool star = false;
  std::uint32_t value = 0;  // > 0 unless star
  static SequenceBound number(std::uint32_t n) { return {false, n}; }
  static SequenceBound largest() { return {true, 0}; }
  friend bool operator==(const SequenceBound&, const SequenceBound&) = default;
};

// "n" is {n, n}; "n:m" is {n, m} as written (m may be smaller than n: the range means the same).
struct SequenceRange {
  SequenceBound first;
  SequenceBound last;
  friend bool operator==(const SequenceRange&, const SequenceRange&) = default;
};

// Ranges in the order written; never empty when produced by the parser.
struct SequenceSet {
  std::vector<SequenceRange> ranges;
  friend bool operator==(const SequenceSet&, const SequenceSet&) = default;
};

// A calendar date as in SEARCH BEFORE/ON/SINCE ("1-Feb-1994"), no time zone.
struct Date {
  int year = 0;
  unsigned month = 0;  // 1..12
  unsigned day = 0;    // 1..31 (validated against the month)
  friend bool operator==(const Date&, const Date&) = default;
};

// ---------------------------------------------------------------------------------------------
// SEARCH keys (RFC 3501 6.4.4). A tree: a top-level search is an implicit AND of its keys.

struct SearchKey {
  enum class Kind {
    all, answered, deleted, draft, flagged, new_, old, recent, seen,
    unanswered, undeleted, undraft, unflagged, unseen,
    keyword, unkeyword,                 // text = the flag keyword
    bcc, body, cc, from, subject, text, to,  // text = the string to find (substring, case-insensitive)
    header,                             // header_name, text (empty text: the field exists)
    before, on, since,                  // date: internal date
    sent_before, sent_on, sent_since,   // date: Date: header
    larger, smaller,                    // number: RFC822.SIZE
    uid,                                // set: UIDs
    sequence_set,                       // set: message sequence numbers
    not_,                               // children[0]
    or_,                                // children[0] OR children[1]
    and_,                               // a parenthesised list: every child
  };
  Kind kind = Kind::all;
  std::string text;
  std::string header_name;
  Date date;
  std::uint64_t number = 0;
  SequenceSet set;
  std::vector<SearchKey> children;
  friend bool operator==(const SearchKey&, const SearchKey&) = default;
};

// ---------------------------------------------------------------------------------------------
// FETCH attributes (RFC 3501 6.4.5). The macros ALL, FAST and FULL are expanded by the parser.

// "section" of BODY[...] / BODY.PEEK[...].
struct SectionSpec {
  std::vector<std::uint32_t> part;  // "1.2.3" -> {1,2,3}; empty: the whole message
  enum class Text { none, header, header_fields, header_fields_not, text, mime };
  Text text = Text::none;          // MIME only with a non-empty part (the parser enforces it)
  std::vector<std::string> fields;  // HEADER.FIELDS[.NOT]: the field names as sent (astrings)
  friend bool operator==(const SectionSpec&, const SectionSpec&) = default;
};

// "<offset.length>"; length > 0.
struct Partial {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  friend bool operator==(const Partial&, const Partial&) = default;
};

struct FetchAttribute {
  enum class Kind {
    envelope, flags, internal_date, uid,
    rfc822, rfc822_header, rfc822_size, rfc822_text,
    body,            // "BODY" alone: the non-extensible BODYSTRUCTURE
    body_structure,  // "BODYSTRUCTURE"
    body_section,    // BODY[section]<partial> or BODY.PEEK[section]<partial>
  };
  Kind kind = Kind::flags;
  bool peek = false;               // BODY.PEEK: do not set \Seen
  SectionSpec section;             // body_section only
  std::optional<Partial> partial;  // body_section only
  friend bool operator==(const FetchAttribute&, const FetchAttribute&) = default;
};

// ---------------------------------------------------------------------------------------------
// Arguments of each command.

struct LoginArgs {
  std::string user;
  std::string password;
};

struct AuthenticateArgs {
  std::string mechanism;  // upper-cased ("PLAIN")
  // SASL-IR initial response as sent (base64 text); "=" means an empty response; nullopt: none.
  std::optional<std::string> initial_response;
};

struct EnableArgs {
  std::vector<std::string> capabilities;  // upper-cased
};

struct IdArgs {
  // nullopt for "ID NIL"; otherwise field/value pairs in order (a NIL value is nullopt).
  std::optional<std::vector<std::pair<std::string, std::optional<std::string>>>> fields;
};

// SELECT, EXAMINE, CREATE, DELETE, SUBSCRIBE, UNSUBSCRIBE.
struct MailboxArgs {
  std::string mailbox;
  // SELECT/EXAMINE parameters such as (CONDSTORE), upper-cased names; the session refuses the
  // ones it does not support.
  std::vector<std::string> parameters;
};

struct RenameArgs {
  std::string from;
  std::string to;
};

// LIST (RFC 3501 and RFC 5258) and LSUB.
struct ListArgs {
  std::string reference;
  std::vector<std::string> patterns;  // one for the basic form; several with "(...)" (RFC 5258)
  struct Selection {
    bool subscribed = false;
    bool remote = false;
    bool recursive_match = false;
    bool special_use = false;
  } selection;
  struct Return {
    bool subscribed = false;
    bool children = false;
    bool special_use = false;
    std::vector<std::string> status_items;  // RETURN (STATUS (...)) items, upper-cased
  } returns;
  bool extended = false;  // selection or return options were given (answer in the extended form)
  // XLIST, Gmail's pre-RFC 6154 form of LIST that Outlook 2013 and later use to find the special
  // folders: parsed as a basic LIST, answered with "* XLIST" lines and \Inbox on INBOX.
  bool xlist = false;
};

struct StatusArgs {
  std::string mailbox;
  std::vector<std::string> items;  // upper-cased: MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE DELETED
};

struct AppendArgs {
  std::string mailbox;
  std::vector<std::string> flags;  // as sent ("\Seen", "$Forwarded", "Work")
  std::optional<mail::TimePoint> internal_date;  // date-time "dd-Mon-yyyy hh:mm:ss +zzzz" in UTC
  std::string message;             // the literal's bytes
};

struct SearchArgs {
  std::optional<std::string> charset;  // upper-cased; nullopt when not given
  std::vector<SearchKey> keys;         // implicit AND; never empty
  // ESEARCH "RETURN (...)" options, upper-cased (MIN MAX COUNT ALL); empty: classic SEARCH reply.
  std::optional<std::vector<std::string>> return_options;
};

struct FetchArgs {
  SequenceSet set;
  std::vector<FetchAttribute> attributes;  // in the order given, after macro expansion
};

struct StoreArgs {
  SequenceSet set;
  mail::StoreMode mode = mail::StoreMode::replace;  // "+FLAGS" add, "-FLAGS" remove, "FLAGS" replace
  bool silent = false;                              // ".SILENT"
  std::vector<std::string> flags;                   // as sent
};

// COPY and MOVE.
struct CopyArgs {
  SequenceSet set;
  std::string mailbox;
};

// UID EXPUNGE.
struct UidExpungeArgs {
  SequenceSet set;
};

// ---------------------------------------------------------------------------------------------

enum class CommandKind {
  capability, noop, logout, starttls, authenticate, login, enable, id, namespace_,
  select, examine, create, delete_, rename, subscribe, unsubscribe, list, lsub, status, append,
  idle, check, close, unselect, expunge, search, fetch, store, copy, move,
};

using CommandArguments =
    std::variant<std::monostate, LoginArgs, AuthenticateArgs, EnableArgs, IdArgs, MailboxArgs, RenameArgs,
                 ListArgs, StatusArgs, AppendArgs, SearchArgs, FetchArgs, StoreArgs, CopyArgs, UidExpungeArgs>;

// One complete command. `uid` is true for "UID FETCH/SEARCH/STORE/COPY/MOVE/EXPUNGE", whose kind
// is the inner command. Argument alternatives per kind:
//   login -> LoginArgs; authenticate -> AuthenticateArgs; enable -> EnableArgs; id -> IdArgs;
//   select, examine, create, delete_, subscribe, unsubscribe -> MailboxArgs; rename -> RenameArgs;
//   list, lsub -> ListArgs (lsub: one pattern, no options); status -> StatusArgs;
//   append -> AppendArgs; search -> SearchArgs; fetch -> FetchArgs; store -> StoreArgs;
//   copy, move -> CopyArgs; expunge with uid -> UidExpungeArgs; everything else -> monostate.
struct Command {
  std::string tag;
  CommandKind kind = CommandKind::noop;
  bool uid = false;
  CommandArguments arguments;
};

// Upper-case wire name of the command ("UID FETCH" is reported as "FETCH"), for logs and
// "tag OK FETCH completed".
std::string_view command_name(CommandKind kind);

}  // namespace mailtrixy::imap
