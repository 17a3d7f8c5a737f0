#pragma once
// IMAP rendering of message structure (RFC 3501 6.4.5 / 7.4.2): BODYSTRUCTURE, BODY, ENVELOPE
// and the bytes and labels of BODY[section]<partial>. Pure functions over a parsed
// mime::MessageStructure and the raw message; no I/O, thread-safe.
//
// The output equals Dovecot's (2.3) byte for byte on the test corpus
// (tests/integration/test_mime_dovecot.py); deliberate differences are listed in
// docs/imap-structure.md. Strings follow Dovecot's choice between quoted strings and literals:
// a literal for CR, LF, 8-bit bytes or more than four characters that need a backslash, a quoted
// string otherwise.

#include <optional>
#include <string>
#include <string_view>

#include "mailtrixy/imap/command.hpp"
#include "mailtrixy/mail/types.hpp"
#include "mailtrixy/mime/structure.hpp"

namespace mailtrixy::imap {

// The value after "BODYSTRUCTURE " (extensible = true: with MD5, disposition, language, location
// extension data) or after "BODY " (false), e.g. ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL
// "7BIT" 12 1 NIL NIL NIL NIL).
std::string render_body_structure(const mime::MessageStructure& structure, std::string_view message,
                                  bool extensible);

// The value after "ENVELOPE " for a message known only by its metadata (from Graph): the date is
// written as an RFC 5322 date-time in UTC, empty strings become NIL, Sender and Reply-To default
// to From.
std::string render_envelope(const mail::Envelope& envelope);

// The value after "ENVELOPE " from the raw header, exactly as Dovecot writes it. Use this one
// whenever the raw message is at hand: structure.root.envelope.
std::string render_envelope(const mime::RawEnvelope& envelope);

// The bytes of BODY[section] before any <partial> is applied: the whole message, HEADER, TEXT,
// HEADER.FIELDS[.NOT] (the matching header lines in message order plus the empty line), n, n.MIME,
// n.HEADER, n.TEXT (the last two only for message/rfc822 parts)... An empty string for a part
// that does not exist, like Dovecot. NUL bytes come out as 0x80 (a literal cannot carry NUL).
// RFC822.SIZE of a message always equals section_bytes(..., SectionSpec{}).size() == message.size().
std::string section_bytes(const mime::MessageStructure& structure, std::string_view message,
                          const SectionSpec& section);

// Applies <offset.length> to section bytes: the substring, empty when offset is past the end.
std::string_view apply_partial(std::string_view bytes, const std::optional<Partial>& partial);

// The item label as Dovecot echoes it in FETCH responses: "BODY[1.HEADER.FIELDS (FROM TO)]<0>"
// (for a partial only the offset is echoed; field names upper-cased as Dovecot does).
std::string section_label(const SectionSpec& section, const std::optional<Partial>& partial);

}  // namespace mailtrixy::imap
