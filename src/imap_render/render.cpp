#include "mailtrixy/imap/render.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/imap/wire.hpp"

namespace mailtrixy::imap {
namespace {

// --- Strings the way Dovecot writes them (imap-quote.c) ----------------------------------------
// Dovecot handles C strings: a value ends at its first NUL.

constexpr int kMaxQuotedEscapes = 4;

std::string_view until_nul(std::string_view value) {
  std::size_t nul = value.find('\0');
  return nul == std::string_view::npos ? value : value.substr(0, nul);
}

// A quoted string, or a literal for CR, LF, 8-bit bytes or more than four escapes.
void append_dovecot_string(std::string& out, std::string_view raw) {
  std::string_view value = until_nul(raw);
  int escapes = 0;
  for (unsigned char c : value) {
    bool literal = c == '\r' || c == '\n' || c >= 0x80;
    if ((c == '"' || c == '\\') && escapes++ >= kMaxQuotedEscapes) literal = true;
    if (literal) {
      append_literal(out, value);
      return;
    }
  }
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// NIL or a string (like Dovecot), with line breaks removed (a space is put in when the next line
// does not start with whitespace).
void append_nstring_nolf(std::string& out, const std::optional<std::string>& value) {
  if (!value) {
    out += "NIL";
    return;
  }
  std::string_view text = until_nul(*value);
  if (text.find_first_of("\r\n") == std::string_view::npos) {
    append_dovecot_string(out, text);
    return;
  }
  std::string joined;
  joined.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\r' && c != '\n') {
      joined += c;
    } else if (i + 1 < text.size()) {
      char next = text[i + 1];
      if (next != ' ' && next != '\t' && next != '\r' && next != '\n') joined += ' ';
    }
  }
  append_dovecot_string(out, joined);
}

// Subjects and display names: runs of whitespace and line breaks collapsed to one space, leading
// and trailing ones removed, NUL shown as 0x80; a literal whenever anything had to change.
void append_string_for_humans(std::string& out, std::string_view src) {
  std::size_t remove_count = 0;
  bool whitespace_prefix = true;
  bool last_lwsp = true;
  bool modify = false;
  for (unsigned char c : src) {
    switch (c) {
      case 0:
        last_lwsp = false;
        modify = true;
        break;
      case '\t':
      case '\r':
      case '\n':
        modify = true;
        [[fallthrough]];
      case ' ':
        if (last_lwsp) {
          modify = true;
          ++remove_count;
        }
        last_lwsp = true;
        break;
      case '"':
      case '\\':
        modify = true;
        last_lwsp = false;
        break;
      default:
        if (c & 0x80) modify = true;
        last_lwsp = false;
        break;
    }
    if (!last_lwsp) whitespace_prefix = false;
  }
  if (last_lwsp && !src.empty() && !whitespace_prefix) {
    modify = true;
    ++remove_count;
  }
  if (!modify) {
    out += '"';
    out += src;
    out += '"';
    return;
  }
  if (src.size() == remove_count) {
    out += "\"\"";
    return;
  }
  out += '{';
  out += std::to_string(src.size() - remove_count);
  out += "}\r\n";
  std::size_t start = out.size();
  last_lwsp = true;
  whitespace_prefix = true;
  for (unsigned char c : src) {
    switch (c) {
      case 0:
        out += static_cast<char>(0x80);
        last_lwsp = false;
        break;
      case '\t':
      case '\r':
      case '\n':
      case ' ':
        if (!last_lwsp) out += ' ';
        last_lwsp = true;
        break;
      default:
        last_lwsp = false;
        out += static_cast<char>(c);
        break;
    }
    if (!last_lwsp) whitespace_prefix = false;
  }
  if (last_lwsp && out.size() > start && !whitespace_prefix) out.pop_back();
}

// --- ENVELOPE ----------------------------------------------------------------------------------

void append_addresses(std::string& out, const std::optional<std::vector<mime::EnvelopeAddress>>& list) {
  if (!list || list->empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  for (const mime::EnvelopeAddress& address : *list) {
    out += '(';
    if (address.name) {
      append_string_for_humans(out, until_nul(*address.name));
    } else {
      out += "NIL";
    }
    out += ' ';
    append_nstring_nolf(out, address.route);
    out += ' ';
    append_nstring_nolf(out, address.mailbox);
    out += ' ';
    append_nstring_nolf(out, address.host);
    out += ')';
  }
  out += ')';
}

void append_envelope(std::string& out, const mime::RawEnvelope& envelope) {
  append_nstring_nolf(out, envelope.date);
  out += ' ';
  if (envelope.subject) {
    append_string_for_humans(out, until_nul(*envelope.subject));
  } else {
    out += "NIL";
  }
  out += ' ';
  append_addresses(out, envelope.from);
  out += ' ';
  append_addresses(out, envelope.sender ? envelope.sender : envelope.from);
  out += ' ';
  append_addresses(out, envelope.reply_to ? envelope.reply_to : envelope.from);
  out += ' ';
  append_addresses(out, envelope.to);
  out += ' ';
  append_addresses(out, envelope.cc);
  out += ' ';
  append_addresses(out, envelope.bcc);
  out += ' ';
  append_nstring_nolf(out, envelope.in_reply_to);
  out += ' ';
  append_nstring_nolf(out, envelope.message_id);
}

// --- BODYSTRUCTURE -----------------------------------------------------------------------------

void append_parameters(std::string& out, const std::vector<mime::Parameter>& parameters, bool default_charset) {
  if (!default_charset && parameters.empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  bool seen_charset = false;
  bool first = true;
  for (const mime::Parameter& parameter : parameters) {
    if (!first) out += ' ';
    first = false;
    if (default_charset && parameter.name.size() == 7) {
      std::string lower = parameter.name;
      for (char& c : lower) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
      if (lower == "charset") seen_charset = true;
    }
    append_dovecot_string(out, parameter.name);
    out += ' ';
    append_dovecot_string(out, parameter.value);
  }
  if (default_charset && !seen_charset) {
    if (!first) out += ' ';
    out += "\"charset\" \"us-ascii\"";
  }
  out += ')';
}

// Disposition, language and location: the extension data every part type ends with.
void append_common_extension(std::string& out, const mime::Part& part) {
  out += ' ';
  if (!part.disposition) {
    out += "NIL";
  } else {
    out += '(';
    append_dovecot_string(out, *part.disposition);
    out += ' ';
    append_parameters(out, part.disposition_parameters, false);
    out += ')';
  }
  out += ' ';
  if (part.language.empty()) {
    out += "NIL";
  } else {
    out += '(';
    for (std::size_t i = 0; i < part.language.size(); ++i) {
      if (i > 0) out += ' ';
      append_dovecot_string(out, part.language[i]);
    }
    out += ')';
  }
  out += ' ';
  append_nstring_nolf(out, part.location);
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = (b[i] >= 'A' && b[i] <= 'Z') ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

constexpr const char* kEmptyBody = "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)";
constexpr const char* kEmptyBodyStructure =
    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)";

void append_part(std::string& out, const mime::Part& part, bool extensible);

void append_children(std::string& out, const std::vector<mime::Part>& children, bool extensible) {
  for (const mime::Part& child : children) {
    out += '(';
    append_part(out, child, extensible);
    out += ')';
  }
}

void append_multipart(std::string& out, const mime::Part& part, bool extensible) {
  if (!part.children.empty()) {
    append_children(out, part.children, extensible);
  } else {
    // A multipart without parts is not allowed; Dovecot reports one empty text/plain part.
    out += extensible ? kEmptyBodyStructure : kEmptyBody;
  }
  out += ' ';
  append_dovecot_string(out, part.subtype);
  if (!extensible) return;
  out += ' ';
  append_parameters(out, part.parameters, false);
  append_common_extension(out, part);
}

void append_basic(std::string& out, const mime::Part& part, bool extensible) {
  bool text = false;
  // Also a message/rfc822 part whose message was not parsed (nesting limit): the grammar
  // (RFC 3501 body-type-msg) needs the envelope and body anyway.
  bool message = part.message;
  if (message) {
    out += "\"message\" \"rfc822\"";
  } else if (!part.has_content_type) {
    text = true;
    out += "\"text\" \"plain\"";
  } else if (iequals_ascii(part.type, "multipart")) {
    // A "multipart" type that was not parsed as one (no subtype): clients would expect parts.
    out += "\"application\" \"octet-stream\"";
  } else {
    text = iequals_ascii(part.type, "text");
    append_dovecot_string(out, part.type);
    out += ' ';
    append_dovecot_string(out, part.subtype);
  }
  out += ' ';
  append_parameters(out, part.parameters, text);
  out += ' ';
  append_nstring_nolf(out, part.id);
  out += ' ';
  append_nstring_nolf(out, part.description);
  out += ' ';
  if (part.encoding) {
    append_dovecot_string(out, *part.encoding);
  } else {
    out += "\"7bit\"";
  }
  out += ' ';
  out += std::to_string(part.body.length);
  if (text) {
    out += ' ';
    out += std::to_string(part.body_lines);
  } else if (message) {
    const mime::Part* inner = mime::encapsulated_message(part);
    out += " (";
    if (inner != nullptr && inner->envelope) {
      append_envelope(out, *inner->envelope);
    } else {
      out += "NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL";
    }
    out += ") ";
    if (inner != nullptr) {
      append_children(out, part.children, extensible);
    } else {
      out += extensible ? kEmptyBodyStructure : kEmptyBody;
    }
    out += ' ';
    out += std::to_string(part.body_lines);
  }
  if (!extensible) return;
  out += ' ';
  append_nstring_nolf(out, part.md5);
  append_common_extension(out, part);
}

void append_part(std::string& out, const mime::Part& part, bool extensible) {
  if (part.multipart) {
    append_multipart(out, part, extensible);
  } else {
    append_basic(out, part, extensible);
  }
}

// --- Sections ----------------------------------------------------------------------------------

bool field_listed(std::string_view name, const std::vector<std::string>& fields) {
  for (const std::string& field : fields) {
    if (iequals_ascii(name, field)) return true;
  }
  return false;
}

// The header lines of `header` whose field is (or, with `exclude`, is not) in `fields`, with
// their continuation lines. Like Dovecot: HEADER.FIELDS ends with an empty line, except that a
// kept last line without line break (a message that is all header) is completed with CRLF
// instead; HEADER.FIELDS.NOT copies the lines as they are and ends with the header's own empty
// line, if it has one.
std::string filter_header(std::string_view header, const std::vector<std::string>& fields, bool exclude) {
  std::string out;
  std::size_t pos = 0;
  bool keep = false;
  bool have_field = false;
  while (pos < header.size()) {
    std::size_t lf = header.find('\n', pos);
    std::size_t next = lf == std::string_view::npos ? header.size() : lf + 1;
    std::string_view line = header.substr(pos, next - pos);
    if (line == "\r\n" || line == "\n") {
      if (exclude) out += line;
      break;
    }
    if ((line[0] == ' ' || line[0] == '\t') && have_field) {
      // a continuation line follows its field's decision
    } else {
      std::size_t colon = line.find(':');
      std::string_view name = line.substr(0, colon == std::string_view::npos ? line.size() : colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t' || name.back() == '\r' || name.back() == '\n')) {
        name.remove_suffix(1);
      }
      keep = field_listed(name, fields) != exclude;
      have_field = true;
    }
    bool last_without_newline = lf == std::string_view::npos;
    if (keep) {
      out += line;
      if (last_without_newline && !exclude) {
        // Completing the last line stands in for the missing empty line.
        out += "\r\n";
        return out;
      }
    }
    pos = next;
  }
  if (!exclude) out += "\r\n";
  return out;
}

std::string header_section(const mime::Part& part, std::string_view message, const SectionSpec& section) {
  std::string_view header = part.header.in(message);
  switch (section.text) {
    case SectionSpec::Text::header_fields:
      return filter_header(header, section.fields, false);
    case SectionSpec::Text::header_fields_not:
      return filter_header(header, section.fields, true);
    default:
      return std::string(header);
  }
}

}  // namespace

std::string render_body_structure(const mime::MessageStructure& structure, std::string_view /*message*/,
                                  bool extensible) {
  std::string out = "(";
  append_part(out, structure.root, extensible);
  out += ')';
  return out;
}

std::string render_envelope(const mime::RawEnvelope& envelope) {
  std::string out = "(";
  append_envelope(out, envelope);
  out += ')';
  return out;
}

namespace {

// Text from Graph is decoded UTF-8, but an IMAP4rev1 client expects header text as it is on the
// wire: 7-bit, non-ASCII in RFC 2047 encoded words. Each word carries whole UTF-8 characters and
// stays within the 75-character limit.
std::string encoded_words_if_needed(const std::string& text) {
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) return text;
  constexpr std::size_t kChunk = 45;  // 60 base64 characters + 12 of "=?utf-8?b?" "?="
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + kChunk);
    // Do not split a UTF-8 sequence: back up to a lead byte.
    while (end < text.size() && end > start + 1 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += ' ';
    out += "=?utf-8?b?" + crypto::base64_encode(std::string_view(text).substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

}  // namespace

std::string render_envelope(const mail::Envelope& envelope) {
  mime::RawEnvelope raw;
  if (envelope.date) {
    auto days = std::chrono::floor<std::chrono::days>(*envelope.date);
    std::chrono::year_month_day ymd{days};
    std::chrono::hh_mm_ss time{*envelope.date - days};
    std::chrono::weekday weekday{days};
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%s, %u %s %d %02d:%02d:%02d +0000", kDays[weekday.c_encoding()],
                  static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                  static_cast<int>(ymd.year()), static_cast<int>(time.hours().count()),
                  static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()));
    raw.date = buffer;
  }
  if (!envelope.subject.empty()) raw.subject = encoded_words_if_needed(envelope.subject);
  auto convert = [](const std::vector<mail::Address>& list) -> std::optional<std::vector<mime::EnvelopeAddress>> {
    if (list.empty()) return std::nullopt;
    std::vector<mime::EnvelopeAddress> out;
    for (const mail::Address& address : list) {
      mime::EnvelopeAddress converted;
      if (!address.name.empty()) converted.name = encoded_words_if_needed(address.name);
      std::size_t at = address.address.rfind('@');
      if (at == std::string::npos) {
        converted.mailbox = address.address.empty() ? std::string("MISSING_MAILBOX") : address.address;
        converted.host = "MISSING_DOMAIN";
      } else {
        converted.mailbox = address.address.substr(0, at);
        converted.host = address.address.substr(at + 1);
      }
      out.push_back(std::move(converted));
    }
    return out;
  };
  raw.from = convert(envelope.from);
  raw.sender = convert(envelope.sender);
  raw.reply_to = convert(envelope.reply_to);
  raw.to = convert(envelope.to);
  raw.cc = convert(envelope.cc);
  raw.bcc = convert(envelope.bcc);
  if (!envelope.in_reply_to.empty()) raw.in_reply_to = envelope.in_reply_to;
  if (!envelope.message_id.empty()) raw.message_id = envelope.message_id;
  return render_envelope(raw);
}

namespace {

// IMAP literals cannot carry NUL (RFC 3501 4.3); like Dovecot, send 0x80 instead, keeping sizes.
std::string without_nul(std::string bytes) {
  for (char& c : bytes) {
    if (c == '\0') c = static_cast<char>(0x80);
  }
  return bytes;
}

std::string raw_section_bytes(const mime::MessageStructure& structure, std::string_view message,
                              const SectionSpec& section);

}  // namespace

std::string section_bytes(const mime::MessageStructure& structure, std::string_view message,
                          const SectionSpec& section) {
  return without_nul(raw_section_bytes(structure, message, section));
}

namespace {

std::string raw_section_bytes(const mime::MessageStructure& structure, std::string_view message,
                              const SectionSpec& section) {
  const mime::Part* part = mime::find_part(structure, section.part);
  if (part == nullptr) return {};
  if (section.part.empty()) {
    switch (section.text) {
      case SectionSpec::Text::none:
        return std::string(structure.root.whole.in(message));
      case SectionSpec::Text::text:
        return std::string(structure.root.body.in(message));
      default:
        return header_section(structure.root, message, section);
    }
  }
  switch (section.text) {
    case SectionSpec::Text::none:
      return std::string(part->body.in(message));
    case SectionSpec::Text::mime:
      return std::string(part->header.in(message));
    case SectionSpec::Text::text: {
      const mime::Part* inner = mime::encapsulated_message(*part);
      return inner == nullptr ? std::string() : std::string(inner->body.in(message));
    }
    default: {
      const mime::Part* inner = mime::encapsulated_message(*part);
      return inner == nullptr ? std::string() : header_section(*inner, message, section);
    }
  }
}

}  // namespace

std::string_view apply_partial(std::string_view bytes, const std::optional<Partial>& partial) {
  if (!partial) return bytes;
  if (partial->offset >= bytes.size()) return {};
  return bytes.substr(partial->offset, partial->length);
}

std::string section_label(const SectionSpec& section, const std::optional<Partial>& partial) {
  std::string out = "BODY[";
  for (std::size_t i = 0; i < section.part.size(); ++i) {
    if (i > 0) out += '.';
    out += std::to_string(section.part[i]);
  }
  const char* text = nullptr;
  switch (section.text) {
    case SectionSpec::Text::none: break;
    case SectionSpec::Text::header: text = "HEADER"; break;
    case SectionSpec::Text::header_fields: text = "HEADER.FIELDS"; break;
    case SectionSpec::Text::header_fields_not: text = "HEADER.FIELDS.NOT"; break;
    case SectionSpec::Text::text: text = "TEXT"; break;
    case SectionSpec::Text::mime: text = "MIME"; break;
  }
  if (text != nullptr) {
    if (!section.part.empty()) out += '.';
    out += text;
  }
  if (section.text == SectionSpec::Text::header_fields || section.text == SectionSpec::Text::header_fields_not) {
    out += " (";
    for (std::size_t i = 0; i < section.fields.size(); ++i) {
      if (i > 0) out += ' ';
      std::string upper = section.fields[i];
      for (char& c : upper) c = static_cast<char>((c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c);
      append_astring(out, upper);
    }
    out += ')';
  }
  out += ']';
  if (partial) {
    out += '<';
    out += std::to_string(partial->offset);
    out += '>';
  }
  return out;
}

}  // namespace mailtrixy::imap
