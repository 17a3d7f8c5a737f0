#pragma once
// Mailbox names on the IMAP wire: modified UTF-7 (RFC 3501 section 5.1.3) and LIST pattern
// matching (RFC 3501 section 6.3.8). Pure functions on strings, no I/O.
//
// Modified UTF-7: printable US-ASCII (0x20..0x7e) stands for itself, except '&', which is
// written "&-"; every other run of characters is written "&" + the modified BASE64 (',' instead
// of '/', no '=' padding) of its UTF-16BE form + "-". A name has exactly one encoding: printable
// ASCII inside a BASE64 run, two adjacent runs ("&AOQ-&AOQ-" instead of "&AOQA5A-"), or non-zero
// padding bits are rejected by the decoder, so a client can't name one folder two ways.
//
// The hierarchy delimiter is '/' (mail::kFolderDelimiter) everywhere in the bridge.

#include <optional>
#include <string>
#include <string_view>

namespace mailtrixy::imap {

// UTF-8 -> modified UTF-7. Invalid UTF-8 sequences and NUL (which Graph does not send) are
// encoded as U+FFFD so the result is always a valid name that decode_mailbox_name() accepts.
std::string encode_mailbox_name(std::string_view utf8);

// Modified UTF-7 -> UTF-8; nullopt when `wire` is not valid modified UTF-7: a byte outside
// printable ASCII, '&' without a terminating '-', a character outside the modified BASE64
// alphabet, a non-shortest form (see above), an unpaired UTF-16 surrogate, or U+0000.
std::optional<std::string> decode_mailbox_name(std::string_view wire);

// The pattern a LIST/LSUB command asks for: the reference name followed by the mailbox pattern
// (RFC 3501 6.3.8). With '/' as delimiter, a pattern starting with '/' is not re-rooted: a
// reference ending in '/' and a pattern starting with '/' share one delimiter.
std::string combine_list_reference(std::string_view reference, std::string_view pattern);

// True when `mailbox_path` (delimiter '/') matches `reference_plus_pattern`: '*' matches any
// run of characters including '/', '%' any run without '/', everything else itself
// (case-sensitively). INBOX is case-insensitive (RFC 3501 5.1): a pattern whose first level is
// any case of "INBOX" matches the mailbox "INBOX" and its children, which the caller passes with
// "INBOX" in upper case. Works on wire (modified UTF-7) or decoded names alike, as long as both
// arguments use the same form.
bool list_pattern_matches(std::string_view reference_plus_pattern, std::string_view mailbox_path);

// True when `mailbox_path` is not itself matched but some mailbox below it would be (RFC 3501:
// with '%', "foo/%" lists the children of foo; RFC 5258 CHILDINFO and \Noselect parents need to
// know whether a path is a prefix of possible matches). Used to list parents that exist only as
// part of a deeper match.
bool list_pattern_could_match_below(std::string_view reference_plus_pattern, std::string_view mailbox_path);

}  // namespace mailtrixy::imap
