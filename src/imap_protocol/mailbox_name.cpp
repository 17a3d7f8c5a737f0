#include "mailtrixy/imap/mailbox_name.hpp"

#include <cstdint>
#include <vector>

namespace mailtrixy::imap {
namespace {

constexpr char kDelimiter = '/';
constexpr char32_t kReplacement = 0xFFFD;
constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

bool printable(char32_t c) { return c >= 0x20 && c <= 0x7e; }

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

// Next code point of `text` at `pos`; invalid or overlong sequences and surrogates give U+FFFD
// and consume one byte.
char32_t next_code_point(std::string_view text, std::size_t& pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  std::size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    value = lead & 0x1F;
    minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    value = lead & 0x0F;
    minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    value = lead & 0x07;
    minimum = 0x10000;
  } else {
    ++pos;
    return kReplacement;
  }
  if (pos + length > text.size()) {
    ++pos;
    return kReplacement;
  }
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(pos + i);
    if ((next & 0xC0) != 0x80) {
      ++pos;
      return kReplacement;
    }
    value = (value << 6) | (next & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    ++pos;
    return kReplacement;
  }
  pos += length;
  return value;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

void append_base64_run(std::string& out, const std::vector<std::uint16_t>& units) {
  out += '&';
  std::uint32_t bits = 0;
  int count = 0;
  for (std::uint16_t unit : units) {
    bits = (bits << 16) | unit;
    count += 16;
    while (count >= 6) {
      count -= 6;
      out += kBase64[(bits >> count) & 0x3F];
    }
    bits &= (1U << count) - 1;
  }
  if (count > 0) out += kBase64[(bits << (6 - count)) & 0x3F];
  out += '-';
}

// Decodes one BASE64 run (between '&' and '-') into UTF-16 units; false when malformed.
bool decode_base64_run(std::string_view run, std::vector<std::uint16_t>& units) {
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : run) {
    const int value = base64_value(c);
    if (value < 0) return false;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    count += 6;
    if (count >= 16) {
      count -= 16;
      units.push_back(static_cast<std::uint16_t>(bits >> count));
      bits &= (1U << count) - 1;
    }
  }
  // Leftover bits are padding: fewer than 6 of them, all zero (anything else is not shortest).
  return count < 6 && bits == 0;
}

std::string normalise_inbox(std::string_view pattern) {
  std::string out(pattern);
  const std::size_t level_end = std::min(out.find(kDelimiter), out.size());
  if (level_end == 5) {
    std::string first = out.substr(0, 5);
    for (char& c : first) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    if (first == "INBOX") out.replace(0, 5, first);
  }
  return out;
}

// Pattern positions reachable after matching `text` (a set, as flags; size pattern.size()+1).
std::vector<char> reachable_after(std::string_view pattern, std::string_view text) {
  const std::size_t m = pattern.size();
  std::vector<char> reach(m + 1, 0);
  std::vector<char> next(m + 1, 0);
  auto close = [&](std::vector<char>& set) {
    for (std::size_t j = 0; j < m; ++j) {
      if (set[j] && (pattern[j] == '*' || pattern[j] == '%')) set[j + 1] = 1;
    }
  };
  reach[0] = 1;
  close(reach);
  for (char c : text) {
    std::fill(next.begin(), next.end(), 0);
    for (std::size_t j = 0; j < m; ++j) {
      if (!reach[j]) continue;
      const char p = pattern[j];
      if (p == '*' || (p == '%' && c != kDelimiter)) {
        next[j] = 1;
      } else if (p == c) {
        next[j + 1] = 1;
      }
    }
    close(next);
    reach.swap(next);
  }
  return reach;
}

}  // namespace

std::string encode_mailbox_name(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  std::vector<std::uint16_t> run;
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    char32_t c = next_code_point(utf8, pos);
    if (c == 0) c = kReplacement;  // the decoder refuses U+0000: it can't name anything
    if (printable(c)) {
      if (!run.empty()) {
        append_base64_run(out, run);
        run.clear();
      }
      out += static_cast<char>(c);
      if (c == '&') out += '-';
      continue;
    }
    if (c >= 0x10000) {
      const char32_t offset = c - 0x10000;
      run.push_back(static_cast<std::uint16_t>(0xD800 + (offset >> 10)));
      run.push_back(static_cast<std::uint16_t>(0xDC00 + (offset & 0x3FF)));
    } else {
      run.push_back(static_cast<std::uint16_t>(c));
    }
  }
  if (!run.empty()) append_base64_run(out, run);
  return out;
}

std::optional<std::string> decode_mailbox_name(std::string_view wire) {
  std::string out;
  out.reserve(wire.size());
  std::vector<std::uint16_t> units;
  bool previous_was_run = false;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    const char c = wire[pos];
    if (!printable(static_cast<unsigned char>(c))) return std::nullopt;
    if (c != '&') {
      out += c;
      ++pos;
      previous_was_run = false;
      continue;
    }
    const std::size_t end = wire.find('-', pos + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (end == pos + 1) {  // "&-" is '&'
      out += '&';
      pos = end + 1;
      previous_was_run = false;
      continue;
    }
    if (previous_was_run) return std::nullopt;  // "&..-&..-" must be one run
    units.clear();
    if (!decode_base64_run(wire.substr(pos + 1, end - pos - 1), units) || units.empty()) return std::nullopt;
    for (std::size_t i = 0; i < units.size(); ++i) {
      char32_t code = units[i];
      if (code >= 0xD800 && code <= 0xDBFF) {
        if (i + 1 >= units.size() || units[i + 1] < 0xDC00 || units[i + 1] > 0xDFFF) return std::nullopt;
        code = 0x10000 + ((code - 0xD800) << 10) + (units[i + 1] - 0xDC00);
        ++i;
      } else if (code >= 0xDC00 && code <= 0xDFFF) {
        return std::nullopt;
      }
      // Printable ASCII must be written directly; U+0000 can't name anything.
      if (printable(code) || code == 0) return std::nullopt;
      append_utf8(out, code);
    }
    pos = end + 1;
    previous_was_run = true;
  }
  return out;
}

std::string combine_list_reference(std::string_view reference, std::string_view pattern) {
  std::string out(reference);
  if (!out.empty() && out.back() == kDelimiter && !pattern.empty() && pattern.front() == kDelimiter) {
    pattern.remove_prefix(1);
  }
  out += pattern;
  return out;
}

bool list_pattern_matches(std::string_view reference_plus_pattern, std::string_view mailbox_path) {
  const std::string pattern = normalise_inbox(reference_plus_pattern);
  return reachable_after(pattern, mailbox_path).back() != 0;
}

bool list_pattern_could_match_below(std::string_view reference_plus_pattern, std::string_view mailbox_path) {
  const std::string pattern = normalise_inbox(reference_plus_pattern);
  std::string parent(mailbox_path);
  parent += kDelimiter;
  const std::vector<char> reach = reachable_after(pattern, parent);
  // Any unfinished pattern position can still consume at least one more character.
  for (std::size_t j = 0; j + 1 < reach.size(); ++j) {
    if (reach[j]) return true;
  }
  return false;
}

}  // namespace mailtrixy::imap
