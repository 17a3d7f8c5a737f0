#include "text_search.hpp"

#include <array>
#include <cstdint>
#include <optional>

#include "mailtrixy/mail/envelope.hpp"

namespace mailtrixy::imap::detail {

namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// Windows-1252's 0x80-0x9F row; 0 where the code page leaves a hole (kept as the C1 control).
constexpr std::array<std::uint16_t, 32> kCp1252High = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178};

enum class Charset { passthrough, latin1, cp1252 };

Charset classify_charset(std::string_view charset) {
  std::string name;
  for (char c : charset) name += ascii_lower(c);
  if (name == "iso-8859-1" || name == "iso8859-1" || name == "latin1" || name == "latin-1" || name == "l1" ||
      name == "iso_8859-1" || name == "iso-8859-15" || name == "iso8859-15" || name == "latin9") {
    return Charset::latin1;
  }
  if (name == "windows-1252" || name == "cp1252" || name == "x-cp1252") return Charset::cp1252;
  return Charset::passthrough;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Lenient base64, as mail readers decode: characters outside the alphabet (line breaks,
// padding, junk) are skipped.
std::string decode_base64_lenient(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    int value = base64_value(c);
    if (value < 0) continue;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

std::string decode_quoted_printable(std::string_view text, bool underscore_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '_' && underscore_is_space) {
      out += ' ';
    } else if (c == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else if (c == '=' && i + 1 < text.size() && (text[i + 1] == '\r' || text[i + 1] == '\n')) {
      // Soft line break.
      ++i;
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += c;
    }
  }
  return out;
}

// One encoded word starting at `pos` ("=?cs?X?text?="): its decoded text and the end position.
std::optional<std::pair<std::string, std::size_t>> encoded_word(std::string_view value, std::size_t pos) {
  if (value.compare(pos, 2, "=?") != 0) return std::nullopt;
  std::size_t charset_end = value.find('?', pos + 2);
  if (charset_end == std::string_view::npos || charset_end + 2 >= value.size() || value[charset_end + 2] != '?') {
    return std::nullopt;
  }
  char encoding = ascii_lower(value[charset_end + 1]);
  std::size_t text_start = charset_end + 3;
  std::size_t text_end = value.find("?=", text_start);
  if (text_end == std::string_view::npos) return std::nullopt;
  std::string_view charset = value.substr(pos + 2, charset_end - pos - 2);
  if (auto star = charset.find('*'); star != std::string_view::npos) charset = charset.substr(0, star);  // RFC 2231 language
  std::string_view text = value.substr(text_start, text_end - text_start);
  std::string bytes;
  if (encoding == 'b') {
    bytes = decode_base64_lenient(text);
  } else if (encoding == 'q') {
    bytes = decode_quoted_printable(text, true);
  } else {
    return std::nullopt;
  }
  return std::make_pair(to_utf8(bytes, charset), text_end + 2);
}

// Simple lower-case mapping of one code point (see the header).
std::uint32_t lower_code_point(std::uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x131 && cp != 0x138 && cp != 0x149 && cp != 0x17F) {
    // Latin Extended-A alternates upper/lower, with the parity flipping at 0x139..0x148 and 0x179..0x17E.
    bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
    bool is_upper = odd_upper ? (cp % 2 == 1) : (cp % 2 == 0);
    return is_upper ? cp + 1 : cp;
  }
  if (cp == 0x178) return 0xFF;
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;  // Greek
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;                  // Cyrillic А-Я
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;                  // Cyrillic Ѐ-Џ
  return cp;
}

}  // namespace

std::string to_utf8(std::string_view bytes, std::string_view charset) {
  Charset kind = classify_charset(charset);
  if (kind == Charset::passthrough) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 4);
  for (char c : bytes) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out += c;
    } else if (kind == Charset::cp1252 && byte < 0xA0 && kCp1252High[byte - 0x80] != 0) {
      append_utf8(out, kCp1252High[byte - 0x80]);
    } else {
      append_utf8(out, byte);
    }
  }
  return out;
}

std::string decode_header_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  std::size_t pos = 0;
  bool previous_was_word = false;
  std::string pending_space;
  while (pos < value.size()) {
    if (auto word = encoded_word(value, pos)) {
      // Whitespace between two encoded words is not part of the text (RFC 2047 6.2).
      if (!previous_was_word) out += pending_space;
      pending_space.clear();
      out += word->first;
      pos = word->second;
      previous_was_word = true;
      continue;
    }
    char c = value[pos];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space += (c == '\r' || c == '\n') ? ' ' : c;
      ++pos;
      continue;
    }
    out += pending_space;
    pending_space.clear();
    out += c;
    previous_was_word = false;
    ++pos;
  }
  out += pending_space;
  return out;
}

std::string decode_transfer_encoding(std::string_view bytes, std::string_view encoding) {
  if (iequals(encoding, "base64")) return decode_base64_lenient(bytes);
  if (iequals(encoding, "quoted-printable")) return decode_quoted_printable(bytes, false);
  return std::string(bytes);
}

std::string fold_case(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  std::size_t i = 0;
  while (i < utf8.size()) {
    auto byte = static_cast<unsigned char>(utf8[i]);
    if (byte < 0x80) {
      out += ascii_lower(utf8[i]);
      ++i;
      continue;
    }
    std::size_t length = (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 0;
    bool valid = length != 0 && i + length <= utf8.size();
    std::uint32_t cp = 0;
    if (valid) {
      cp = byte & (0xFF >> (length + 1));
      for (std::size_t k = 1; k < length; ++k) {
        auto next = static_cast<unsigned char>(utf8[i + k]);
        if ((next & 0xC0) != 0x80) {
          valid = false;
          break;
        }
        cp = (cp << 6) | (next & 0x3F);
      }
    }
    if (!valid) {
      out += utf8[i];
      ++i;
      continue;
    }
    append_utf8(out, lower_code_point(cp));
    i += length;
  }
  return out;
}

std::string searchable_header(std::string_view header_bytes) {
  std::string out;
  for (const auto& field : mail::parse_header_fields(header_bytes)) {
    out += field.name;
    out += ": ";
    out += decode_header_value(field.value);
    out += '\n';
  }
  return out;
}

namespace {

std::string parameter(const mime::Part& part, std::string_view name) {
  for (const auto& p : part.parameters) {
    if (iequals(p.name, name)) return p.value;
  }
  return {};
}

void collect_text(const mime::Part& part, std::string_view message, std::string& out, int depth) {
  if (depth > mime::kMaxDepth) return;
  if (!part.children.empty()) {
    bool encapsulated = part.is_message();
    for (const auto& child : part.children) {
      if (encapsulated) {
        out += searchable_header(child.header.in(message));
        out += '\n';
      }
      collect_text(child, message, out, depth + 1);
    }
    return;
  }
  if (!iequals(part.type, "text")) return;
  std::string decoded = decode_transfer_encoding(part.body.in(message), part.encoding.value_or(""));
  out += to_utf8(decoded, parameter(part, "charset"));
  out += '\n';
}

}  // namespace

std::string searchable_body(const mime::MessageStructure& structure, std::string_view message) {
  std::string out;
  collect_text(structure.root, message, out, 0);
  return out;
}

}  // namespace mailtrixy::imap::detail
