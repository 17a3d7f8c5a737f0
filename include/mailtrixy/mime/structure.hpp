#pragma once
// The MIME structure of a raw RFC 5322 message: a tree of parts with byte-exact spans into the
// message, plus what IMAP BODYSTRUCTURE and ENVELOPE report about each part. Pure MIME: no IMAP
// syntax here (the IMAP rendering lives in mailtrixy/imap/render.hpp).
//
// The parser follows what Dovecot's lib-mail does, because IMAP clients have been tested against
// Dovecot for two decades and the bridge's answers are compared with Dovecot's byte for byte
// (tests/integration/test_mime_dovecot.py, differences in docs/imap-structure.md):
//  - Line endings: CRLF and bare LF are both accepted, also mixed; spans always point at the
//    original bytes, so sections are served exactly as stored.
//  - Header: fields up to the first empty line. The header span includes that empty line. A
//    message without an empty line is all header. Lines that are not "name: value" are kept in
//    the span and otherwise ignored. 8-bit bytes are kept as they are.
//  - Multipart: a boundary line is "--" + boundary at a line start (trailing garbage on the line is
//    allowed; the longest open boundary wins); "--" + boundary + "--" closes the multipart. The
//    line break before a boundary belongs to the boundary, not to the part before it. A boundary
//    of an enclosing multipart also ends the inner ones (missing end boundaries), and cuts short a
//    part header it interrupts. Preamble and epilogue are not parts. A multipart without any
//    boundary line has no children (the renderer then reports one empty text/plain part, like
//    Dovecot).
//  - message/rfc822 (and a part without Content-Type inside multipart/digest): the body is parsed
//    as a message of its own (children[0]). message/global is an opaque part, as in Dovecot 2.3
//    (docs/imap-structure.md).
//  - Content-* fields count only in MIME parts (MIME-Version or Content-Type present, or a child
//    of a multipart); otherwise they are ignored.
//  - Parameters: RFC 2045 tokens / quoted strings with RFC 2231 continuations joined
//    ("name*0", "name*1" -> "name"; "name*0*", ... -> "name*" with the charset'lang' prefix kept),
//    as Dovecot reports them. Names and values are kept as written (values unquoted).
//  - Never crashes, never reads outside `message`, linear time in the message size; the nesting
//    depth is limited (kMaxDepth) so hostile input cannot exhaust the stack: deeper parts are
//    treated as opaque bodies.
//
// Part numbering (RFC 3501 6.4.5) is a function of the tree, see find_part().

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mailtrixy::mime {

// A byte range of the message: [offset, offset + length).
struct Span {
  std::size_t offset = 0;
  std::size_t length = 0;
  std::size_t end() const { return offset + length; }
  // The bytes of this span in `message` (empty when the span does not fit, which a span made by
  // parse_structure never does for the message it was made from).
  std::string_view in(std::string_view message) const;
  friend bool operator==(const Span&, const Span&) = default;
};

// One "name=value" parameter of Content-Type or Content-Disposition.
struct Parameter {
  std::string name;   // lower-cased; "title*" for RFC 2231 extended values
  std::string value;  // unquoted; RFC 2231 extended values keep their charset'lang' prefix
  friend bool operator==(const Parameter&, const Parameter&) = default;
};

// An address of ENVELOPE as RFC 3501 sees it: name, route (source route, obsolete), mailbox and
// host, each absent (NIL) or present. A group start is {mailbox = group name, host = nullopt};
// a group end is {mailbox = nullopt, host = nullopt}.
struct EnvelopeAddress {
  std::optional<std::string> name;
  std::optional<std::string> route;
  std::optional<std::string> mailbox;
  std::optional<std::string> host;
  friend bool operator==(const EnvelopeAddress&, const EnvelopeAddress&) = default;
};

// The ENVELOPE of a message header exactly as written (RFC 2047 words not decoded), with NIL
// (nullopt) for an absent field. Address lists are nullopt when the field is absent or has no
// address at all. Sender and Reply-To are NOT defaulted here; the renderer does it (RFC 3501).
struct RawEnvelope {
  std::optional<std::string> date;
  std::optional<std::string> subject;
  std::optional<std::vector<EnvelopeAddress>> from;
  std::optional<std::vector<EnvelopeAddress>> sender;
  std::optional<std::vector<EnvelopeAddress>> reply_to;
  std::optional<std::vector<EnvelopeAddress>> to;
  std::optional<std::vector<EnvelopeAddress>> cc;
  std::optional<std::vector<EnvelopeAddress>> bcc;
  std::optional<std::string> in_reply_to;
  std::optional<std::string> message_id;
  friend bool operator==(const RawEnvelope&, const RawEnvelope&) = default;
};

// One part of the tree. The top-level message is a Part too (whole = the message).
struct Part {
  Span whole;   // header + body
  Span header;  // the header fields including the empty line that ends them (if any)
  Span body;    // everything after the header, up to (not including) the line break before the
                // next boundary line of the enclosing multipart

  // Content-Type, as written (case kept). Absent: "text"/"plain" with has_content_type false
  // (the renderer adds charset=us-ascii), or "message"/"rfc822" inside multipart/digest. Present
  // but not "type/subtype" followed by nothing or ";": "" and "" without parameters (a lone
  // "text" keeps its type), like Dovecot.
  std::string type = "text";
  std::string subtype = "plain";
  std::vector<Parameter> parameters;
  bool has_content_type = false;  // a Content-Type field was read (in a MIME part)

  std::optional<std::string> id;           // Content-ID, as written (trimmed)
  std::optional<std::string> description;  // Content-Description, as written (trimmed, unfolded)
  std::optional<std::string> encoding;     // Content-Transfer-Encoding token, as written
  std::optional<std::string> md5;          // Content-MD5
  std::optional<std::string> disposition;  // Content-Disposition type, as written
  std::vector<Parameter> disposition_parameters;
  std::vector<std::string> language;       // Content-Language tags, in order
  std::optional<std::string> location;     // Content-Location (unfolded)

  std::uint64_t body_lines = 0;  // lines of the body (LF count, +1 if the last line has none)

  // multipart/*: the parts, in order. message/rfc822: exactly one child, the encapsulated message
  // (its whole = this part's body). Otherwise empty.
  std::vector<Part> children;
  // The message's ENVELOPE; only on the top-level message and on the child of a message/rfc822
  // part.
  std::optional<RawEnvelope> envelope;

  // Parsed as a multipart (Content-Type multipart/*, in a MIME part): BODYSTRUCTURE writes it as
  // a multipart even when no child was found.
  bool multipart = false;
  // Parsed as message/rfc822 (also a part without Content-Type inside multipart/digest): has
  // exactly one child, the encapsulated message.
  bool message = false;

  bool is_multipart() const { return multipart; }
  bool is_message() const { return message && children.size() == 1; }
};

struct MessageStructure {
  Part root;  // the whole message
  // True when the parser had to give up on structure somewhere (nesting deeper than kMaxDepth,
  // or more than 10,000 parts): such parts stay inside their parent's body.
  bool truncated = false;
};

// Parts nested deeper than this are treated as opaque (no children).
inline constexpr int kMaxDepth = 100;

// Parses `message`. Total: every input gives a tree (an empty message gives a root with empty
// spans). The result holds offsets only; keep `message` to read the bytes.
MessageStructure parse_structure(std::string_view message);

// The part that an IMAP part number names (RFC 3501 6.4.5): {} is the whole message (root);
// {1} of a non-multipart message is the root (its body is BODY[1]); {n} of a multipart is its n-th
// child; after a message/rfc822 part the numbering continues inside the encapsulated message (so
// {2,1} is the first part of the message in part 2, or the message itself when it is not
// multipart). nullptr when there is no such part.
// The returned part is the one whose header is BODY[n.MIME] and whose body is BODY[n].
const Part* find_part(const MessageStructure& structure, std::span<const std::uint32_t> part_number);

// For a message/rfc822 part: the encapsulated message (children[0]); for any other part nullptr.
// BODY[n.HEADER] and BODY[n.TEXT] of a message/rfc822 part n read its header and body.
const Part* encapsulated_message(const Part& part);

// Part numbers present in the message, in document order ({1}, {1,1}, ...), as IMAP clients
// would ask for them. Useful for tests and tools.
std::vector<std::vector<std::uint32_t>> part_numbers(const MessageStructure& structure);

// The ENVELOPE fields of the header in `header_bytes`.
RawEnvelope parse_raw_envelope(std::string_view header_bytes);

// `message` with every bare LF turned into CRLF (a lone CR stays). IMAP requires CRLF, and Dovecot
// serves (and sizes) messages this way whatever their stored form, so the bridge serves and
// parses the normalized bytes: then RFC822.SIZE, BODYSTRUCTURE sizes and sections all agree.
std::string normalize_crlf(std::string_view message);

}  // namespace mailtrixy::mime
