#pragma once
// Internal: an RFC 822/2045 lexer over a header value, with the leniency and the return
// convention of Dovecot's rfc822-parser (so structured fields come out the way Dovecot reports
// them). Every function returns -1 on broken input, 0 when the end of the value was reached and
// 1 when more data follows. Never reads outside [data, end).

#include <string>
#include <string_view>

namespace mailtrixy::mime::detail {

// atext per RFC 5322 (8-bit bytes count as atext, like Dovecot).
bool is_atext(unsigned char c);
// atext minus the MIME tspecials "/", "?" and "=" (a MIME token character).
bool is_token_char(unsigned char c);

class Rfc822Lexer {
 public:
  explicit Rfc822Lexer(std::string_view value, std::string* last_comment = nullptr)
      : data_(value.data()), end_(value.data() + value.size()), last_comment_(last_comment) {}

  bool at_end() const { return data_ == end_; }
  // The current byte, or NUL at the end (Dovecot reads its NUL terminator there).
  char cur() const { return data_ != end_ ? *data_ : '\0'; }
  void advance() { ++data_; }
  const char* position() const { return data_; }
  void set_position(const char* position) { data_ = position; }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - data_); }

  int skip_comment();
  int skip_lwsp();
  int parse_atom(std::string& out);
  int parse_dot_atom(std::string& out);
  int parse_mime_token(std::string& out);
  int parse_quoted_string(std::string& out);
  int parse_phrase(std::string& out);
  int parse_domain(std::string& out);  // at '@'
  int parse_content_type(std::string& out);
  // One ";" name "=" value parameter. Returns 0 at the end, -1 when broken, 1 with a parameter.
  int parse_content_param(std::string& name, std::string& value);

 private:
  int parse_atom_or_dot(std::string& out);
  int parse_domain_literal(std::string& out);

  const char* data_;
  const char* end_;
  std::string* last_comment_;
};

}  // namespace mailtrixy::mime::detail
