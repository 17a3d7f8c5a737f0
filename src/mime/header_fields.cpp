#include "header_fields.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include "rfc822_lexer.hpp"

namespace mailtrixy::mime::detail {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// Content-Type: "type/subtype" as Dovecot reads it: on a broken value the type and subtype are
// empty, and parameters are read only when the type itself was fine.
void parse_content_type(Part& part, std::string_view value) {
  Rfc822Lexer lexer(value);
  lexer.skip_lwsp();
  std::string type;
  int ret = lexer.parse_content_type(type);
  std::size_t slash = type.find('/');
  if (slash == std::string::npos) {
    part.type = type;
    part.subtype.clear();
  } else {
    part.type = type.substr(0, slash);
    part.subtype = type.substr(slash + 1);
  }
  part.has_content_type = true;
  if (ret < 0) return;
  part.parameters = parse_parameters(lexer);
}

void parse_transfer_encoding(Part& part, std::string_view value) {
  Rfc822Lexer lexer(value);
  lexer.skip_lwsp();
  std::string token;
  if (lexer.parse_mime_token(token) >= 0 && lexer.skip_lwsp() == 0 && !token.empty()) {
    part.encoding = token;
  }
}

void parse_disposition(Part& part, std::string_view value) {
  Rfc822Lexer lexer(value);
  lexer.skip_lwsp();
  std::string token;
  if (lexer.parse_mime_token(token) < 0) return;
  part.disposition = token;
  part.disposition_parameters = parse_parameters(lexer);
}

void parse_language(Part& part, std::string_view value) {
  Rfc822Lexer lexer(value);
  std::vector<std::string> languages;
  lexer.skip_lwsp();
  std::string tag;
  while (lexer.parse_atom(tag) >= 0) {
    languages.push_back(tag);
    tag.clear();
    if (lexer.at_end() || lexer.cur() != ',') break;
    lexer.advance();
    lexer.skip_lwsp();
  }
  if (!languages.empty()) part.language = std::move(languages);
}

void escape_percent(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '%') {
      out += "%25";
    } else {
      out.push_back(c);
    }
  }
}

constexpr int kMaxParameterAttempts = 127;

struct Rfc2231Piece {
  std::string key;
  std::string value;
  unsigned index = 0;
  bool extended = false;
};

}  // namespace

std::string header_string(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\0') {
      out += kNulReplacement;
    } else {
      out += c;
    }
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::vector<RawField> split_header_fields(std::string_view header) {
  std::vector<RawField> fields;
  std::size_t pos = 0;
  bool have_current = false;
  while (pos < header.size()) {
    std::size_t lf = header.find('\n', pos);
    std::size_t line_end = lf == std::string_view::npos ? header.size() : lf;
    std::size_t next = lf == std::string_view::npos ? header.size() : lf + 1;
    std::size_t content_end = line_end;
    if (lf != std::string_view::npos && content_end > pos && header[content_end - 1] == '\r') --content_end;
    std::string_view content = header.substr(pos, content_end - pos);
    if (content.empty() && lf != std::string_view::npos) break;  // the empty line ending the header
    if ((content.starts_with(' ') || content.starts_with('\t')) && have_current) {
      // A continuation line: the value grows to the end of this line, line breaks included.
      RawField& field = fields.back();
      const char* value_begin = field.value.data();
      field.value = std::string_view(value_begin, static_cast<std::size_t>(header.data() + content_end - value_begin));
    } else {
      std::size_t colon = content.find(':');
      RawField field;
      if (colon == std::string_view::npos) {
        // Not a field; its name stays empty so it never matches (Dovecot ignores it too).
        field.value = std::string_view(content.data() + content.size(), 0);
      } else {
        std::string_view name = content.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
        field.name = name;
        std::size_t value_start = colon + 1;
        while (value_start < content.size() && (content[value_start] == ' ' || content[value_start] == '\t')) {
          ++value_start;
        }
        field.value = content.substr(value_start);
      }
      fields.push_back(field);
      have_current = true;
    }
    pos = next;
  }
  return fields;
}

std::vector<Parameter> parse_parameters(Rfc822Lexer& lexer) {
  std::vector<Parameter> plain;
  std::vector<Rfc2231Piece> pieces;
  // Dovecot keeps the index of the previous "name*N" for a later "name*" (no index); so do we,
  // so that such parameters come out the same ("name*2*").
  unsigned last_index = 0;
  std::string name;
  std::string value;
  int ret;
  // Dovecot gives up after 127 attempts (parameters read or broken bytes skipped); so do we,
  // which also bounds the work on hostile input.
  int attempts = 0;
  while ((ret = lexer.parse_content_param(name, value)) != 0) {
    if (++attempts > kMaxParameterAttempts) break;
    if (ret < 0) {
      // Broken parameter: skip a byte and try to continue, like Dovecot.
      if (lexer.at_end()) break;
      lexer.advance();
      continue;
    }
    std::size_t star = name.find('*');
    bool rfc2231 = false;
    if (star != std::string::npos) {
      Rfc2231Piece piece;
      piece.index = last_index;
      std::size_t p = star;
      if (p + 1 < name.size()) {
        ++p;
        std::uint32_t index = 0;  // wraps around on overflow, like Dovecot's unsigned int
        while (p < name.size() && name[p] >= '0' && name[p] <= '9') {
          index = index * 10u + static_cast<std::uint32_t>(name[p] - '0');
          ++p;
        }
        piece.index = index;
        last_index = piece.index;
      }
      if (p < name.size() && name[p] == '*') {
        piece.extended = true;
        ++p;
      }
      if (p == name.size()) {
        piece.key = name.substr(0, star);
        piece.value = value;
        pieces.push_back(std::move(piece));
        rfc2231 = true;
      }
    }
    if (!rfc2231) plain.push_back(Parameter{name, value});
  }
  if (pieces.empty()) return plain;

  // Join "key*0", "key*1"... in index order. Like Dovecot, the pieces are sorted by key
  // case-sensitively and then grouped case-insensitively.
  std::stable_sort(pieces.begin(), pieces.end(), [](const Rfc2231Piece& a, const Rfc2231Piece& b) {
    int order = a.key.compare(b.key);
    if (order != 0) return order < 0;
    return a.index < b.index;
  });
  std::size_t i = 0;
  while (i < pieces.size()) {
    bool complete = true;
    bool have_extended = false;
    unsigned next_index = 0;
    std::size_t j = i;
    for (; j < pieces.size() && iequals(pieces[i].key, pieces[j].key); ++j) {
      if (pieces[j].index != next_index) complete = false;
      if (pieces[j].extended) have_extended = true;
      ++next_index;
    }
    if (!complete) {
      for (std::size_t k = i; k < j; ++k) {
        std::string key = pieces[k].key + "*" + std::to_string(pieces[k].index);
        if (pieces[k].extended) key += "*";
        plain.push_back(Parameter{key, pieces[k].value});
      }
    } else {
      std::string joined;
      if (!pieces[i].extended && have_extended) joined += "''";
      for (std::size_t k = i; k < j; ++k) {
        if (!pieces[k].extended && have_extended) {
          escape_percent(joined, pieces[k].value);
        } else {
          joined += pieces[k].value;
        }
      }
      std::string key = pieces[i].key;
      if (have_extended) key += "*";
      plain.push_back(Parameter{key, joined});
    }
    i = j;
  }
  return plain;
}

void apply_content_fields(Part& part, const std::vector<RawField>& fields, bool is_mime) {
  if (!is_mime) return;
  bool seen_type = false;
  for (const RawField& field : fields) {
    if (!istarts_with(field.name, "Content-")) continue;
    std::string_view name = field.name.substr(8);
    std::string_view value = field.value;
    if (iequals(name, "ID")) {
      if (!part.id) part.id = header_string(value);
    } else if (iequals(name, "MD5")) {
      if (!part.md5) part.md5 = header_string(value);
    } else if (iequals(name, "Type")) {
      if (!seen_type) {
        seen_type = true;
        parse_content_type(part, value);
      }
    } else if (iequals(name, "Transfer-Encoding")) {
      if (!part.encoding) parse_transfer_encoding(part, value);
    } else if (iequals(name, "Language")) {
      if (part.language.empty()) parse_language(part, value);
    } else if (iequals(name, "Location")) {
      if (!part.location) part.location = header_string(value);
    } else if (iequals(name, "Description")) {
      if (!part.description) part.description = header_string(value);
    } else if (iequals(name, "Disposition")) {
      // Dovecot reads a later Content-Disposition again while the earlier had no parameters.
      if (part.disposition_parameters.empty()) parse_disposition(part, value);
    }
  }
}

std::optional<std::vector<EnvelopeAddress>> parse_envelope_addresses(std::string_view value);

namespace {

// Repeated address fields add up (Dovecot lists every To: of a message); other fields: last wins.
void append_addresses(std::optional<std::vector<EnvelopeAddress>>& list, std::string_view value) {
  std::optional<std::vector<EnvelopeAddress>> parsed = parse_envelope_addresses(value);
  if (!parsed) return;
  if (!list) {
    list = std::move(parsed);
  } else {
    list->insert(list->end(), parsed->begin(), parsed->end());
  }
}

}  // namespace

RawEnvelope envelope_from_fields(const std::vector<RawField>& fields) {
  RawEnvelope envelope;
  for (const RawField& field : fields) {
    std::string_view name = field.name;
    if (iequals(name, "Date")) {
      envelope.date = header_string(field.value);
    } else if (iequals(name, "Subject")) {
      envelope.subject = header_string(field.value);
    } else if (iequals(name, "Message-ID")) {
      envelope.message_id = header_string(field.value);
    } else if (iequals(name, "In-Reply-To")) {
      envelope.in_reply_to = header_string(field.value);
    } else if (iequals(name, "From")) {
      append_addresses(envelope.from, field.value);
    } else if (iequals(name, "Sender")) {
      append_addresses(envelope.sender, field.value);
    } else if (iequals(name, "Reply-To")) {
      append_addresses(envelope.reply_to, field.value);
    } else if (iequals(name, "To")) {
      append_addresses(envelope.to, field.value);
    } else if (iequals(name, "Cc")) {
      append_addresses(envelope.cc, field.value);
    } else if (iequals(name, "Bcc")) {
      append_addresses(envelope.bcc, field.value);
    }
  }
  return envelope;
}

}  // namespace mailtrixy::mime::detail
