#include "mime_message.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>

namespace mailtrixy::emulator::mime {
namespace {

constexpr int kMaxDepth = 24;  // nested multiparts deeper than this are read as opaque

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// ---------------------------------------------------------------------------------------------
// UTF-8

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not valid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char first = byte(i);
  if (first < 0x80) return 1;
  std::size_t length = 0;
  std::uint32_t cp = 0;
  if ((first & 0xE0) == 0xC0) {
    length = 2;
    cp = first & 0x1F;
  } else if ((first & 0xF0) == 0xE0) {
    length = 3;
    cp = first & 0x0F;
  } else if ((first & 0xF8) == 0xF0) {
    length = 4;
    cp = first & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr std::array<std::uint32_t, 5> kMinimum = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

// Windows-1252 0x80..0x9F; the rest of the upper half equals Latin-1.
constexpr std::array<std::uint16_t, 32> kCp1252High = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

std::string cp1252_to_utf8(std::string_view bytes, bool strict_latin1) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out += c;
    } else if (b < 0xA0 && !strict_latin1) {
      append_utf8(out, kCp1252High[b - 0x80]);
    } else {
      append_utf8(out, b);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Transfer encodings

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Lenient: skips whitespace and junk, stops at padding, drops an incomplete last group's bits.
std::string decode_base64_lenient(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t group = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const int v = base64_value(c);
    if (v < 0) continue;
    group = (group << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((group >> bits) & 0xFF);
    }
  }
  return out;
}

std::string decode_quoted_printable(std::string_view text, bool underscore_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      // Soft line break: "=" followed by optional blanks and a line end.
      std::size_t j = i + 1;
      while (j < text.size() && is_blank(text[j])) ++j;
      if (j < text.size() && (text[j] == '\r' || text[j] == '\n')) {
        if (text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n') ++j;
        i = j;
        continue;
      }
      if (j == text.size()) break;
      if (i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
        out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
        i += 2;
        continue;
      }
      out += c;  // a lone '=' is kept, as most readers do
    } else if (c == '_' && underscore_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Structured header values: Content-Type and Content-Disposition.

struct ParameterizedValue {
  std::string value;                          // lower case, e.g. "multipart/mixed"
  std::map<std::string, std::string> params;  // lower-case names, decoded values (UTF-8)
};

std::string percent_decode_2231(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

ParameterizedValue parse_parameterized(std::string_view raw) {
  ParameterizedValue result;
  std::size_t i = 0;
  const auto skip_space = [&] {
    while (i < raw.size() && (is_space(raw[i]))) ++i;
  };
  skip_space();
  const std::size_t start = i;
  while (i < raw.size() && raw[i] != ';') ++i;
  result.value = to_lower(trim(raw.substr(start, i - start)));
  // RFC 2231 pieces: name*0, name*1*, ... collected then joined.
  std::map<std::string, std::map<int, std::pair<std::string, bool>>> pieces;
  while (i < raw.size()) {
    ++i;  // ';'
    skip_space();
    const std::size_t name_start = i;
    while (i < raw.size() && raw[i] != '=' && raw[i] != ';') ++i;
    std::string name = to_lower(trim(raw.substr(name_start, i - name_start)));
    if (i >= raw.size() || raw[i] == ';') continue;
    ++i;  // '='
    skip_space();
    std::string value;
    if (i < raw.size() && raw[i] == '"') {
      ++i;
      while (i < raw.size() && raw[i] != '"') {
        if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
        value += raw[i++];
      }
      if (i < raw.size()) ++i;
      while (i < raw.size() && raw[i] != ';') ++i;
    } else {
      const std::size_t value_start = i;
      while (i < raw.size() && raw[i] != ';') ++i;
      value = std::string(trim(raw.substr(value_start, i - value_start)));
    }
    if (name.empty()) continue;
    const std::size_t star = name.find('*');
    if (star == std::string::npos) {
      result.params.emplace(name, decode_header_text(value));
      continue;
    }
    const std::string base = name.substr(0, star);
    std::string_view rest = std::string_view(name).substr(star + 1);
    // "name*" is one encoded value; "name*0", "name*1*", ... are numbered pieces.
    const bool encoded = rest.empty() || rest.back() == '*';
    if (!rest.empty() && rest.back() == '*') rest.remove_suffix(1);
    if (rest.empty()) {
      pieces[base][0] = {value, encoded};
    } else {
      int index = 0;
      for (char c : rest) {
        if (c < '0' || c > '9') {
          index = -1;
          break;
        }
        index = index * 10 + (c - '0');
        if (index > 1000) break;
      }
      if (index >= 0) pieces[base][index] = {value, encoded};
    }
  }
  for (auto& [base, parts] : pieces) {
    std::string charset;
    std::string joined;
    bool first = true;
    for (auto& [index, piece] : parts) {
      std::string_view text = piece.first;
      if (piece.second) {
        if (first) {
          // charset'language'value
          const std::size_t q1 = text.find('\'');
          const std::size_t q2 = q1 == std::string_view::npos ? q1 : text.find('\'', q1 + 1);
          if (q2 != std::string_view::npos) {
            charset = std::string(text.substr(0, q1));
            text = text.substr(q2 + 1);
          }
        }
        joined += percent_decode_2231(text);
      } else {
        joined += text;
      }
      first = false;
    }
    result.params[base] = to_utf8(joined, charset.empty() ? "utf-8" : charset);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// MIME tree walking

struct Entity {
  HeaderBlock headers;
  std::string_view body;
  ParameterizedValue content_type;
  ParameterizedValue disposition;
  std::string transfer_encoding;
};

Entity read_entity(std::string_view text, std::string_view default_type) {
  Entity entity;
  entity.headers = parse_header_block(text);
  entity.body = text.substr(std::min(entity.headers.body_offset, text.size()));
  const auto type = entity.headers.get("Content-Type");
  entity.content_type = parse_parameterized(type ? *type : std::string_view{});
  if (entity.content_type.value.find('/') == std::string::npos) {
    entity.content_type.value = std::string(default_type);
  }
  if (const auto disposition = entity.headers.get("Content-Disposition")) {
    entity.disposition = parse_parameterized(*disposition);
  }
  if (const auto encoding = entity.headers.get("Content-Transfer-Encoding")) {
    entity.transfer_encoding = to_lower(trim(*encoding));
  }
  return entity;
}

std::string decode_body(const Entity& entity) {
  if (entity.transfer_encoding == "base64") return decode_base64_lenient(entity.body);
  if (entity.transfer_encoding == "quoted-printable") return decode_quoted_printable(entity.body, false);
  return std::string(entity.body);
}

// The bodies of a multipart entity, between its boundary delimiter lines.
std::vector<std::string_view> split_multipart(std::string_view body, std::string_view boundary) {
  std::vector<std::string_view> parts;
  if (boundary.empty()) return parts;
  const std::string delimiter = "--" + std::string(boundary);
  std::size_t part_start = std::string_view::npos;
  std::size_t line_start = 0;
  while (line_start <= body.size()) {
    std::size_t line_end = body.find('\n', line_start);
    const bool last_line = line_end == std::string_view::npos;
    if (last_line) line_end = body.size();
    std::string_view line = body.substr(line_start, line_end - line_start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() >= delimiter.size() && line.substr(0, delimiter.size()) == delimiter) {
      std::string_view rest = line.substr(delimiter.size());
      const bool closing = rest.size() >= 2 && rest.substr(0, 2) == "--";
      if (closing) rest.remove_prefix(2);
      if (trim(rest).empty()) {
        if (part_start != std::string_view::npos) {
          // The line break before the delimiter belongs to the delimiter.
          std::size_t part_end = line_start;
          if (part_end > part_start && body[part_end - 1] == '\n') --part_end;
          if (part_end > part_start && body[part_end - 1] == '\r') --part_end;
          parts.push_back(body.substr(part_start, part_end - part_start));
        }
        if (closing) return parts;
        part_start = last_line ? body.size() : line_end + 1;
      }
    }
    if (last_line) break;
    line_start = line_end + 1;
  }
  if (part_start != std::string_view::npos && part_start < body.size()) {
    parts.push_back(body.substr(part_start));  // no closing delimiter: read to the end
  }
  return parts;
}

std::string attachment_name(const Entity& entity) {
  auto it = entity.disposition.params.find("filename");
  if (it != entity.disposition.params.end() && !it->second.empty()) return it->second;
  it = entity.content_type.params.find("name");
  if (it != entity.content_type.params.end() && !it->second.empty()) return it->second;
  return {};
}

void walk(std::string_view text, std::string_view default_type, int depth, bool with_bytes,
          Content& content) {
  const Entity entity = read_entity(text, default_type);
  const std::string& type = entity.content_type.value;
  if (type.rfind("multipart/", 0) == 0 && depth < kMaxDepth) {
    const auto boundary = entity.content_type.params.find("boundary");
    if (boundary != entity.content_type.params.end()) {
      const std::string_view child_default = type == "multipart/digest" ? "message/rfc822" : "text/plain";
      for (std::string_view part : split_multipart(entity.body, boundary->second)) {
        walk(part, child_default, depth + 1, with_bytes, content);
      }
      return;
    }
  }
  const std::string name = attachment_name(entity);
  const std::string& disposition = entity.disposition.value;
  const bool is_text_body = (type == "text/plain" || type == "text/html") && disposition != "attachment" &&
                            (name.empty() || disposition == "inline");
  if (is_text_body) {
    std::optional<std::string>& target = type == "text/plain" ? content.text : content.html;
    if (!target) {
      const auto charset = entity.content_type.params.find("charset");
      target =
          to_utf8(decode_body(entity), charset == entity.content_type.params.end() ? "" : charset->second);
      return;
    }
    // A further text part: Outlook lists it as an attachment only when it has a name.
    if (name.empty()) return;
  }
  Attachment attachment;
  attachment.is_item = type == "message/rfc822";
  attachment.name = name;
  if (attachment.name.empty() && attachment.is_item) {
    const HeaderBlock inner = parse_header_block(entity.body);
    const auto subject = inner.get("Subject");
    attachment.name = subject ? decode_header_text(*subject) : "Untitled";
  }
  if (attachment.name.empty() && type.rfind("text/", 0) == 0 && disposition.empty()) return;
  attachment.content_type = type;
  if (const auto id = entity.headers.get("Content-ID")) {
    std::string_view cid = trim(*id);
    if (!cid.empty() && cid.front() == '<') cid.remove_prefix(1);
    if (!cid.empty() && cid.back() == '>') cid.remove_suffix(1);
    attachment.content_id = std::string(cid);
  }
  attachment.is_inline = disposition == "inline" || (disposition.empty() && !attachment.content_id.empty() &&
                                                     type.rfind("image/", 0) == 0);
  if (attachment.is_inline && attachment.is_item) attachment.is_inline = false;
  if (attachment.name.empty()) attachment.name = attachment.is_inline ? "image" : "attachment";
  if (with_bytes) attachment.bytes = attachment.is_item ? std::string(entity.body) : decode_body(entity);
  content.attachments.push_back(std::move(attachment));
}

// ---------------------------------------------------------------------------------------------
// Dates

int month_number(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                               "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() < 3) return 0;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (iequals(name.substr(0, 3), kMonths[i])) return static_cast<int>(i) + 1;
  }
  return 0;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

std::optional<int> zone_offset_minutes(std::string_view zone) {
  if (zone.empty()) return 0;
  if (zone[0] == '+' || zone[0] == '-') {
    if (zone.size() < 5) return std::nullopt;
    int value = 0;
    for (std::size_t i = 1; i < 5; ++i) {
      if (zone[i] < '0' || zone[i] > '9') return std::nullopt;
      value = value * 10 + (zone[i] - '0');
    }
    const int minutes = (value / 100) * 60 + value % 100;
    return zone[0] == '-' ? -minutes : minutes;
  }
  static const std::map<std::string, int> kZones = {
      {"ut", 0},        {"utc", 0},       {"gmt", 0},       {"z", 0},         {"est", -5 * 60},
      {"edt", -4 * 60}, {"cst", -6 * 60}, {"cdt", -5 * 60}, {"mst", -7 * 60}, {"mdt", -6 * 60},
      {"pst", -8 * 60}, {"pdt", -7 * 60}, {"cet", 60},      {"cest", 120},    {"met", 60},
      {"mest", 120},    {"bst", 60},      {"eet", 120},     {"eest", 180},    {"wet", 0},
      {"west", 60},     {"jst", 9 * 60},  {"ist", 330}};
  const auto it = kZones.find(to_lower(zone));
  if (it != kZones.end()) return it->second;
  return 0;  // military and unknown zones: RFC 5322 says treat as -0000
}

}  // namespace

// ---------------------------------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> HeaderBlock::get(std::string_view name) const {
  for (const auto& field : fields) {
    if (iequals(field.name, name)) return std::string_view(field.value);
  }
  return std::nullopt;
}

HeaderBlock parse_header_block(std::string_view entity) {
  HeaderBlock block;
  std::size_t pos = 0;
  bool current_open = false;  // a field that may take continuation lines
  while (pos < entity.size()) {
    std::size_t end = entity.find('\n', pos);
    const std::size_t next = end == std::string_view::npos ? entity.size() : end + 1;
    if (end == std::string_view::npos) end = entity.size();
    std::string_view line = entity.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      block.body_offset = next;
      return block;
    }
    if (is_blank(line.front())) {
      if (current_open) {
        std::string& value = block.fields.back().value;
        std::string_view continuation = line;
        while (!continuation.empty() && is_blank(continuation.front())) continuation.remove_prefix(1);
        if (!value.empty()) value += ' ';
        value += continuation;
      }
    } else {
      const std::size_t colon = line.find(':');
      const bool valid_name = colon != std::string_view::npos && colon > 0 &&
                              std::none_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                                           [](char c) { return c == ' ' || c == '\t'; });
      if (valid_name) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && is_blank(value.front())) value.remove_prefix(1);
        while (!value.empty() && is_blank(value.back())) value.remove_suffix(1);
        block.fields.push_back({std::string(line.substr(0, colon)), std::string(value)});
        current_open = true;
      } else if (block.fields.empty() && colon == std::string_view::npos && pos == 0 &&
                 line.rfind("From ", 0) != 0) {
        // Not a header at all (a message without headers): everything is body.
        block.body_offset = 0;
        return block;
      } else {
        current_open = false;  // mbox "From " lines and garbage are skipped
      }
    }
    pos = next;
  }
  block.body_offset = entity.size();
  return block;
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    // ASCII fast path: most text in mail headers and JSON is plain ASCII.
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize_utf8(std::string_view text) {
  if (is_valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      append_utf8(out, 0xFFFD);
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string to_utf8(std::string_view bytes, std::string_view charset) {
  const std::string name = to_lower(trim(charset));
  if (name == "iso-8859-1" || name == "latin1" || name == "iso8859-1" || name == "l1") {
    return cp1252_to_utf8(bytes, true);
  }
  if (name == "windows-1252" || name == "cp1252" || name == "iso-8859-15" || name == "iso8859-15") {
    return cp1252_to_utf8(bytes, false);
  }
  if (is_valid_utf8(bytes)) return std::string(bytes);
  if (name.empty() || name == "us-ascii" || name == "ascii" || name == "utf-8" || name == "utf8") {
    // Declared ASCII/UTF-8 but not valid: mail in the wild is then nearly always Windows-1252.
    return name == "utf-8" || name == "utf8" ? sanitize_utf8(bytes) : cp1252_to_utf8(bytes, false);
  }
  return cp1252_to_utf8(bytes, false);
}

std::string decode_header_text(std::string_view raw) {
  std::string out;
  std::size_t i = 0;
  bool previous_was_encoded = false;
  std::size_t pending_space_start = std::string::npos;  // whitespace after an encoded word
  std::string pending_plain;
  while (i < raw.size()) {
    if (raw[i] == '=' && i + 1 < raw.size() && raw[i + 1] == '?') {
      // =?charset?encoding?text?=
      const std::size_t q1 = raw.find('?', i + 2);
      const std::size_t q2 = q1 == std::string_view::npos ? q1 : raw.find('?', q1 + 1);
      const std::size_t end = q2 == std::string_view::npos ? q2 : raw.find("?=", q2 + 1);
      if (end != std::string_view::npos && q2 == q1 + 2) {
        std::string_view charset = raw.substr(i + 2, q1 - i - 2);
        const std::size_t star = charset.find('*');
        if (star != std::string_view::npos) charset = charset.substr(0, star);
        const char encoding = lower(raw[q1 + 1]);
        const std::string_view text = raw.substr(q2 + 1, end - q2 - 1);
        if (encoding == 'b' || encoding == 'q') {
          const std::string bytes =
              encoding == 'b' ? decode_base64_lenient(text) : decode_quoted_printable(text, true);
          if (!previous_was_encoded) out += to_utf8(pending_plain, "");
          pending_plain.clear();
          pending_space_start = std::string::npos;
          out += to_utf8(bytes, charset);
          previous_was_encoded = true;
          i = end + 2;
          continue;
        }
      }
    }
    if (previous_was_encoded && is_space(raw[i])) {
      // Whitespace between two encoded words is dropped; keep it until we know.
      if (pending_space_start == std::string::npos) pending_space_start = pending_plain.size();
      pending_plain += raw[i];
      ++i;
      continue;
    }
    if (previous_was_encoded) {
      out += pending_plain;
      pending_plain.clear();
      pending_space_start = std::string::npos;
      previous_was_encoded = false;
    }
    pending_plain += raw[i];
    ++i;
  }
  out += to_utf8(pending_plain, "");
  return out;
}

std::vector<Address> parse_address_list(std::string_view raw) {
  std::vector<Address> result;
  // Split into top-level items at ',' (and ';' ending a group), honouring quotes, comments and <>.
  std::vector<std::string> items;
  std::string current;
  int comment_depth = 0;
  bool in_quote = false;
  bool in_angle = false;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (in_quote) {
      current += c;
      if (c == '\\' && i + 1 < raw.size()) {
        current += raw[++i];
      } else if (c == '"') {
        in_quote = false;
      }
      continue;
    }
    if (comment_depth > 0) {
      current += c;
      if (c == '\\' && i + 1 < raw.size()) {
        current += raw[++i];
      } else if (c == '(') {
        ++comment_depth;
      } else if (c == ')') {
        --comment_depth;
      }
      continue;
    }
    if (c == '"') {
      in_quote = true;
    } else if (c == '(') {
      comment_depth = 1;
    } else if (c == '<') {
      in_angle = true;
    } else if (c == '>') {
      in_angle = false;
    } else if (!in_angle && c == ':') {
      // "group name: a, b;" — drop the group's name.
      current.clear();
      continue;
    } else if (!in_angle && (c == ',' || c == ';')) {
      items.push_back(std::move(current));
      current.clear();
      continue;
    }
    current += c;
  }
  items.push_back(std::move(current));

  for (const std::string& item_text : items) {
    std::string_view item = trim(item_text);
    if (item.empty()) continue;
    Address address;
    std::string comment;
    // Remove comments, remembering the first one as a possible display name.
    std::string without_comments;
    int depth = 0;
    bool quote = false;
    for (std::size_t i = 0; i < item.size(); ++i) {
      const char c = item[i];
      if (quote) {
        without_comments += c;
        if (c == '\\' && i + 1 < item.size())
          without_comments += item[++i];
        else if (c == '"')
          quote = false;
        continue;
      }
      if (depth > 0) {
        if (c == '(')
          ++depth;
        else if (c == ')')
          --depth;
        else if (comment.size() < 256)
          comment += c;
        continue;
      }
      if (c == '"') quote = true;
      if (c == '(') {
        depth = 1;
        if (!comment.empty()) comment += ' ';
        continue;
      }
      without_comments += c;
    }
    std::string_view text = trim(without_comments);
    const std::size_t open = text.rfind('<');
    std::string display;
    if (open != std::string_view::npos) {
      const std::size_t close = text.find('>', open);
      std::string_view addr =
          text.substr(open + 1, (close == std::string_view::npos ? text.size() : close) - open - 1);
      // Source routes "<@a,@b:user@host>".
      if (const std::size_t colon = addr.rfind(':');
          colon != std::string_view::npos && !addr.empty() && addr.front() == '@') {
        addr = addr.substr(colon + 1);
      }
      address.address = std::string(trim(addr));
      display = std::string(trim(text.substr(0, open)));
    } else {
      address.address = std::string(text);
      display = std::string(trim(comment));
    }
    // Unquote the display name.
    std::string unquoted;
    for (std::size_t i = 0; i < display.size(); ++i) {
      if (display[i] == '"') continue;
      if (display[i] == '\\' && i + 1 < display.size()) {
        unquoted += display[++i];
        continue;
      }
      unquoted += display[i];
    }
    address.name = std::string(trim(decode_header_text(unquoted)));
    // Addresses themselves are ASCII in practice; anything else is sanitised.
    address.address.erase(std::remove_if(address.address.begin(), address.address.end(),
                                         [](char c) { return is_space(c) || c == '"'; }),
                          address.address.end());
    address.address = sanitize_utf8(address.address);
    if (address.address.empty()) continue;
    if (address.address.find('@') == std::string::npos && !address.name.empty()) continue;
    result.push_back(std::move(address));
  }
  return result;
}

std::optional<TimePoint> parse_date(std::string_view raw) {
  // Tokenise on spaces and commas; pick the fields by their shape, which copes with the many
  // variants (missing weekday, "16 Nov 23", "Tue, 16 Nov 2023 5:42:46 GMT", zone comments).
  std::string text;
  int depth = 0;
  for (char c : raw) {
    if (c == '(')
      ++depth;
    else if (c == ')' && depth > 0)
      --depth;
    else if (depth == 0)
      text += (c == ',' ? ' ' : c);
  }
  std::vector<std::string_view> tokens;
  std::string_view view = text;
  while (!view.empty()) {
    while (!view.empty() && is_space(view.front())) view.remove_prefix(1);
    std::size_t n = 0;
    while (n < view.size() && !is_space(view[n])) ++n;
    if (n > 0) tokens.push_back(view.substr(0, n));
    view.remove_prefix(n);
  }
  int day = -1, month = 0, hour = -1, minute = 0, second = 0;
  long long year = -1;
  std::optional<int> zone;
  const auto all_digits = [](std::string_view t) {
    return !t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  for (std::string_view token : tokens) {
    if (token.find(':') != std::string_view::npos && hour < 0) {
      int parts[3] = {0, 0, 0};
      int count = 0;
      std::size_t start = 0;
      while (count < 3) {
        const std::size_t colon = token.find(':', start);
        const std::string_view piece =
            token.substr(start, colon == std::string_view::npos ? token.npos : colon - start);
        if (!all_digits(piece) || piece.size() > 2) return std::nullopt;
        parts[count++] = std::stoi(std::string(piece));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
      }
      if (count < 2) return std::nullopt;
      hour = parts[0];
      minute = parts[1];
      second = count == 3 ? parts[2] : 0;
    } else if (all_digits(token)) {
      if (day < 0 && token.size() <= 2) {
        day = std::stoi(std::string(token));
      } else if (year < 0 && token.size() <= 4) {
        year = std::stoll(std::string(token));
        if (token.size() <= 2)
          year += year < 50 ? 2000 : 1900;
        else if (token.size() == 3)
          year += 1900;
      }
    } else if ((token[0] == '+' || token[0] == '-') && token.size() == 5 && hour >= 0) {
      zone = zone_offset_minutes(token);
    } else if (month == 0 && month_number(token) != 0 && token.size() <= 9) {
      month = month_number(token);
    } else if (hour >= 0 && !zone) {
      zone = zone_offset_minutes(token);
    }
  }
  if (day < 1 || day > 31 || month == 0 || year < 0 || hour < 0 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  if (second == 60) second = 59;
  const long long days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const long long seconds = days * 86400 + hour * 3600 + minute * 60 + second - zone.value_or(0) * 60;
  return TimePoint(std::chrono::seconds(seconds));
}

std::string format_date(TimePoint when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %d %s %04d %02d:%02d:%02d +0000",
                kDays[static_cast<std::size_t>(tm.tm_wday)], tm.tm_mday,
                kMonths[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

Content extract_content(std::string_view message, bool with_attachment_bytes) {
  Content content;
  walk(message, "text/plain", 0, with_attachment_bytes, content);
  return content;
}

namespace {

std::string strip_prefixes(std::string_view subject) {
  static constexpr std::array<std::string_view, 9> kPrefixes = {
      "re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "vs:", "antw:", "tr:"};
  std::string_view rest = trim(subject);
  bool stripped = true;
  while (stripped) {
    stripped = false;
    for (std::string_view prefix : kPrefixes) {
      if (starts_with_ci(rest, prefix)) {
        rest = trim(rest.substr(prefix.size()));
        stripped = true;
      }
    }
  }
  return std::string(rest);
}

std::optional<Address> first_address(const HeaderBlock& headers, std::string_view name) {
  const auto value = headers.get(name);
  if (!value) return std::nullopt;
  auto list = parse_address_list(*value);
  if (list.empty()) return std::nullopt;
  return list.front();
}

std::vector<Address> all_addresses(const HeaderBlock& headers, std::string_view name) {
  std::vector<Address> result;
  for (const auto& field : headers.fields) {
    if (!iequals(field.name, name)) continue;
    auto list = parse_address_list(field.value);
    result.insert(result.end(), std::make_move_iterator(list.begin()), std::make_move_iterator(list.end()));
  }
  return result;
}

}  // namespace

std::string strip_subject_prefixes(std::string_view subject) {
  return strip_prefixes(subject);
}

Summary summarize(std::string_view message) {
  Summary summary;
  const HeaderBlock headers = parse_header_block(message);
  if (const auto subject = headers.get("Subject")) summary.subject = decode_header_text(*subject);
  summary.from = first_address(headers, "From");
  summary.sender = first_address(headers, "Sender");
  if (!summary.sender) summary.sender = summary.from;
  if (!summary.from) summary.from = summary.sender;
  summary.to = all_addresses(headers, "To");
  summary.cc = all_addresses(headers, "Cc");
  summary.bcc = all_addresses(headers, "Bcc");
  summary.reply_to = all_addresses(headers, "Reply-To");
  if (const auto id = headers.get("Message-ID")) summary.message_id = sanitize_utf8(trim(*id));
  if (const auto date = headers.get("Date")) summary.date = parse_date(*date);
  if (const auto importance = headers.get("Importance")) {
    const std::string value = to_lower(trim(*importance));
    if (value == "high" || value == "low") summary.importance = value;
  } else if (const auto priority = headers.get("X-Priority")) {
    const std::string_view value = trim(*priority);
    if (!value.empty() && (value[0] == '1' || value[0] == '2')) summary.importance = "high";
    if (!value.empty() && (value[0] == '4' || value[0] == '5')) summary.importance = "low";
  } else if (const auto classic = headers.get("Priority")) {
    const std::string value = to_lower(trim(*classic));
    if (value == "urgent") summary.importance = "high";
    if (value == "non-urgent") summary.importance = "low";
  }
  summary.read_receipt_requested = headers.get("Disposition-Notification-To").has_value();
  if (const auto topic = headers.get("Thread-Topic")) {
    summary.thread_topic = decode_header_text(*topic);
  } else {
    summary.thread_topic = strip_prefixes(summary.subject);
  }
  const Content content = extract_content(message, false);
  summary.has_attachments = std::any_of(content.attachments.begin(), content.attachments.end(),
                                        [](const Attachment& a) { return !a.is_inline; });
  return summary;
}

std::string html_to_text(std::string_view html) {
  std::string out;
  out.reserve(html.size() / 2);
  std::size_t i = 0;
  const auto skip_element = [&](std::string_view name) {
    // Skips <style>...</style> and <script>...</script> including content.
    const std::string closing = "</" + std::string(name);
    std::size_t pos = i;
    while (pos < html.size()) {
      pos = html.find('<', pos);
      if (pos == std::string_view::npos) break;
      if (starts_with_ci(html.substr(pos), closing)) {
        const std::size_t end = html.find('>', pos);
        i = end == std::string_view::npos ? html.size() : end + 1;
        return;
      }
      ++pos;
    }
    i = html.size();
  };
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      const std::size_t end = html.find('>', i);
      if (end == std::string_view::npos) break;
      std::string_view tag = html.substr(i + 1, end - i - 1);
      const bool closing = !tag.empty() && tag.front() == '/';
      if (closing) tag.remove_prefix(1);
      std::size_t name_end = 0;
      while (name_end < tag.size() && std::isalnum(static_cast<unsigned char>(tag[name_end]))) ++name_end;
      const std::string name = to_lower(tag.substr(0, name_end));
      i = end + 1;
      if (!closing && (name == "style" || name == "script" || name == "head" || name == "title")) {
        skip_element(name);
        continue;
      }
      if (name == "br" || name == "p" || name == "div" || name == "tr" || name == "li" || name == "h1" ||
          name == "h2" || name == "h3" || name == "table") {
        if (!out.empty() && out.back() != '\n') out += "\r\n";
      }
      continue;
    }
    if (c == '&') {
      const std::size_t semi = html.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 10) {
        const std::string entity = to_lower(html.substr(i + 1, semi - i - 1));
        static const std::map<std::string, std::uint32_t> kEntities = {
            {"amp", '&'},     {"lt", '<'},        {"gt", '>'},       {"quot", '"'},
            {"apos", '\''},   {"nbsp", 0xA0},     {"copy", 0xA9},    {"reg", 0xAE},
            {"euro", 0x20AC}, {"hellip", 0x2026}, {"ndash", 0x2013}, {"mdash", 0x2014},
            {"auml", 0xE4},   {"ouml", 0xF6},     {"uuml", 0xFC},    {"szlig", 0xDF}};
        std::uint32_t cp = 0;
        if (!entity.empty() && entity[0] == '#') {
          const bool hex = entity.size() > 1 && entity[1] == 'x';
          try {
            cp = static_cast<std::uint32_t>(std::stoul(entity.substr(hex ? 2 : 1), nullptr, hex ? 16 : 10));
          } catch (...) {
            cp = 0;
          }
        } else if (const auto it = kEntities.find(entity); it != kEntities.end()) {
          cp = it->second;
        }
        if (cp != 0) {
          append_utf8(out, cp == 0xA0 ? ' ' : cp);
          i = semi + 1;
          continue;
        }
      }
    }
    if (c == '\r' || c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ' && out.back() != '\n') out += ' ';
      ++i;
      continue;
    }
    out += c;
    ++i;
  }
  return std::string(trim(out));
}

std::string text_to_html(std::string_view text) {
  std::string out =
      "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n"
      "<body>\r\n<div class=\"PlainText\">";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\r': break;
      case '\n': out += "<br>\r\n"; break;
      default: out += c;
    }
  }
  out += "</div>\r\n</body>\r\n</html>\r\n";
  return out;
}

std::string body_preview(const Content& content) {
  std::string text =
      content.text ? *content.text : (content.html ? html_to_text(*content.html) : std::string());
  std::string_view view = trim(text);
  // 255 characters (code points), never cutting a UTF-8 sequence.
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < view.size() && count < 255) {
    const std::size_t n = utf8_sequence_length(view, i);
    i += n == 0 ? 1 : n;
    ++count;
  }
  return sanitize_utf8(view.substr(0, i));
}

// ---------------------------------------------------------------------------------------------
// Writing

namespace {

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string base64_folded(std::string_view bytes, std::size_t width) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(bytes.size() * 4 / 3 + (width == 0 ? 0 : bytes.size() / width * 2) + 8);
  std::size_t column = 0;
  const auto put = [&](char c) {
    out += c;
    if (width != 0 && ++column == width) {
      out += "\r\n";
      column = 0;
    }
  };
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t g = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    put(kAlphabet[(g >> 18) & 63]);
    put(kAlphabet[(g >> 12) & 63]);
    put(kAlphabet[(g >> 6) & 63]);
    put(kAlphabet[g & 63]);
  }
  if (i < bytes.size()) {
    std::uint32_t g = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    const bool two = i + 1 < bytes.size();
    if (two) g |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    put(kAlphabet[(g >> 18) & 63]);
    put(kAlphabet[(g >> 12) & 63]);
    put(two ? kAlphabet[(g >> 6) & 63] : '=');
    put('=');
  }
  if (width != 0 && column != 0) out += "\r\n";
  return out;
}

// RFC 2047 B-encoding in words of at most 75 characters, split on UTF-8 boundaries.
std::string encode_words(std::string_view text) {
  if (is_ascii(text) && text.find("=?") == std::string_view::npos) return std::string(text);
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = i;
    while (end < text.size() && end - i < 45) {
      const std::size_t n = utf8_sequence_length(text, end);
      end += n == 0 ? 1 : n;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?utf-8?B?" + base64_folded(text.substr(i, end - i), 0) + "?=";
    i = end;
  }
  return out;
}

bool needs_quoting(std::string_view name) {
  return std::any_of(name.begin(), name.end(), [](char c) {
    return std::string_view("()<>[]:;@\\,.\"").find(c) != std::string_view::npos;
  });
}

std::string format_address(const Address& address) {
  if (address.name.empty()) return address.address;
  std::string name;
  if (!is_ascii(address.name)) {
    name = encode_words(address.name);
  } else if (needs_quoting(address.name)) {
    name = "\"";
    for (char c : address.name) {
      if (c == '"' || c == '\\') name += '\\';
      name += c;
    }
    name += '"';
  } else {
    name = address.name;
  }
  return name + " <" + address.address + ">";
}

std::string format_address_list(const std::vector<Address>& addresses) {
  std::string out;
  for (const auto& address : addresses) {
    if (!out.empty()) out += ",\r\n ";
    out += format_address(address);
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  std::size_t column = 0;
  const auto emit = [&](std::string_view piece) {
    if (column + piece.size() > 75) {
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n') {
      // Trailing blanks before a line break must be encoded.
      if (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
        const char blank = out.back();
        out.pop_back();
        --column;
        emit(blank == ' ' ? "=20" : "=09");
      }
      out += "\r\n";
      column = 0;
      continue;
    }
    if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') {
      const char plain[2] = {static_cast<char>(c), 0};
      emit(std::string_view(plain, 1));
    } else {
      static constexpr std::string_view kHex = "0123456789ABCDEF";
      const char encoded[3] = {'=', kHex[c >> 4], kHex[c & 15]};
      emit(std::string_view(encoded, 3));
    }
  }
  return out;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

std::string random_boundary(const Outgoing& message, int level) {
  // Deterministic per message (its Message-ID), unique enough to never occur in the content.
  std::uint64_t hash = 1469598103934665603ULL;
  for (char c : message.message_id) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "_%03d_%016llx_", level, static_cast<unsigned long long>(hash));
  return buffer;
}

std::string text_part(const Outgoing& message) {
  std::string out;
  out += message.html ? "Content-Type: text/html; charset=\"utf-8\"\r\n"
                      : "Content-Type: text/plain; charset=\"utf-8\"\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += quoted_printable(message.body);
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

std::string attachment_part(const OutgoingAttachment& attachment) {
  std::string out;
  const std::string name = encode_words(attachment.name);
  out += "Content-Type: " + attachment.content_type + "; name=\"" + name + "\"\r\n";
  out += "Content-Description: " + name + "\r\n";
  out += std::string("Content-Disposition: ") + (attachment.is_inline ? "inline" : "attachment") +
         "; filename=\"" + name + "\"; size=" + std::to_string(attachment.bytes.size()) + "\r\n";
  if (!attachment.content_id.empty()) out += "Content-ID: <" + attachment.content_id + ">\r\n";
  out += "Content-Transfer-Encoding: base64\r\n\r\n";
  out += base64_folded(attachment.bytes, 76);
  return out;
}

std::string multipart(std::string_view subtype, const std::string& boundary,
                      const std::vector<std::string>& parts, std::string_view extra_params = {}) {
  std::string out =
      "Content-Type: multipart/" + std::string(subtype) + ";\r\n\tboundary=\"" + boundary + "\"";
  out += extra_params;
  out += "\r\n\r\n";
  for (const auto& part : parts) {
    out += "--" + boundary + "\r\n";
    out += part;
    if (out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  }
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace

std::string build_message(const Outgoing& message) {
  std::string out;
  if (message.from) append_field(out, "From", format_address(*message.from));
  if (message.sender && message.from && !(message.sender->address == message.from->address)) {
    append_field(out, "Sender", format_address(*message.sender));
  }
  if (!message.to.empty()) append_field(out, "To", format_address_list(message.to));
  if (!message.cc.empty()) append_field(out, "CC", format_address_list(message.cc));
  if (!message.bcc.empty()) append_field(out, "BCC", format_address_list(message.bcc));
  if (!message.reply_to.empty()) append_field(out, "Reply-To", format_address_list(message.reply_to));
  append_field(out, "Subject", encode_words(message.subject));
  append_field(out, "Thread-Topic", encode_words(strip_subject_prefixes(message.subject)));
  append_field(out, "Date", format_date(message.date));
  append_field(out, "Message-ID", message.message_id);
  if (message.importance == "high" || message.importance == "low") {
    append_field(out, "Importance", message.importance);
  }
  if (message.read_receipt_requested && message.from) {
    append_field(out, "Disposition-Notification-To", format_address(*message.from));
  }
  const bool has_attachments = std::any_of(message.attachments.begin(), message.attachments.end(),
                                           [](const OutgoingAttachment& a) { return !a.is_inline; });
  // Exchange writes these, the first with an empty value when there is no attachment.
  append_field(out, "X-MS-Has-Attach", has_attachments ? "yes" : "");
  append_field(out, "X-MS-TNEF-Correlator", "");
  for (const auto& [name, value] : message.extra_headers) append_field(out, name, encode_words(value));
  out += "MIME-Version: 1.0\r\n";

  std::vector<const OutgoingAttachment*> inline_parts;
  std::vector<const OutgoingAttachment*> regular_parts;
  for (const auto& attachment : message.attachments) {
    (attachment.is_inline && message.html ? inline_parts : regular_parts).push_back(&attachment);
  }
  std::string body = text_part(message);
  if (!inline_parts.empty()) {
    std::vector<std::string> parts = {body};
    for (const auto* attachment : inline_parts) parts.push_back(attachment_part(*attachment));
    body = multipart("related", random_boundary(message, 2), parts, ";\r\n\ttype=\"text/html\"");
  }
  if (!regular_parts.empty()) {
    std::vector<std::string> parts = {body};
    for (const auto* attachment : regular_parts) parts.push_back(attachment_part(*attachment));
    body = multipart("mixed", random_boundary(message, 1), parts);
  }
  out += body;
  return out;
}

std::string remove_header_field(std::string_view message, std::string_view name) {
  const HeaderBlock headers = parse_header_block(message);
  if (!headers.get(name)) return std::string(message);
  std::string out;
  out.reserve(message.size());
  std::size_t pos = 0;
  const std::size_t header_end = headers.body_offset;
  bool skipping = false;
  while (pos < header_end) {
    std::size_t end = message.find('\n', pos);
    end = end == std::string_view::npos ? message.size() : end + 1;
    const std::string_view line = message.substr(pos, end - pos);
    if (!line.empty() && is_blank(line.front())) {
      if (!skipping) out += line;
    } else {
      const std::size_t colon = line.find(':');
      skipping = colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), name);
      if (!skipping) out += line;
    }
    pos = end;
  }
  out += message.substr(header_end);
  return out;
}

}  // namespace mailtrixy::emulator::mime
