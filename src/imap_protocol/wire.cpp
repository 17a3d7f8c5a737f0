#include "mailtrixy/imap/wire.hpp"

namespace mailtrixy::imap {
namespace {

constexpr std::size_t kMaxQuotedLength = 1024;

bool is_atom_char(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(': case ')': case '{': case '%': case '*': case '"': case '\\': case ']':
      return false;
    default:
      return true;
  }
}

}  // namespace

bool quotable(std::string_view value) {
  if (value.size() > kMaxQuotedLength) return false;
  for (unsigned char c : value) {
    if (c == '\0' || c == '\r' || c == '\n' || c >= 0x80) return false;
  }
  return true;
}

void append_literal(std::string& out, std::string_view value) {
  out += '{';
  out += std::to_string(value.size());
  out += "}\r\n";
  out += value;
}

void append_string(std::string& out, std::string_view value) {
  if (!quotable(value)) {
    append_literal(out, value);
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void append_nstring(std::string& out, const std::string* value) {
  if (value == nullptr) {
    out += "NIL";
    return;
  }
  append_string(out, *value);
}

void append_astring(std::string& out, std::string_view value) {
  bool atom = !value.empty();
  for (unsigned char c : value) {
    if (!is_atom_char(c)) {
      atom = false;
      break;
    }
  }
  // "NIL" as an atom would read as the NIL value.
  if (atom && (value.size() == 3 && (value[0] | 0x20) == 'n' && (value[1] | 0x20) == 'i' && (value[2] | 0x20) == 'l')) {
    atom = false;
  }
  if (atom) {
    out += value;
  } else {
    append_string(out, value);
  }
}

}  // namespace mailtrixy::imap
