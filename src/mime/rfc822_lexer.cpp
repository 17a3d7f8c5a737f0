#include "rfc822_lexer.hpp"

#include <array>

namespace mailtrixy::mime::detail {
namespace {

// 1: atext, 2: alpha/digit/8-bit, 4: atext that is a MIME tspecial ("/", "=", "?").
constexpr std::array<unsigned char, 256> make_atext_table() {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 256; ++c) {
    unsigned char kind = 0;
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 128) {
      kind = 2;
    } else if (c == '/' || c == '=' || c == '?') {
      kind = 4;
    } else {
      switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
        case '-': case '^': case '_': case '`': case '{': case '|': case '}': case '~':
          kind = 1;
          break;
        default:
          break;
      }
    }
    table[static_cast<std::size_t>(c)] = kind;
  }
  return table;
}

constexpr auto kAtext = make_atext_table();

bool is_lwsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// NUL inside quoted strings, comments and domain literals becomes U+FFFD, like Dovecot.
constexpr std::string_view kNul = "\xEF\xBF\xBD";

}  // namespace

bool is_atext(unsigned char c) { return kAtext[c] != 0; }
bool is_token_char(unsigned char c) { return (kAtext[c] & 3) != 0; }

int Rfc822Lexer::skip_comment() {
  int level = 1;
  if (last_comment_ != nullptr) last_comment_->clear();
  const char* start = ++data_;
  for (; data_ != end_; ++data_) {
    switch (*data_) {
      case '\0':
        if (last_comment_ != nullptr) {
          last_comment_->append(start, data_);
          last_comment_->append(kNul);
          start = data_ + 1;
        }
        break;
      case '(':
        ++level;
        break;
      case ')':
        if (--level == 0) {
          if (last_comment_ != nullptr) last_comment_->append(start, data_);
          ++data_;
          return data_ != end_ ? 1 : 0;
        }
        break;
      case '\n': {
        if (last_comment_ == nullptr) break;
        const char* line_end = data_;
        if (line_end > start && line_end[-1] == '\r') --line_end;
        last_comment_->append(start, line_end);
        start = data_ + 1;
        break;
      }
      case '\\':
        ++data_;
        if (data_ == end_) return -1;
        if (*data_ == '\r' || *data_ == '\n' || *data_ == '\0') {
          // A backslash before a line break is kept as it is.
          --data_;
          break;
        }
        if (last_comment_ != nullptr) last_comment_->append(start, data_ - 1);
        start = data_;
        break;
      default:
        break;
    }
  }
  return -1;  // missing ')'
}

int Rfc822Lexer::skip_lwsp() {
  while (data_ != end_) {
    if (is_lwsp(*data_)) {
      ++data_;
      continue;
    }
    if (*data_ != '(') break;
    if (skip_comment() < 0) return -1;
  }
  return data_ != end_ ? 1 : 0;
}

int Rfc822Lexer::parse_atom(std::string& out) {
  if (data_ == end_ || !is_atext(static_cast<unsigned char>(*data_))) return -1;
  const char* start = data_++;
  for (; data_ != end_; ++data_) {
    if (is_atext(static_cast<unsigned char>(*data_))) continue;
    out.append(start, data_);
    return skip_lwsp();
  }
  out.append(start, data_);
  return 0;
}

int Rfc822Lexer::parse_dot_atom(std::string& out) {
  if (data_ == end_ || !is_atext(static_cast<unsigned char>(*data_))) return -1;
  const char* start = data_++;
  while (data_ != end_) {
    if (is_atext(static_cast<unsigned char>(*data_))) {
      ++data_;
      continue;
    }
    if (start == data_) return -1;
    out.append(start, data_);
    int ret = skip_lwsp();
    if (ret <= 0) return ret;
    if (*data_ != '.') return 1;
    ++data_;
    out.push_back('.');
    if (skip_lwsp() <= 0) return -1;
    start = data_;
  }
  out.append(start, data_);
  return 0;
}

int Rfc822Lexer::parse_mime_token(std::string& out) {
  const char* start = data_;
  for (; data_ != end_; ++data_) {
    if (is_token_char(static_cast<unsigned char>(*data_)) || *data_ == '.') continue;
    out.append(start, data_);
    return skip_lwsp();
  }
  out.append(start, data_);
  return 0;
}

int Rfc822Lexer::parse_quoted_string(std::string& out) {
  ++data_;  // the opening quote
  const char* start = data_;
  for (; data_ != end_; ++data_) {
    switch (*data_) {
      case '\0':
        out.append(start, data_);
        out.append(kNul);
        start = data_ + 1;
        break;
      case '"':
        out.append(start, data_);
        ++data_;
        return skip_lwsp();
      case '\n': {
        // Folding inside the string: drop the line break, keep the whitespace after it.
        const char* line_end = data_;
        if (line_end > start && line_end[-1] == '\r') --line_end;
        out.append(start, line_end);
        start = data_ + 1;
        break;
      }
      case '\\':
        ++data_;
        if (data_ == end_) return -1;
        if (*data_ == '\r' || *data_ == '\n' || *data_ == '\0') {
          --data_;
          break;
        }
        out.append(start, data_ - 1);
        start = data_;
        break;
      default:
        break;
    }
  }
  return -1;  // missing '"'
}

int Rfc822Lexer::parse_atom_or_dot(std::string& out) {
  const char* start = data_;
  for (; data_ != end_; ++data_) {
    if (is_atext(static_cast<unsigned char>(*data_)) || *data_ == '.') continue;
    out.append(start, data_);
    return skip_lwsp();
  }
  out.append(start, data_);
  return 0;
}

int Rfc822Lexer::parse_phrase(std::string& out) {
  if (data_ == end_) return 0;
  if (*data_ == '.') return -1;
  for (;;) {
    int ret = *data_ == '"' ? parse_quoted_string(out) : parse_atom_or_dot(out);
    if (ret <= 0) return ret;
    unsigned char c = static_cast<unsigned char>(*data_);
    if (!is_atext(c) && c != '"' && c != '.') break;
    out.push_back(' ');
  }
  return skip_lwsp();
}

int Rfc822Lexer::parse_domain_literal(std::string& out) {
  const char* start = data_++;
  for (; data_ != end_; ++data_) {
    switch (*data_) {
      case '\0':
        out.append(start, data_);
        out.append(kNul);
        start = data_ + 1;
        break;
      case '[':
        return -1;
      case ']':
        out.append(start, data_ + 1);
        ++data_;
        return skip_lwsp();
      case '\n': {
        const char* line_end = data_;
        if (line_end > start && line_end[-1] == '\r') --line_end;
        out.append(start, line_end);
        start = data_ + 1;
        break;
      }
      case '\\':
        ++data_;
        if (data_ == end_) return -1;
        if (*data_ == '\r' || *data_ == '\n' || *data_ == '\0') {
          out.append(start, data_);
          start = data_;
          --data_;
        }
        break;
      default:
        break;
    }
  }
  return -1;  // missing ']'
}

int Rfc822Lexer::parse_domain(std::string& out) {
  ++data_;  // '@'
  if (skip_lwsp() <= 0) return -1;
  if (*data_ == '[') return parse_domain_literal(out);
  return parse_dot_atom(out);
}

int Rfc822Lexer::parse_content_type(std::string& out) {
  // On most failures `out` is left without the type: Dovecot then reports "" "" for the part.
  const std::size_t initial = out.size();
  if (skip_lwsp() <= 0) return -1;
  // Dovecot keeps a lone type ("text" with nothing after it) and reports it with an empty subtype.
  if (parse_mime_token(out) <= 0 || out.size() == initial) return -1;
  if (*data_ != '/') {
    out.resize(initial);
    return -1;
  }
  ++data_;
  if (skip_lwsp() <= 0) {
    out.resize(initial);
    return -1;
  }
  out.push_back('/');
  const std::size_t subtype_start = out.size();
  int ret = parse_mime_token(out);
  if (ret < 0 || out.size() == subtype_start || (data_ != end_ && *data_ != ';')) {
    out.resize(initial);
    return -1;
  }
  return ret;
}

int Rfc822Lexer::parse_content_param(std::string& name, std::string& value) {
  name.clear();
  value.clear();
  if (data_ == end_) return 0;
  if (*data_ != ';') return -1;
  ++data_;
  if (skip_lwsp() <= 0) return -1;
  if (parse_mime_token(name) <= 0) return -1;
  if (*data_ != '=') return -1;
  ++data_;
  int ret = skip_lwsp();
  if (ret <= 0) {
    // broken input or no value at all: an empty value
  } else if (*data_ == '"') {
    ret = parse_quoted_string(value);
  } else if (*data_ == '=') {
    // Broken senders write name==?utf-8?b?...?= unquoted; keep it up to the next separator.
    while (data_ != end_ && *data_ != ';' && *data_ != ' ' && *data_ != '\t' && *data_ != '\r' &&
           *data_ != '\n') {
      value.push_back(*data_);
      ++data_;
    }
  } else {
    ret = parse_mime_token(value);
  }
  return ret < 0 ? -1 : 1;
}

}  // namespace mailtrixy::mime::detail
