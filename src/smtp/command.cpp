#include "mailtrixy/smtp/command.hpp"

#include <cstddef>
#include <cstdint>

namespace mailtrixy::smtp {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ascii_upper(text[i]) != ascii_upper(prefix[i])) return false;
  }
  return true;
}

bool is_alpha_digit(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext.
bool is_atext(unsigned char c) {
  if (is_alpha_digit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

// Length of the well-formed UTF-8 sequence starting at text[i] (a lead byte >= 0x80), or 0.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  std::uint32_t minimum = 0;
  std::uint32_t code_point = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, minimum = 0x80, code_point = lead & 0x1Fu;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, minimum = 0x800, code_point = lead & 0x0Fu;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, minimum = 0x10000, code_point = lead & 0x07u;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0u) != 0x80u) return 0;
    code_point = (code_point << 6) | (next & 0x3Fu);
  }
  if (code_point < minimum || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) return 0;
  return length;
}

// Walks `text`, calling accept(c) for ASCII octets and treating every UTF-8 sequence as one
// allowed character. Returns false at the first octet refused; sets saw_utf8.
template <class AcceptAscii>
bool scan(std::string_view text, AcceptAscii accept, bool& saw_utf8) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) return false;
      saw_utf8 = true;
      i += length;
      continue;
    }
    if (!accept(c)) return false;
    ++i;
  }
  return true;
}

bool valid_dot_string(std::string_view local, bool& saw_utf8) {
  if (local.empty() || local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  return scan(local, [](unsigned char c) { return c == '.' || is_atext(c); }, saw_utf8);
}

bool valid_quoted_string(std::string_view local, bool& saw_utf8) {
  if (local.size() < 2 || local.front() != '"' || local.back() != '"') return false;
  const std::string_view inner = local.substr(1, local.size() - 2);
  for (std::size_t i = 0; i < inner.size();) {
    const auto c = static_cast<unsigned char>(inner[i]);
    if (c == '\\') {
      if (i + 1 >= inner.size()) return false;
      const auto quoted = static_cast<unsigned char>(inner[i + 1]);
      if (quoted < 32 || quoted > 126) return false;
      i += 2;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(inner, i);
      if (length == 0) return false;
      saw_utf8 = true;
      i += length;
      continue;
    }
    // qtextSMTP: %d32-33 / %d35-91 / %d93-126
    if (c < 32 || c > 126 || c == '"') return false;
    ++i;
  }
  return true;
}

bool valid_domain(std::string_view domain, bool& saw_utf8) {
  if (domain.empty() || domain.size() > 255) return false;
  if (domain.front() == '[') {
    // address-literal: a bracketed IPv4 or "IPv6:..." or "tag:..." literal; printable ASCII only.
    if (domain.back() != ']' || domain.size() < 3) return false;
    for (const char c : domain.substr(1, domain.size() - 2)) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 33 || u > 126 || c == '[' || c == ']' || c == '\\') return false;
    }
    return true;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = domain.find('.', start);
    const std::string_view label = domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!scan(label, [](unsigned char c) { return is_alpha_digit(c) || c == '-'; }, saw_utf8)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

CommandLine split_command(std::string_view line) {
  line = trim(line);
  std::size_t end = 0;
  while (end < line.size() && !is_space(line[end])) ++end;
  CommandLine command;
  command.verb.reserve(end);
  for (std::size_t i = 0; i < end; ++i) command.verb.push_back(ascii_upper(line[i]));
  command.arguments = std::string(trim(line.substr(end)));
  return command;
}

Result<PathArgument> parse_path_argument(std::string_view arguments, std::string_view prefix) {
  arguments = trim(arguments);
  if (!starts_with_ignoring_case(arguments, prefix)) {
    return make_error("expected " + std::string(prefix) + "<address>");
  }
  std::string_view rest = arguments.substr(prefix.size());
  while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
  if (rest.empty()) return make_error("the address is missing after " + std::string(prefix));

  PathArgument result;
  std::string_view path;
  if (rest.front() == '<') {
    // The closing bracket is the first '>' outside a quoted local part.
    bool quoted = false;
    std::size_t close = std::string_view::npos;
    for (std::size_t i = 1; i < rest.size(); ++i) {
      if (rest[i] == '\\' && quoted) {
        ++i;
      } else if (rest[i] == '"') {
        quoted = !quoted;
      } else if (rest[i] == '>' && !quoted) {
        close = i;
        break;
      }
    }
    if (close == std::string_view::npos) return make_error("the address has no closing '>'");
    path = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && !is_space(rest.front())) return make_error("a space must separate the address from the parameters");
  } else {
    std::size_t end = 0;
    while (end < rest.size() && !is_space(rest[end])) ++end;
    path = rest.substr(0, end);
    rest.remove_prefix(end);
  }
  // A source route "@a,@b:" before the mailbox is obsolete and ignored (RFC 5321 4.1.2, C.1).
  if (!path.empty() && path.front() == '@') {
    const std::size_t colon = path.find(':');
    if (colon == std::string_view::npos) return make_error("the source route has no ':' before the address");
    path.remove_prefix(colon + 1);
  }
  result.address = std::string(path);

  for (;;) {
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
    if (rest.empty()) break;
    std::size_t end = 0;
    while (end < rest.size() && !is_space(rest[end])) ++end;
    const std::string_view parameter = rest.substr(0, end);
    rest.remove_prefix(end);
    const std::size_t equals = parameter.find('=');
    PathParameter item;
    const std::string_view keyword = parameter.substr(0, equals);
    if (keyword.empty()) return make_error("a parameter has no name");
    for (const char c : keyword) {
      if (!is_alpha_digit(static_cast<unsigned char>(c)) && c != '-') {
        return make_error("the parameter name '" + std::string(keyword) + "' is malformed");
      }
      item.keyword.push_back(ascii_upper(c));
    }
    if (equals != std::string_view::npos) item.value = std::string(parameter.substr(equals + 1));
    result.parameters.push_back(std::move(item));
  }
  return result;
}

AddressCheck check_address(std::string_view address, bool smtputf8) {
  if (address.empty() || address.size() > 254) return AddressCheck::bad_syntax;
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0) return AddressCheck::bad_syntax;
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  if (local.size() > 64) return AddressCheck::bad_syntax;
  bool saw_utf8 = false;
  const bool local_ok = local.front() == '"' ? valid_quoted_string(local, saw_utf8) : valid_dot_string(local, saw_utf8);
  if (!local_ok || !valid_domain(domain, saw_utf8)) return AddressCheck::bad_syntax;
  if (saw_utf8 && !smtputf8) return AddressCheck::needs_smtputf8;
  return AddressCheck::ok;
}

std::string address_key(std::string_view address) {
  std::string key(address);
  for (char& c : key) c = ascii_lower(c);
  return key;
}

bool same_address(std::string_view a, std::string_view b) { return address_key(a) == address_key(b); }

}  // namespace mailtrixy::smtp
