#pragma once
// Internal: the header fields of one part as Dovecot's header parser sees them, and the
// interpretation of the Content-* fields and of the ENVELOPE fields.

#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/mime/structure.hpp"

namespace mailtrixy::mime::detail {

// One header field: name (trailing whitespace trimmed) and its full value: the bytes after the
// colon and the whitespace following it, through the end of the last continuation line, with the
// line breaks between continuation lines kept (excluding the final line break).
struct RawField {
  std::string_view name;
  std::string_view value;
};

// Splits the header bytes (as spanned by Part::header) into fields.
std::vector<RawField> split_header_fields(std::string_view header);

// Fills the Content-* members of `part` from its fields. `is_mime` says whether the part counts
// as MIME (a MIME-Version or Content-Type field, or a child of a multipart); when it does not,
// Content-* fields are ignored, like Dovecot does.
void apply_content_fields(Part& part, const std::vector<RawField>& fields, bool is_mime);

// RFC 2045/2231 parameters after the type ("; a=b; c*0=d ...") in Dovecot's order and form.
std::vector<Parameter> parse_parameters(class Rfc822Lexer& lexer);

// The ENVELOPE of the fields (the last occurrence of each field wins, like Dovecot).
RawEnvelope envelope_from_fields(const std::vector<RawField>& fields);

// An address list header value -> ENVELOPE addresses (groups as start/end markers); nullopt when
// the value holds no address at all.
std::optional<std::vector<EnvelopeAddress>> parse_envelope_addresses(std::string_view value);

bool iequals(std::string_view a, std::string_view b);

// What Dovecot puts in place of a NUL byte in header values: U+FFFD in UTF-8.
inline constexpr std::string_view kNulReplacement = "\xEF\xBF\xBD";

// A header value as a string, NUL bytes replaced by kNulReplacement.
std::string header_string(std::string_view value);

}  // namespace mailtrixy::mime::detail
