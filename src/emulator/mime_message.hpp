#pragma once
// A small, forgiving reader and writer of RFC 5322 / MIME messages: just what the emulated
// mailbox needs to present a stored message the way Exchange does (subject, addresses, dates,
// body, preview, attachments) and to turn a Graph JSON message into MIME.
//
// Reading never fails: mail in the wild is full of broken headers, bad charsets and unclosed
// multiparts, and Exchange shows such mail anyway. Whatever cannot be understood is skipped or
// kept as raw text; every string handed out is valid UTF-8 (undecodable bytes become U+FFFD),
// so it can go into JSON as is.
//
// Writing produces CRLF line endings, RFC 2047 encoded words for non-ASCII header text,
// quoted-printable text bodies and base64 attachments folded at 76 columns.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtrixy::emulator::mime {

using TimePoint = std::chrono::system_clock::time_point;

struct Address {
  std::string name;     // decoded display name, may be empty
  std::string address;  // addr-spec as written (case kept)
  friend bool operator==(const Address&, const Address&) = default;
};

struct HeaderField {
  std::string name;   // as written
  std::string value;  // unfolded (CRLF + WSP → WSP), not decoded, leading blanks removed
};

struct HeaderBlock {
  std::vector<HeaderField> fields;
  std::size_t body_offset = 0;  // first byte after the blank line ending the header block

  // The first field with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
};

// Splits off the header block of a message or MIME entity. Lines that are neither a field nor a
// continuation are skipped; a missing blank line means the whole input is header.
HeaderBlock parse_header_block(std::string_view entity);

// Decodes RFC 2047 encoded words (B and Q, any charset this file knows, unknown charsets read as
// UTF-8 or Latin-1) and converts stray 8-bit text to UTF-8.
std::string decode_header_text(std::string_view raw);

// Address lists (To, Cc, From, ...): display names decoded, groups flattened, comments dropped.
// Entries without an '@' are kept only when they have no display name either (bare local parts).
std::vector<Address> parse_address_list(std::string_view raw);

// RFC 5322 date-time (also the obsolete forms: two-digit years, zone names, missing seconds or
// weekday). nullopt when the text is not a date.
std::optional<TimePoint> parse_date(std::string_view raw);

// "Tue, 16 Nov 2023 05:42:46 +0000".
std::string format_date(TimePoint when);

// Converts text in `charset` to UTF-8 (UTF-8, US-ASCII, ISO-8859-1/-15 and Windows-1252 are
// known; anything else is taken as UTF-8 when it is valid, else as Windows-1252).
std::string to_utf8(std::string_view bytes, std::string_view charset);

// Replaces invalid UTF-8 sequences with U+FFFD.
std::string sanitize_utf8(std::string_view text);
bool is_valid_utf8(std::string_view text);

// The parts of a message a mail client shows.
struct Attachment {
  std::string name;
  std::string content_type;  // "image/png"
  std::string content_id;    // without angle brackets
  bool is_inline = false;
  bool is_item = false;  // a message/rfc822 part (Graph's itemAttachment)
  std::string bytes;     // decoded content
};

struct Content {
  std::optional<std::string> text;      // first text/plain body part, UTF-8
  std::optional<std::string> html;      // first text/html body part, UTF-8
  std::vector<Attachment> attachments;  // including inline ones
};

// Walks the MIME tree. With `with_attachment_bytes` false, attachment bytes stay empty (cheaper).
Content extract_content(std::string_view message, bool with_attachment_bytes = true);

// What the emulated mailbox records about a message when it is stored.
struct Summary {
  std::string subject;
  std::optional<Address> from;
  std::optional<Address> sender;
  std::vector<Address> to, cc, bcc, reply_to;
  std::string message_id;  // with its angle brackets, as written; empty when absent
  std::optional<TimePoint> date;
  std::string importance = "normal";  // low | normal | high (Importance, X-Priority, Priority)
  bool has_attachments = false;       // attachments other than inline ones
  bool read_receipt_requested = false;
  std::string thread_topic;  // subject without Re:/Fwd: prefixes, for conversation ids
};

Summary summarize(std::string_view message);

// The subject without reply/forward prefixes (Re:, Fwd:, AW:, WG:, ...): Exchange's thread topic.
std::string strip_subject_prefixes(std::string_view subject);

// Graph's bodyPreview: the first 255 characters of the body text, from the HTML part (tags
// removed, entities decoded) when there is no text part.
std::string body_preview(const Content& content);

// Text from HTML: tags removed, block elements as line breaks, common entities decoded.
std::string html_to_text(std::string_view html);

// HTML from text: escaped and wrapped the way Outlook presents plain-text mail.
std::string text_to_html(std::string_view text);

// A message to be written.
struct OutgoingAttachment {
  std::string name;
  std::string content_type = "application/octet-stream";
  std::string content_id;
  bool is_inline = false;
  std::string bytes;
};

struct Outgoing {
  std::optional<Address> from;
  std::optional<Address> sender;
  std::vector<Address> to, cc, bcc, reply_to;
  std::string subject;
  bool html = false;
  std::string body;        // UTF-8
  std::string message_id;  // with angle brackets
  TimePoint date;
  std::string importance = "normal";
  std::vector<std::pair<std::string, std::string>> extra_headers;  // internetMessageHeaders
  std::vector<OutgoingAttachment> attachments;
  bool read_receipt_requested = false;
};

std::string build_message(const Outgoing& message);

// The message without any header field named `name` (e.g. "Bcc" for copies handed to
// recipients); the body and every other byte are untouched.
std::string remove_header_field(std::string_view message, std::string_view name);

// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);

}  // namespace mailtrixy::emulator::mime
