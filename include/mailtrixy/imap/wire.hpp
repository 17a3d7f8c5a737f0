#pragma once
// Writing IMAP strings in server responses (RFC 3501 section 4.3): the one place that decides
// between an atom-safe quoted string and a literal. Used by every response that echoes data
// (FETCH, ENVELOPE, BODYSTRUCTURE, LIST, STATUS, ID).
//
// Rule: a value is sent as a quoted string when it has no CR, LF or NUL, no 8-bit byte and is at
// most 1024 bytes long (quotes and backslashes escaped); otherwise as a literal "{n}\r\n" + bytes.
// 8-bit text goes into literals because a quoted string is 7-bit in IMAP4rev1.

#include <string>
#include <string_view>

namespace mailtrixy::imap {

// True when `value` may be sent inside a quoted string.
bool quotable(std::string_view value);

// Appends `value` as a quoted string or a literal (see the rule above).
void append_string(std::string& out, std::string_view value);
// Appends NIL for an absent value, else like append_string.
void append_nstring(std::string& out, const std::string* value);
// Appends `value` as an atom when it is a non-empty atom (no atom-specials), else like
// append_string. Mailbox names and flag keywords use this.
void append_astring(std::string& out, std::string_view value);
// Appends "{n}\r\n" + value: always a literal (BODY[] data).
void append_literal(std::string& out, std::string_view value);

}  // namespace mailtrixy::imap
