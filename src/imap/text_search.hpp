#pragma once
// Text as SEARCH compares it: decoded from the wire forms of MIME (RFC 2047 encoded words,
// quoted-printable, base64, UTF-8/US-ASCII/ISO-8859-1/Windows-1252 charsets) and case-folded, so
// that "SEARCH BODY grüße" finds "GR=C3=9CSSE"-encoded text and "SUBJECT hello" finds
// "=?utf-8?q?Hello?=". Pure functions, no I/O.
//
// Case folding is simple (one code point to one code point): ASCII, Latin-1 Supplement,
// Latin Extended-A pairs, Greek and Cyrillic basic letters; "ß" stays "ß". That covers what
// mail clients' search boxes send in practice; full Unicode folding is a documented deviation.

#include <string>
#include <string_view>

#include "mailtrixy/mime/structure.hpp"

namespace mailtrixy::imap::detail {

// Converts bytes in `charset` to UTF-8. UTF-8 and US-ASCII (and unknown charsets) pass through;
// ISO-8859-1, ISO-8859-15 and Windows-1252 (and their aliases) are converted.
std::string to_utf8(std::string_view bytes, std::string_view charset);

// Decodes RFC 2047 encoded words ("=?utf-8?B?...?=", "=?iso-8859-1?Q?...?=") in a header value;
// whitespace between adjacent encoded words is dropped as the RFC says. Malformed words stay
// as written.
std::string decode_header_value(std::string_view value);

// Undoes a Content-Transfer-Encoding ("quoted-printable", "base64"; anything else: unchanged).
std::string decode_transfer_encoding(std::string_view bytes, std::string_view encoding);

// Lower-cases UTF-8 text with the simple folding described above. Invalid UTF-8 is kept.
std::string fold_case(std::string_view utf8);

// The header fields of `header_bytes`, unfolded and decoded: "Name: value\n" per field.
std::string searchable_header(std::string_view header_bytes);

// The decoded text of every text/* part (inline or not), following multiparts and encapsulated
// messages (whose headers are included too), separated by newlines. Non-text parts (images,
// PDFs) are not searched.
std::string searchable_body(const mime::MessageStructure& structure, std::string_view message);

}  // namespace mailtrixy::imap::detail
