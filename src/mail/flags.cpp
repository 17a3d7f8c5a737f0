#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "mailtrixy/mail/types.hpp"

namespace mailtrixy::mail {
namespace {

constexpr std::array<SystemFlag, 6> kSystemFlagOrder = {SystemFlag::seen,    SystemFlag::answered,
                                                        SystemFlag::flagged, SystemFlag::deleted,
                                                        SystemFlag::draft,   SystemFlag::forwarded};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 3501 atom-specials plus '%', '*' (list wildcards) and ']' (resp-specials), which a keyword
// may not contain either.
bool is_atom_char(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte <= 0x20 || byte >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']': return false;
    default: return true;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string_view flag_name(SystemFlag flag) {
  switch (flag) {
    case SystemFlag::seen: return "\\Seen";
    case SystemFlag::answered: return "\\Answered";
    case SystemFlag::flagged: return "\\Flagged";
    case SystemFlag::deleted: return "\\Deleted";
    case SystemFlag::draft: return "\\Draft";
    case SystemFlag::forwarded: return "$Forwarded";
  }
  return "";
}

std::optional<SystemFlag> parse_system_flag(std::string_view name) {
  for (SystemFlag flag : kSystemFlagOrder) {
    if (iequals(name, flag_name(flag))) return flag;
  }
  return std::nullopt;
}

Flags& Flags::set(SystemFlag flag, bool on) {
  if (on) {
    bits_ = static_cast<std::uint8_t>(bits_ | bit(flag));
  } else {
    bits_ = static_cast<std::uint8_t>(bits_ & ~bit(flag));
  }
  return *this;
}

bool Flags::has_keyword(std::string_view keyword) const {
  if (auto flag = parse_system_flag(keyword); flag && *flag == SystemFlag::forwarded) {
    return has(SystemFlag::forwarded);
  }
  return std::any_of(keywords_.begin(), keywords_.end(),
                     [&](const std::string& k) { return iequals(k, keyword); });
}

Flags& Flags::add_keyword(std::string_view keyword) {
  if (auto flag = parse_system_flag(keyword); flag && *flag == SystemFlag::forwarded) {
    return set(SystemFlag::forwarded);
  }
  if (!keyword.empty() && !has_keyword(keyword)) keywords_.emplace_back(keyword);
  return *this;
}

Flags& Flags::remove_keyword(std::string_view keyword) {
  if (auto flag = parse_system_flag(keyword); flag && *flag == SystemFlag::forwarded) {
    return clear(SystemFlag::forwarded);
  }
  std::erase_if(keywords_, [&](const std::string& k) { return iequals(k, keyword); });
  return *this;
}

Flags& Flags::add(std::string_view name) {
  if (auto flag = parse_system_flag(name)) return set(*flag);
  return add_keyword(name);
}

Flags& Flags::remove(std::string_view name) {
  if (auto flag = parse_system_flag(name)) return clear(*flag);
  return remove_keyword(name);
}

Flags& Flags::add_all(const Flags& other) {
  bits_ = static_cast<std::uint8_t>(bits_ | other.bits_);
  for (const auto& keyword : other.keywords_) add_keyword(keyword);
  return *this;
}

Flags& Flags::remove_all(const Flags& other) {
  bits_ = static_cast<std::uint8_t>(bits_ & ~other.bits_);
  for (const auto& keyword : other.keywords_) remove_keyword(keyword);
  return *this;
}

std::vector<std::string> Flags::names() const {
  std::vector<std::string> out;
  for (SystemFlag flag : kSystemFlagOrder) {
    if (has(flag)) out.emplace_back(flag_name(flag));
  }
  out.insert(out.end(), keywords_.begin(), keywords_.end());
  return out;
}

bool operator==(const Flags& a, const Flags& b) {
  if (a.bits_ != b.bits_ || a.keywords_.size() != b.keywords_.size()) return false;
  return std::all_of(a.keywords_.begin(), a.keywords_.end(),
                     [&](const std::string& k) { return b.has_keyword(k); });
}

std::string keyword_from_category(std::string_view category) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(category.size());
  for (char c : category) {
    if (c == ' ') {
      out += '_';
    } else if (c == '_' || c == '=' || !is_atom_char(c)) {
      auto byte = static_cast<unsigned char>(c);
      out += '=';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    } else {
      out += c;
    }
  }
  return out;
}

std::string category_from_keyword(std::string_view keyword) {
  std::string out;
  out.reserve(keyword.size());
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    char c = keyword[i];
    if (c == '_') {
      out += ' ';
    } else if (c == '=' && i + 2 < keyword.size() && hex_value(keyword[i + 1]) >= 0 &&
               hex_value(keyword[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(keyword[i + 1]) * 16 + hex_value(keyword[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

bool is_valid_keyword(std::string_view keyword) {
  if (keyword.empty() || keyword.front() == '\\') return false;
  return std::all_of(keyword.begin(), keyword.end(), is_atom_char);
}

}  // namespace mailtrixy::mail
