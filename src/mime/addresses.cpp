// Address lists for ENVELOPE, read the way Dovecot's message-address parser reads them, so the
// bridge fills missing parts with the same placeholders (MISSING_MAILBOX, MISSING_DOMAIN,
// SYNTAX_ERROR, INVALID_ROUTE) and reports groups the same way.

#include <string>

#include "header_fields.hpp"
#include "rfc822_lexer.hpp"

namespace mailtrixy::mime::detail {
namespace {

class AddressParser {
 public:
  explicit AddressParser(std::string_view value) : lexer_(value, &last_comment_) {}

  std::vector<EnvelopeAddress> parse() {
    if (lexer_.skip_lwsp() <= 0) return {};
    parse_address_list();
    return std::move(result_);
  }

 private:
  // Dovecot reads ENVELOPE local parts with lenient dots ("a..b", ".a", "a.").
  int parse_nonstrict_dot_atom(std::string& text) {
    int ret = -1;
    do {
      while (lexer_.cur() == '.') {
        text.push_back('.');
        lexer_.advance();
        if (lexer_.at_end()) return 0;  // "@domain" is missing, the local part is fine
        ret = 1;
      }
      if (lexer_.cur() == '@') break;
      ret = lexer_.parse_atom(text);
    } while (ret > 0 && lexer_.cur() == '.');
    return ret;
  }

  int parse_local_part() {
    std::string text;
    int ret = lexer_.cur() == '"' ? lexer_.parse_quoted_string(text) : parse_nonstrict_dot_atom(text);
    if (ret < 0) return -1;
    current_.mailbox = text;
    return ret;
  }

  int parse_domain() {
    std::string text;
    int ret = lexer_.parse_domain(text);
    if (ret < 0) return -1;
    current_.host = text;
    return ret;
  }

  int parse_domain_list() {
    std::string route;
    for (;;) {
      if (lexer_.at_end()) return 0;
      if (lexer_.cur() != '@') break;
      if (!route.empty()) route.push_back(',');
      route.push_back('@');
      int ret = lexer_.parse_domain(route);
      if (ret <= 0) return ret;
      while (lexer_.skip_lwsp() > 0 && lexer_.cur() == ',') lexer_.advance();
    }
    current_.route = route;
    return 1;
  }

  int parse_angle_addr() {
    lexer_.advance();  // '<'
    if (lexer_.skip_lwsp() <= 0) return -1;
    if (lexer_.cur() == '@') {
      if (parse_domain_list() > 0 && lexer_.cur() == ':') {
        lexer_.advance();
      } else {
        current_.route = "INVALID_ROUTE";
        if (lexer_.at_end()) return -1;
        // try to continue anyway
      }
      if (lexer_.skip_lwsp() <= 0) return -1;
    }
    if (lexer_.cur() != '>') {  // "<>" is not valid, but common for "no address"
      if (parse_local_part() <= 0) return -1;
      if (lexer_.cur() == '@' && parse_domain() <= 0) return -1;
    }
    if (lexer_.cur() != '>') return -1;
    lexer_.advance();
    return lexer_.skip_lwsp();
  }

  int parse_name_addr() {
    std::string phrase;
    if (lexer_.parse_phrase(phrase) <= 0 || lexer_.cur() != '<') return -1;
    if (phrase.empty()) {
      current_.name.reset();  // "<address>" without a display name
    } else {
      current_.name = phrase;
    }
    if (parse_angle_addr() < 0) {
      current_.host = "SYNTAX_ERROR";
      invalid_ = true;
    }
    return lexer_.at_end() ? 0 : 1;
  }

  int parse_addr_spec() {
    last_comment_.clear();
    bool quoted_string = lexer_.cur() == '"';
    int ret = parse_local_part();
    if (ret <= 0) invalid_ = true;
    int ret2 = -2;
    if (ret != 0 && !lexer_.at_end() && lexer_.cur() == '@') {
      ret2 = parse_domain();
      if (ret2 <= 0) ret = ret2;
    }
    if (!last_comment_.empty()) {
      current_.name = last_comment_;
    } else if (ret2 == -2) {
      // "user" alone is a mailbox without domain; "user more words" is a display name.
      std::string phrase = current_.mailbox.value_or(std::string()) + " ";
      const std::size_t before = phrase.size();
      (void)lexer_.parse_phrase(phrase);
      if (phrase.size() != before) {
        current_.mailbox.reset();
        current_.name = phrase;
      } else if (!quoted_string) {
        current_.host = "";
      }
      invalid_ = true;
      ret = -1;
    }
    return ret;
  }

  void add_fixed_address() {
    if (!current_.mailbox) current_.mailbox = "MISSING_MAILBOX";
    if (!current_.host || current_.host->empty()) current_.host = "MISSING_DOMAIN";
    add_address();
  }

  void add_address() {
    result_.push_back(current_);
    current_ = EnvelopeAddress{};
    invalid_ = false;
  }

  int parse_mailbox() {
    const char* start = lexer_.position();
    int ret = parse_name_addr();
    if (ret < 0) {
      lexer_.set_position(start);
      current_ = EnvelopeAddress{};
      ret = parse_addr_spec();
      if (invalid_ && !current_.name && current_.mailbox && !current_.host) {
        current_.name = current_.mailbox;
        current_.mailbox.reset();
      }
    }
    add_fixed_address();
    return ret;
  }

  int parse_group() {
    std::string phrase;
    if (lexer_.parse_phrase(phrase) <= 0 || lexer_.cur() != ':') return -1;
    // From here on this is a group, whatever follows.
    lexer_.advance();
    int ret = lexer_.skip_lwsp();
    current_ = EnvelopeAddress{};
    current_.mailbox = phrase;
    add_address();
    if (ret > 0 && lexer_.cur() != ';') {
      for (;;) {
        (void)parse_mailbox();  // a broken mailbox: go on anyway
        if (lexer_.at_end() || lexer_.cur() != ',') break;
        lexer_.advance();
        if (lexer_.skip_lwsp() <= 0) {
          ret = -1;
          break;
        }
      }
    }
    if (ret >= 0) {
      if (lexer_.at_end() || lexer_.cur() != ';') {
        ret = -1;
      } else {
        lexer_.advance();
        ret = lexer_.skip_lwsp();
      }
    }
    add_address();  // the group end marker
    return ret == 0 ? 0 : 1;
  }

  int parse_address() {
    const char* start = lexer_.position();
    int ret = parse_group();
    if (ret < 0) {
      lexer_.set_position(start);
      current_ = EnvelopeAddress{};
      ret = parse_mailbox();
    }
    return ret;
  }

  void parse_address_list() {
    for (;;) {
      if (parse_address() == 0) break;
      if (lexer_.at_end() || lexer_.cur() != ',') break;
      lexer_.advance();
      int ret = lexer_.skip_lwsp();
      if (ret <= 0) {
        if (ret < 0) add_fixed_address();  // ends with garbage
        break;
      }
    }
  }

  bool invalid_ = false;
  std::string last_comment_;
  Rfc822Lexer lexer_;
  EnvelopeAddress current_;
  std::vector<EnvelopeAddress> result_;
};

}  // namespace

std::optional<std::vector<EnvelopeAddress>> parse_envelope_addresses(std::string_view value) {
  std::vector<EnvelopeAddress> addresses = AddressParser(value).parse();
  if (addresses.empty()) return std::nullopt;
  return addresses;
}

}  // namespace mailtrixy::mime::detail
