#include "grammar.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

namespace mailtrixy::imap::detail {
namespace {

// Thrown inside the grammar; caught once in run_grammar().
struct SyntaxError {
  std::string message;
};
// Trial parse reached the literal that has not arrived yet.
struct NeedLiteral {};

constexpr int kEnd = -1;      // end of the command
constexpr int kLiteral = -2;  // a literal announcement: read it with the literal functions

// Recursion guard for SEARCH's NOT/OR/parentheses: real clients nest a few levels.
constexpr int kMaxSearchDepth = 64;
constexpr std::size_t kMaxShownText = 40;

bool is_atom_char(int c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(': case ')': case '{': case '%': case '*': case '"': case '\\': case ']':
      return false;
    default:
      return true;
  }
}
bool is_astring_char(int c) { return is_atom_char(c) || c == ']'; }
bool is_list_char(int c) { return is_atom_char(c) || c == '%' || c == '*' || c == ']'; }
bool is_tag_char(int c) { return is_astring_char(c) && c != '+'; }
bool is_digit(int c) { return c >= '0' && c <= '9'; }

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// Shows client text inside an error message without echoing control bytes or huge strings.
std::string shown(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, kMaxShownText)) {
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (text.size() > kMaxShownText) out += "...";
  return out;
}

[[noreturn]] void fail(std::string message) { throw SyntaxError{std::move(message)}; }

std::optional<unsigned> month_from_name(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                               "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (iequals(name, kMonths[i])) return i + 1;
  }
  return std::nullopt;
}

bool valid_day(int year, unsigned month, unsigned day) {
  if (month < 1 || month > 12 || day < 1) return false;
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month},
                                         std::chrono::day{day}};
  return date.ok();
}

// Parses a sequence set written as `text` (already cut at the first character that cannot be
// part of one); nullopt when it is not valid.
std::optional<SequenceSet> sequence_set_from(std::string_view text) {
  SequenceSet set;
  auto bound = [](std::string_view part) -> std::optional<SequenceBound> {
    if (part == "*") return SequenceBound::largest();
    if (part.empty() || part.size() > 10) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : part) {
      if (!is_digit(c)) return std::nullopt;
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (value == 0 || value > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
    return SequenceBound::number(static_cast<std::uint32_t>(value));
  };
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    const std::size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      const auto single = bound(item);
      if (!single) return std::nullopt;
      set.ranges.push_back({*single, *single});
    } else {
      const auto first = bound(item.substr(0, colon));
      const auto last = bound(item.substr(colon + 1));
      if (!first || !last) return std::nullopt;
      set.ranges.push_back({*first, *last});
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return set;
}

class Grammar {
 public:
  Grammar(const FramedCommand& framed, FramedCommand* owner) : framed_(framed), owner_(owner) {}

  Command parse_command() {
    Command command;
    command.tag = tag();
    expect_space("command name");
    const std::string name = upper(atom("command name"));
    if (name == "UID") {
      expect_space("command after UID");
      const std::string inner = upper(atom("command after UID"));
      command.uid = true;
      if (inner == "FETCH") {
        parse_fetch(command);
      } else if (inner == "SEARCH") {
        parse_search(command);
      } else if (inner == "STORE") {
        parse_store(command);
      } else if (inner == "COPY") {
        parse_copy(command, CommandKind::copy);
      } else if (inner == "MOVE") {
        parse_copy(command, CommandKind::move);
      } else if (inner == "EXPUNGE") {
        command.kind = CommandKind::expunge;
        expect_space("sequence set");
        command.arguments = UidExpungeArgs{sequence_set()};
      } else {
        fail("UID must be followed by FETCH, SEARCH, STORE, COPY, MOVE or EXPUNGE, not " + shown(inner) + ".");
      }
    } else {
      parse_named(command, name);
    }
    finish(command_name(command.kind));
    return command;
  }

 private:
  // ---- cursor ---------------------------------------------------------------------------------

  const std::string& line() const { return framed_.lines[line_]; }
  bool literal_here() const {
    return line_ < framed_.literal_offsets.size() && pos_ == framed_.literal_offsets[line_];
  }
  int peek() const {
    if (literal_here()) return kLiteral;
    if (pos_ >= line().size()) return kEnd;
    return static_cast<unsigned char>(line()[pos_]);
  }
  bool trial() const { return owner_ == nullptr; }

  bool skip_spaces() {
    bool any = false;
    while (peek() == ' ') {
      ++pos_;
      any = true;
    }
    return any;
  }

  // Arguments are separated by one space; runs of spaces are accepted (sloppy clients).
  void expect_space(std::string_view what) {
    if (skip_spaces()) return;
    if (peek() == kEnd) fail("Missing " + std::string(what) + ".");
    fail("Expected a space before the " + std::string(what) + ", found " + found() + ".");
  }

  void expect_char(char c, std::string_view context) {
    if (peek() == static_cast<unsigned char>(c)) {
      ++pos_;
      return;
    }
    fail("Expected '" + std::string(1, c) + "' " + std::string(context) + ", found " + found() + ".");
  }

  bool accept_char(char c) {
    if (peek() == static_cast<unsigned char>(c)) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string found() const {
    const int c = peek();
    if (c == kEnd) return "the end of the command";
    if (c == kLiteral) return "a literal";
    if (c >= 0x80) return "an 8-bit character";
    if (c < 0x20 || c == 0x7f) return "a control character";
    std::size_t end = pos_;
    while (end < line().size() && line()[end] != ' ' && end - pos_ < kMaxShownText) ++end;
    return "\"" + shown(std::string_view(line()).substr(pos_, std::max<std::size_t>(end - pos_, 1))) + "\"";
  }

  void finish(std::string_view command) {
    skip_spaces();
    if (peek() == kEnd) return;
    if (peek() == ')') fail("Unbalanced parentheses: ')' without a matching '('.");
    fail("Too many arguments for " + std::string(command) + ": found " + found() + ".");
  }

  // Characters accepted by `accept`, possibly none.
  template <typename Pred>
  std::string_view take_while(Pred accept) {
    const std::size_t start = pos_;
    while (true) {
      const int c = peek();
      if (c < 0 || !accept(c)) break;
      ++pos_;
    }
    return std::string_view(line()).substr(start, pos_ - start);
  }

  void reject_8bit(std::string_view what) {
    if (peek() >= 0x80) {
      fail("Invalid " + std::string(what) + ": 8-bit characters must be sent in a quoted string or a literal.");
    }
  }

  std::string_view atom(std::string_view what) {
    const std::string_view text = take_while(is_atom_char);
    if (text.empty()) {
      if (peek() == kEnd) fail("Missing " + std::string(what) + ".");
      reject_8bit(what);
      fail("Invalid " + std::string(what) + ": expected an atom, found " + found() + ".");
    }
    reject_8bit(what);
    return text;
  }

  std::string tag() {
    const std::string_view text = take_while(is_tag_char);
    if (text.empty()) fail("Invalid tag: a command starts with a tag made of letters, digits or punctuation.");
    return std::string(text);
  }

  // Reads "{n}" / "{n+}" at the cursor and returns the literal's bytes.
  std::string_view literal() {
    if (line_ >= framed_.literals.size()) throw NeedLiteral{};
    const std::string_view bytes = framed_.literals[line_];
    ++line_;
    pos_ = 0;
    return bytes;
  }

  std::string own(std::string_view bytes) const { return trial() ? std::string() : std::string(bytes); }

  std::string quoted(std::string_view what) {
    ++pos_;  // the opening quote
    std::string value;
    while (true) {
      const int c = peek();
      if (c == kEnd || c == kLiteral) fail("Unterminated quoted string in the " + std::string(what) + ".");
      ++pos_;
      if (c == '"') return value;
      if (c == '\\') {
        const int escaped = peek();
        if (escaped != '"' && escaped != '\\') {
          fail("Invalid escape in the quoted " + std::string(what) +
               ": only \\\" and \\\\ may be escaped.");
        }
        ++pos_;
        value += static_cast<char>(escaped);
        continue;
      }
      value += static_cast<char>(c);
    }
  }

  std::string literal_string(std::string_view what) {
    const std::string_view bytes = literal();
    if (trial()) return {};
    if (bytes.find('\0') != std::string_view::npos) {
      fail("The literal " + std::string(what) + " contains a NUL byte, which IMAP does not allow.");
    }
    return std::string(bytes);
  }

  // string = quoted / literal
  std::string string_value(std::string_view what) {
    const int c = peek();
    if (c == '"') return quoted(what);
    if (c == kLiteral) return literal_string(what);
    if (c == kEnd) fail("Missing " + std::string(what) + ".");
    fail("Invalid " + std::string(what) + ": expected a quoted string or a literal, found " + found() + ".");
  }

  // astring = 1*ASTRING-CHAR / string
  std::string astring(std::string_view what) {
    const int c = peek();
    if (c == '"') return quoted(what);
    if (c == kLiteral) return literal_string(what);
    const std::string_view text = take_while(is_astring_char);
    if (text.empty()) {
      if (c == kEnd) fail("Missing " + std::string(what) + ".");
      reject_8bit(what);
      fail("Invalid " + std::string(what) + ": expected an atom, a quoted string or a literal, found " +
           found() + ".");
    }
    reject_8bit(what);
    return std::string(text);
  }

  // nstring = string / "NIL"
  std::optional<std::string> nstring(std::string_view what) {
    if (peek() != '"' && peek() != kLiteral) {
      const std::size_t start = pos_;
      const std::string_view word = take_while(is_atom_char);
      if (iequals(word, "NIL")) return std::nullopt;
      pos_ = start;
    }
    return string_value(what);
  }

  std::string mailbox() { return astring("mailbox name"); }

  // list-mailbox = 1*list-char / string
  std::string list_mailbox(std::string_view what) {
    const int c = peek();
    if (c == '"') return quoted(what);
    if (c == kLiteral) return literal_string(what);
    const std::string_view text = take_while(is_list_char);
    if (text.empty()) {
      if (c == kEnd) fail("Missing " + std::string(what) + ".");
      reject_8bit(what);
      fail("Invalid " + std::string(what) + ": found " + found() + ".");
    }
    reject_8bit(what);
    return std::string(text);
  }

  std::uint64_t number(std::string_view what, std::uint64_t max) {
    const std::string_view digits = take_while(is_digit);
    if (digits.empty()) {
      if (peek() == kEnd) fail("Missing " + std::string(what) + ".");
      fail("Invalid " + std::string(what) + ": expected a number, found " + found() + ".");
    }
    std::uint64_t value = 0;
    for (char d : digits) {
      const auto digit = static_cast<std::uint64_t>(d - '0');
      if (value > (max - digit) / 10) fail("The " + std::string(what) + " " + shown(digits) + " is too large.");
      value = value * 10 + digit;
    }
    return value;
  }

  SequenceSet sequence_set() {
    const std::string_view text =
        take_while([](int c) { return is_digit(c) || c == ':' || c == ',' || c == '*'; });
    const int next = peek();
    if (text.empty()) {
      if (next == kEnd) fail("Missing sequence set.");
      if (next == '$') fail("The saved search result ($) is not supported; send the sequence set itself.");
      fail("Invalid sequence set: expected numbers, ranges or '*', found " + found() + ".");
    }
    if (next >= 0 && next != ' ' && next != ')') {
      fail("Invalid sequence set: " + shown(text) + " followed by " + found() + ".");
    }
    auto set = sequence_set_from(text);
    if (!set) {
      fail("Invalid sequence set: " + shown(text) +
           " (use numbers from 1 to 4294967295, 'n:m' ranges and '*', separated by commas).");
    }
    return std::move(*set);
  }

  // date = date-text / DQUOTE date-text DQUOTE ; date-text = date-day "-" date-month "-" date-year
  Date date(std::string_view what) {
    const bool quoted_date = accept_char('"');
    if (!quoted_date && peek() == kEnd) fail("Missing " + std::string(what) + ".");
    const std::size_t start = pos_;
    const std::string_view day = take_while(is_digit);
    const bool dash1 = accept_char('-');
    const std::string_view month = take_while([](int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
    const bool dash2 = accept_char('-');
    const std::string_view year = take_while(is_digit);
    const std::string_view text = std::string_view(line()).substr(start, pos_ - start);
    const auto month_number = month_from_name(month);
    if (day.empty() || day.size() > 2 || !dash1 || !month_number || !dash2 || year.size() != 4) {
      fail("Invalid " + std::string(what) + ": " + shown(text) + " (expected a date like 1-Feb-1994).");
    }
    Date result;
    result.day = static_cast<unsigned>(std::stoi(std::string(day)));
    result.month = *month_number;
    result.year = std::stoi(std::string(year));
    if (!valid_day(result.year, result.month, result.day)) {
      fail("Invalid " + std::string(what) + ": " + shown(text) + " is not a day of the calendar.");
    }
    if (quoted_date && !accept_char('"')) fail("Invalid " + std::string(what) + ": missing closing quote.");
    if (is_atom_char(peek())) fail("Invalid " + std::string(what) + ": unexpected " + found() + ".");
    return result;
  }

  // date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
  mail::TimePoint date_time() {
    const std::size_t start = pos_;
    auto invalid = [&](std::string_view why) {
      const std::size_t quote = line().find('"', start + 1);
      const std::size_t end = std::min({line().size(), quote == std::string::npos ? line().size() : quote + 1,
                                        framed_.literal_offsets.size() > line_ ? framed_.literal_offsets[line_] : line().size()});
      fail("Invalid date-time " + shown(std::string_view(line()).substr(start, end - start)) + ": " +
           std::string(why) + " (expected \"17-Jul-1996 02:44:25 -0700\").");
    };
    ++pos_;  // opening quote
    accept_char(' ');  // date-day-fixed pads one-digit days with a space
    auto digits = [&](std::size_t count, std::string_view field) {
      const std::string_view text = take_while(is_digit);
      if (text.empty() || text.size() > count) invalid(field);
      return static_cast<unsigned>(std::stoul(std::string(text)));
    };
    auto exact_digits = [&](std::size_t count, std::string_view field) {
      const std::string_view text = take_while(is_digit);
      if (text.size() != count) invalid(field);
      return static_cast<unsigned>(std::stoul(std::string(text)));
    };
    const unsigned day = digits(2, "bad day");
    if (!accept_char('-')) invalid("bad date");
    const auto month = month_from_name(take_while([](int c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }));
    if (!month) invalid("bad month");
    if (!accept_char('-')) invalid("bad date");
    const int year = static_cast<int>(exact_digits(4, "bad year"));
    if (!valid_day(year, *month, day)) invalid("no such day");
    if (!accept_char(' ')) invalid("missing time");
    const unsigned hour = exact_digits(2, "bad hour");
    if (!accept_char(':')) invalid("bad time");
    const unsigned minute = exact_digits(2, "bad minute");
    if (!accept_char(':')) invalid("bad time");
    const unsigned second = exact_digits(2, "bad second");
    if (hour > 23 || minute > 59 || second > 60) invalid("no such time");
    if (!accept_char(' ')) invalid("missing time zone");
    const int sign = accept_char('+') ? 1 : (accept_char('-') ? -1 : 0);
    if (sign == 0) invalid("the time zone must start with + or -");
    const unsigned zone = exact_digits(4, "bad time zone");
    if (zone % 100 > 59) invalid("bad time zone");
    if (!accept_char('"')) invalid("missing closing quote");
    using namespace std::chrono;
    const sys_days days{year_month_day{std::chrono::year{year}, std::chrono::month{*month}, std::chrono::day{day}}};
    // A leap second (:60) is folded into the next second; Graph has no way to store it anyway.
    const seconds local = hours{hour} + minutes{minute} + seconds{second};
    const seconds offset = sign * (hours{zone / 100} + minutes{zone % 100});
    return mail::TimePoint{days} + local - offset;
  }

  // flag = "\" atom / keyword
  std::string flag() {
    const int c = peek();
    if (c == '\\') {
      ++pos_;
      const std::string_view name = take_while(is_atom_char);
      if (name.empty()) fail("Invalid flag: '\\' must be followed by a flag name such as \\Seen.");
      reject_8bit("flag");
      return "\\" + std::string(name);
    }
    if (c == kEnd) fail("Missing flag.");
    return std::string(atom("flag"));
  }

  // "(" [flag *(SP flag)] ")"
  std::vector<std::string> flag_list() {
    expect_char('(', "to open the flag list");
    std::vector<std::string> flags;
    skip_spaces();
    while (!accept_char(')')) {
      if (peek() == kEnd) fail("Unterminated flag list: missing ')'.");
      if (!flags.empty()) expect_space("flag");
      if (accept_char(')')) break;
      flags.push_back(flag());
    }
    return flags;
  }

  // ---- commands -------------------------------------------------------------------------------

  void parse_named(Command& command, const std::string& name) {
    struct NoArgument {
      std::string_view name;
      CommandKind kind;
    };
    static constexpr std::array<NoArgument, 10> kNoArguments = {{
        {"CAPABILITY", CommandKind::capability}, {"NOOP", CommandKind::noop},
        {"LOGOUT", CommandKind::logout},         {"STARTTLS", CommandKind::starttls},
        {"NAMESPACE", CommandKind::namespace_},  {"IDLE", CommandKind::idle},
        {"CHECK", CommandKind::check},           {"CLOSE", CommandKind::close},
        {"UNSELECT", CommandKind::unselect},     {"EXPUNGE", CommandKind::expunge},
    }};
    for (const auto& entry : kNoArguments) {
      if (name == entry.name) {
        command.kind = entry.kind;
        return;
      }
    }
    if (name == "LOGIN") return parse_login(command);
    if (name == "AUTHENTICATE") return parse_authenticate(command);
    if (name == "ENABLE") return parse_enable(command);
    if (name == "ID") return parse_id(command);
    if (name == "SELECT") return parse_mailbox_command(command, CommandKind::select, true);
    if (name == "EXAMINE") return parse_mailbox_command(command, CommandKind::examine, true);
    if (name == "CREATE") return parse_mailbox_command(command, CommandKind::create, true);
    if (name == "DELETE") return parse_mailbox_command(command, CommandKind::delete_, false);
    if (name == "SUBSCRIBE") return parse_mailbox_command(command, CommandKind::subscribe, false);
    if (name == "UNSUBSCRIBE") return parse_mailbox_command(command, CommandKind::unsubscribe, false);
    if (name == "RENAME") return parse_rename(command);
    if (name == "LIST") return parse_list(command);
    if (name == "XLIST") {
      parse_list(command);
      std::get<ListArgs>(command.arguments).xlist = true;
      return;
    }
    if (name == "LSUB") return parse_lsub(command);
    if (name == "STATUS") return parse_status(command);
    if (name == "APPEND") return parse_append(command);
    if (name == "SEARCH") return parse_search(command);
    if (name == "FETCH") return parse_fetch(command);
    if (name == "STORE") return parse_store(command);
    if (name == "COPY") return parse_copy(command, CommandKind::copy);
    if (name == "MOVE") return parse_copy(command, CommandKind::move);
    fail("Unknown command: " + shown(name) + ".");
  }

  void parse_login(Command& command) {
    command.kind = CommandKind::login;
    LoginArgs args;
    expect_space("user name");
    args.user = astring("user name");
    expect_space("password");
    args.password = astring("password");
    command.arguments = std::move(args);
  }

  void parse_authenticate(Command& command) {
    command.kind = CommandKind::authenticate;
    AuthenticateArgs args;
    expect_space("authentication mechanism");
    args.mechanism = upper(atom("authentication mechanism"));
    if (skip_spaces() && peek() != kEnd) {
      const std::string_view response = take_while(is_atom_char);
      const bool base64 = !response.empty() && std::all_of(response.begin(), response.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '+' || c == '/' ||
               c == '=';
      });
      if (!base64 || (peek() != kEnd && peek() != ' ')) {
        fail("Invalid initial response: send it base64-encoded, or '=' for an empty one.");
      }
      args.initial_response = std::string(response);
    }
    command.arguments = std::move(args);
  }

  void parse_enable(Command& command) {
    command.kind = CommandKind::enable;
    EnableArgs args;
    expect_space("capability to enable");
    args.capabilities.push_back(upper(atom("capability to enable")));
    while (skip_spaces() && peek() != kEnd) args.capabilities.push_back(upper(atom("capability to enable")));
    command.arguments = std::move(args);
  }

  void parse_id(Command& command) {
    command.kind = CommandKind::id;
    IdArgs args;
    expect_space("ID parameter list or NIL");
    if (peek() != '(') {
      const std::string_view word = take_while(is_atom_char);
      if (!iequals(word, "NIL")) fail("Invalid ID parameters: expected a parenthesised list or NIL.");
      command.arguments = std::move(args);
      return;
    }
    ++pos_;
    args.fields.emplace();
    skip_spaces();
    while (!accept_char(')')) {
      if (peek() == kEnd) fail("Unterminated ID parameter list: missing ')'.");
      if (!args.fields->empty()) expect_space("ID field name");
      if (accept_char(')')) break;
      std::string field = astring("ID field name");
      expect_space("ID field value");
      auto value = nstring("ID field value");
      args.fields->emplace_back(std::move(field), std::move(value));
    }
    command.arguments = std::move(args);
  }

  // tagged-ext-val (RFC 4466): a simple token or a parenthesised list, which the parser only
  // has to step over (the parameter names are what the session decides on).
  void skip_extension_value(int depth) {
    if (depth > kMaxSearchDepth) fail("Parameter value is nested too deeply.");
    if (accept_char('(')) {
      while (true) {
        skip_spaces();
        if (accept_char(')')) return;
        if (peek() == kEnd) fail("Unterminated parameter value: missing ')'.");
        skip_extension_value(depth + 1);
      }
    }
    const int c = peek();
    if (c == '"' || c == kLiteral) {
      (void)string_value("parameter value");
      return;
    }
    const auto value_char = [](int ch) {
      return ch > 0x20 && ch < 0x7f && ch != '(' && ch != ')' && ch != '"' && ch != '{';
    };
    if (take_while(value_char).empty()) {
      fail("Invalid parameter value: found " + found() + ".");
    }
  }

  // SELECT/EXAMINE/CREATE parameters: "(" name [SP value] *(SP name [SP value]) ")"
  std::vector<std::string> mailbox_parameters() {
    std::vector<std::string> names;
    expect_char('(', "to open the parameter list");
    skip_spaces();
    while (!accept_char(')')) {
      if (peek() == kEnd) fail("Unterminated parameter list: missing ')'.");
      names.push_back(upper(atom("parameter name")));
      // A value starts with a digit, '*' or '('; anything else is the next parameter's name.
      if (skip_spaces() && (is_digit(peek()) || peek() == '*' || peek() == '(')) {
        skip_extension_value(0);
        skip_spaces();
      }
    }
    return names;
  }

  void parse_mailbox_command(Command& command, CommandKind kind, bool parameters) {
    command.kind = kind;
    MailboxArgs args;
    expect_space("mailbox name");
    args.mailbox = mailbox();
    if (parameters && skip_spaces() && peek() == '(') args.parameters = mailbox_parameters();
    command.arguments = std::move(args);
  }

  void parse_rename(Command& command) {
    command.kind = CommandKind::rename;
    RenameArgs args;
    expect_space("mailbox name");
    args.from = mailbox();
    expect_space("new mailbox name");
    args.to = astring("new mailbox name");
    command.arguments = std::move(args);
  }

  std::vector<std::string> status_items() {
    static constexpr std::array<std::string_view, 7> kItems = {"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
                                                               "UNSEEN", "SIZE", "DELETED"};
    expect_char('(', "to open the STATUS item list");
    std::vector<std::string> items;
    skip_spaces();
    while (!accept_char(')')) {
      if (peek() == kEnd) fail("Unterminated STATUS item list: missing ')'.");
      if (!items.empty()) expect_space("STATUS item");
      if (accept_char(')')) break;
      std::string item = upper(atom("STATUS item"));
      if (std::find(kItems.begin(), kItems.end(), item) == kItems.end()) {
        fail("Unknown STATUS item: " + shown(item) +
             " (use MESSAGES, RECENT, UIDNEXT, UIDVALIDITY, UNSEEN, SIZE or DELETED).");
      }
      items.push_back(std::move(item));
    }
    if (items.empty()) fail("The STATUS item list is empty; name at least one item.");
    return items;
  }

  void parse_status(Command& command) {
    command.kind = CommandKind::status;
    StatusArgs args;
    expect_space("mailbox name");
    args.mailbox = mailbox();
    expect_space("STATUS item list");
    args.items = status_items();
    command.arguments = std::move(args);
  }

  void parse_lsub(Command& command) {
    command.kind = CommandKind::lsub;
    ListArgs args;
    expect_space("reference name");
    args.reference = mailbox();
    expect_space("mailbox pattern");
    args.patterns.push_back(list_mailbox("mailbox pattern"));
    command.arguments = std::move(args);
  }

  void parse_list(Command& command) {
    command.kind = CommandKind::list;
    ListArgs args;
    expect_space("reference name");
    if (accept_char('(')) {
      args.extended = true;
      bool any_other = false;
      skip_spaces();
      while (!accept_char(')')) {
        if (peek() == kEnd) fail("Unterminated LIST selection options: missing ')'.");
        const std::string option = upper(atom("LIST selection option"));
        if (option == "SUBSCRIBED") {
          args.selection.subscribed = true;
          any_other = true;
        } else if (option == "REMOTE") {
          args.selection.remote = true;
        } else if (option == "RECURSIVEMATCH") {
          args.selection.recursive_match = true;
        } else if (option == "SPECIAL-USE") {
          args.selection.special_use = true;
          any_other = true;
        } else {
          fail("Unknown LIST selection option: " + shown(option) + ".");
        }
        skip_spaces();
      }
      // RFC 5258 3.1: RECURSIVEMATCH only refines another selection option.
      if (args.selection.recursive_match && !any_other) {
        fail("RECURSIVEMATCH needs another selection option such as SUBSCRIBED.");
      }
      expect_space("reference name");
    }
    args.reference = mailbox();
    expect_space("mailbox pattern");
    if (accept_char('(')) {
      skip_spaces();
      while (!accept_char(')')) {
        if (peek() == kEnd) fail("Unterminated LIST pattern list: missing ')'.");
        if (!args.patterns.empty()) expect_space("mailbox pattern");
        if (accept_char(')')) break;
        args.patterns.push_back(list_mailbox("mailbox pattern"));
      }
      if (args.patterns.empty()) fail("The LIST pattern list is empty; give at least one pattern.");
    } else {
      args.patterns.push_back(list_mailbox("mailbox pattern"));
    }
    if (skip_spaces() && peek() != kEnd) {
      const std::string word = upper(atom("LIST return options"));
      if (word != "RETURN") fail("Unexpected " + shown(word) + " after the LIST pattern; expected RETURN.");
      args.extended = true;
      expect_space("LIST return options");
      expect_char('(', "to open the LIST return options");
      skip_spaces();
      while (!accept_char(')')) {
        if (peek() == kEnd) fail("Unterminated LIST return options: missing ')'.");
        const std::string option = upper(atom("LIST return option"));
        if (option == "SUBSCRIBED") {
          args.returns.subscribed = true;
        } else if (option == "CHILDREN") {
          args.returns.children = true;
        } else if (option == "SPECIAL-USE") {
          args.returns.special_use = true;
        } else if (option == "STATUS") {
          expect_space("STATUS item list");
          args.returns.status_items = status_items();
        } else {
          fail("Unknown LIST return option: " + shown(option) + ".");
        }
        skip_spaces();
      }
    }
    command.arguments = std::move(args);
  }

  void parse_append(Command& command) {
    command.kind = CommandKind::append;
    AppendArgs args;
    expect_space("mailbox name");
    args.mailbox = mailbox();
    expect_space("message literal");
    if (peek() == '(') {
      args.flags = flag_list();
      expect_space("message literal");
    }
    if (peek() == '"') {
      args.internal_date = date_time();
      expect_space("message literal");
    }
    if (peek() != kLiteral) {
      if (peek() == kEnd) fail("Missing message literal.");
      fail("The APPEND message must be sent as a literal ({size} or {size+}), found " + found() + ".");
    }
    const std::size_t index = line_;
    (void)literal();
    // The message is the one big thing a command carries: hand its buffer over instead of copying.
    if (!trial()) args.message = std::move(owner_->literals[index]);
    command.arguments = std::move(args);
  }

  // ---- SEARCH ---------------------------------------------------------------------------------

  void parse_search(Command& command) {
    command.kind = CommandKind::search;
    SearchArgs args;
    expect_space("search criteria");
    std::size_t mark_line = line_;
    std::size_t mark_pos = pos_;
    std::string word = upper(take_while(is_atom_char));
    if (word == "RETURN" && peek() == ' ') {
      skip_spaces();
      expect_char('(', "to open the SEARCH return options");
      args.return_options.emplace();
      skip_spaces();
      while (!accept_char(')')) {
        if (peek() == kEnd) fail("Unterminated SEARCH return options: missing ')'.");
        std::string option = upper(atom("SEARCH return option"));
        if (option != "MIN" && option != "MAX" && option != "ALL" && option != "COUNT") {
          fail("Unknown SEARCH return option: " + shown(option) + " (use MIN, MAX, ALL or COUNT).");
        }
        args.return_options->push_back(std::move(option));
        skip_spaces();
      }
      expect_space("search criteria");
      mark_line = line_;
      mark_pos = pos_;
      word = upper(take_while(is_atom_char));
    }
    if (word == "CHARSET" && peek() == ' ') {
      skip_spaces();
      args.charset = upper(astring("charset"));
      expect_space("search criteria");
    } else {
      line_ = mark_line;
      pos_ = mark_pos;
    }
    args.keys.push_back(search_key(0));
    while (skip_spaces() && peek() != kEnd) args.keys.push_back(search_key(0));
    command.arguments = std::move(args);
  }

  SearchKey search_key(int depth) {
    if (depth > kMaxSearchDepth) fail("Search criteria are nested too deeply.");
    SearchKey key;
    const int c = peek();
    if (c == '(') {
      ++pos_;
      key.kind = SearchKey::Kind::and_;
      skip_spaces();
      while (!accept_char(')')) {
        if (peek() == kEnd) fail("Unbalanced parentheses in the search criteria: missing ')'.");
        if (!key.children.empty()) expect_space("search key");
        if (accept_char(')')) break;
        key.children.push_back(search_key(depth + 1));
      }
      if (key.children.empty()) fail("Empty parentheses in the search criteria.");
      return key;
    }
    if (c == kEnd) fail("Missing search key.");
    if (is_digit(c) || c == '*' || c == '$') {
      key.kind = SearchKey::Kind::sequence_set;
      key.set = sequence_set();
      return key;
    }
    const std::string name = upper(atom("search key"));
    using Kind = SearchKey::Kind;
    struct Simple {
      std::string_view name;
      Kind kind;
    };
    static constexpr std::array<Simple, 14> kSimple = {{
        {"ALL", Kind::all},           {"ANSWERED", Kind::answered},     {"DELETED", Kind::deleted},
        {"DRAFT", Kind::draft},       {"FLAGGED", Kind::flagged},       {"NEW", Kind::new_},
        {"OLD", Kind::old},           {"RECENT", Kind::recent},         {"SEEN", Kind::seen},
        {"UNANSWERED", Kind::unanswered}, {"UNDELETED", Kind::undeleted}, {"UNDRAFT", Kind::undraft},
        {"UNFLAGGED", Kind::unflagged}, {"UNSEEN", Kind::unseen},
    }};
    for (const auto& entry : kSimple) {
      if (name == entry.name) {
        key.kind = entry.kind;
        return key;
      }
    }
    static constexpr std::array<Simple, 7> kText = {{
        {"BCC", Kind::bcc}, {"BODY", Kind::body}, {"CC", Kind::cc}, {"FROM", Kind::from},
        {"SUBJECT", Kind::subject}, {"TEXT", Kind::text}, {"TO", Kind::to},
    }};
    for (const auto& entry : kText) {
      if (name == entry.name) {
        key.kind = entry.kind;
        expect_space("text to search for after " + name);
        key.text = astring("text to search for after " + name);
        return key;
      }
    }
    static constexpr std::array<Simple, 6> kDates = {{
        {"BEFORE", Kind::before}, {"ON", Kind::on}, {"SINCE", Kind::since},
        {"SENTBEFORE", Kind::sent_before}, {"SENTON", Kind::sent_on}, {"SENTSINCE", Kind::sent_since},
    }};
    for (const auto& entry : kDates) {
      if (name == entry.name) {
        key.kind = entry.kind;
        expect_space("date after " + name);
        key.date = date("date after " + name);
        return key;
      }
    }
    if (name == "KEYWORD" || name == "UNKEYWORD") {
      key.kind = name == "KEYWORD" ? Kind::keyword : Kind::unkeyword;
      expect_space("keyword after " + name);
      key.text = std::string(atom("keyword after " + name));
      return key;
    }
    if (name == "HEADER") {
      key.kind = Kind::header;
      expect_space("header field name");
      key.header_name = astring("header field name");
      expect_space("text to search for in the header");
      key.text = astring("text to search for in the header");
      return key;
    }
    if (name == "LARGER" || name == "SMALLER") {
      key.kind = name == "LARGER" ? Kind::larger : Kind::smaller;
      expect_space("size after " + name);
      key.number = number("size after " + name, std::numeric_limits<std::int64_t>::max());
      return key;
    }
    if (name == "UID") {
      key.kind = Kind::uid;
      expect_space("UID set");
      key.set = sequence_set();
      return key;
    }
    if (name == "NOT") {
      key.kind = Kind::not_;
      expect_space("search key after NOT");
      key.children.push_back(search_key(depth + 1));
      return key;
    }
    if (name == "OR") {
      key.kind = Kind::or_;
      expect_space("first search key after OR");
      key.children.push_back(search_key(depth + 1));
      expect_space("second search key after OR");
      key.children.push_back(search_key(depth + 1));
      return key;
    }
    fail("Unknown search key: " + shown(name) + ".");
  }

  // ---- FETCH ----------------------------------------------------------------------------------

  void parse_fetch(Command& command) {
    command.kind = CommandKind::fetch;
    FetchArgs args;
    expect_space("sequence set");
    args.set = sequence_set();
    expect_space("FETCH attributes");
    using Kind = FetchAttribute::Kind;
    auto simple = [](Kind kind) {
      FetchAttribute attribute;
      attribute.kind = kind;
      return attribute;
    };
    if (accept_char('(')) {
      skip_spaces();
      while (!accept_char(')')) {
        if (peek() == kEnd) fail("Unterminated FETCH attribute list: missing ')'.");
        if (!args.attributes.empty()) expect_space("FETCH attribute");
        if (accept_char(')')) break;
        args.attributes.push_back(fetch_attribute());
      }
      if (args.attributes.empty()) fail("The FETCH attribute list is empty; name at least one attribute.");
    } else {
      const std::size_t mark = pos_;
      const std::string word = upper(take_while(is_atom_char));
      if (word == "ALL" || word == "FAST" || word == "FULL") {
        args.attributes = {simple(Kind::flags), simple(Kind::internal_date), simple(Kind::rfc822_size)};
        if (word != "FAST") args.attributes.push_back(simple(Kind::envelope));
        if (word == "FULL") args.attributes.push_back(simple(Kind::body));
      } else {
        pos_ = mark;
        args.attributes.push_back(fetch_attribute());
      }
    }
    command.arguments = std::move(args);
  }

  FetchAttribute fetch_attribute() {
    using Kind = FetchAttribute::Kind;
    FetchAttribute attribute;
    // '[' is an atom character, but here it opens the section of BODY[...].
    const std::string name = upper(take_while([](int c) { return is_atom_char(c) && c != '['; }));
    if (name.empty()) (void)atom("FETCH attribute");  // reports what is there instead
    struct Simple {
      std::string_view name;
      Kind kind;
    };
    static constexpr std::array<Simple, 9> kSimple = {{
        {"ENVELOPE", Kind::envelope}, {"FLAGS", Kind::flags}, {"INTERNALDATE", Kind::internal_date},
        {"UID", Kind::uid}, {"RFC822", Kind::rfc822}, {"RFC822.HEADER", Kind::rfc822_header},
        {"RFC822.SIZE", Kind::rfc822_size}, {"RFC822.TEXT", Kind::rfc822_text},
        {"BODYSTRUCTURE", Kind::body_structure},
    }};
    for (const auto& entry : kSimple) {
      if (name == entry.name) {
        attribute.kind = entry.kind;
        return attribute;
      }
    }
    if (name == "BODY" || name == "BODY.PEEK") {
      if (peek() != '[') {
        if (name == "BODY.PEEK") fail("BODY.PEEK must be followed by a section such as BODY.PEEK[].");
        attribute.kind = Kind::body;
        return attribute;
      }
      attribute.kind = Kind::body_section;
      attribute.peek = name == "BODY.PEEK";
      attribute.section = section();
      if (accept_char('<')) {
        Partial partial;
        partial.offset = static_cast<std::uint32_t>(number("partial offset", std::numeric_limits<std::uint32_t>::max()));
        expect_char('.', "between the partial offset and length");
        const std::uint64_t length = number("partial length", std::numeric_limits<std::uint32_t>::max());
        if (length == 0) fail("Invalid partial fetch: the length must be at least 1.");
        partial.length = static_cast<std::uint32_t>(length);
        expect_char('>', "to close the partial range");
        attribute.partial = partial;
      }
      return attribute;
    }
    if (name == "ALL" || name == "FAST" || name == "FULL") {
      fail("The macro " + name + " cannot be combined with other FETCH attributes; send it alone.");
    }
    fail("Unknown FETCH attribute: " + shown(name) + ".");
  }

  SectionSpec section() {
    ++pos_;  // '['
    SectionSpec spec;
    const std::string_view text = take_while(is_atom_char);
    std::size_t start = 0;
    // Leading numeric components are the part number ("1.2.3"), the rest names the text.
    while (start < text.size() && is_digit(text[start])) {
      std::size_t end = start;
      while (end < text.size() && is_digit(text[end])) ++end;
      if (end < text.size() && text[end] != '.') fail("Invalid section: " + shown(text) + ".");
      const std::string_view digits = text.substr(start, end - start);
      if (digits.size() > 9 || digits[0] == '0') {
        fail("Invalid section part number " + shown(digits) + " in " + shown(text) + ".");
      }
      spec.part.push_back(static_cast<std::uint32_t>(std::stoul(std::string(digits))));
      if (end == text.size()) {
        start = end;
        break;
      }
      start = end + 1;
      if (start == text.size()) fail("Invalid section: " + shown(text) + " ends with a dot.");
    }
    using Text = SectionSpec::Text;
    const std::string rest = upper(text.substr(std::min(start, text.size())));
    if (rest.empty()) {
      spec.text = Text::none;
    } else if (rest == "HEADER") {
      spec.text = Text::header;
    } else if (rest == "TEXT") {
      spec.text = Text::text;
    } else if (rest == "MIME") {
      if (spec.part.empty()) fail("Invalid section: MIME needs a part number, as in BODY[1.MIME].");
      spec.text = Text::mime;
    } else if (rest == "HEADER.FIELDS" || rest == "HEADER.FIELDS.NOT") {
      spec.text = rest == "HEADER.FIELDS" ? Text::header_fields : Text::header_fields_not;
      expect_space("header field list");
      expect_char('(', "to open the header field list");
      skip_spaces();
      while (!accept_char(')')) {
        if (peek() == kEnd) fail("Unterminated header field list: missing ')'.");
        if (!spec.fields.empty()) expect_space("header field name");
        if (accept_char(')')) break;
        spec.fields.push_back(astring("header field name"));
      }
      if (spec.fields.empty()) fail("The header field list is empty; name at least one field.");
    } else {
      fail("Invalid section: " + shown(text) + " (use HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME or part numbers).");
    }
    if (!accept_char(']')) fail("Invalid section: expected ']', found " + found() + ".");
    return spec;
  }

  // ---- STORE, COPY ----------------------------------------------------------------------------

  void parse_store(Command& command) {
    command.kind = CommandKind::store;
    StoreArgs args;
    expect_space("sequence set");
    args.set = sequence_set();
    expect_space("STORE item");
    std::string item = upper(atom("STORE item"));
    std::string_view name = item;
    if (!name.empty() && name[0] == '+') {
      args.mode = mail::StoreMode::add;
      name.remove_prefix(1);
    } else if (!name.empty() && name[0] == '-') {
      args.mode = mail::StoreMode::remove;
      name.remove_prefix(1);
    }
    if (name == "FLAGS.SILENT") {
      args.silent = true;
    } else if (name != "FLAGS") {
      fail("Invalid STORE item: " + shown(item) + " (use FLAGS, +FLAGS or -FLAGS, optionally with .SILENT).");
    }
    expect_space("flags");
    if (peek() == '(') {
      args.flags = flag_list();
    } else {
      args.flags.push_back(flag());
      while (skip_spaces() && peek() != kEnd) args.flags.push_back(flag());
    }
    command.arguments = std::move(args);
  }

  void parse_copy(Command& command, CommandKind kind) {
    command.kind = kind;
    CopyArgs args;
    expect_space("sequence set");
    args.set = sequence_set();
    expect_space("mailbox name");
    args.mailbox = mailbox();
    command.arguments = std::move(args);
  }

  const FramedCommand& framed_;
  FramedCommand* owner_;  // null during a trial parse: nothing may be moved out then
  std::size_t line_ = 0;
  std::size_t pos_ = 0;
};

std::optional<std::string> invalid_bytes(const FramedCommand& framed) {
  for (const std::string& text : framed.lines) {
    if (std::memchr(text.data(), '\0', text.size()) != nullptr) {
      return "The command contains a NUL byte, which IMAP does not allow.";
    }
    if (std::memchr(text.data(), '\r', text.size()) != nullptr) {
      return "The command contains a CR that does not end a line.";
    }
  }
  return std::nullopt;
}

GrammarResult run_grammar(const FramedCommand& framed, FramedCommand* owner) {
  GrammarResult result;
  if (auto problem = invalid_bytes(framed)) {
    result.message = std::move(*problem);
    return result;
  }
  try {
    Grammar grammar(framed, owner);
    result.command = grammar.parse_command();
    result.status = GrammarResult::Status::complete;
  } catch (const SyntaxError& error) {
    result.status = GrammarResult::Status::error;
    result.message = error.message;
  } catch (const NeedLiteral&) {
    result.status = GrammarResult::Status::incomplete;
  }
  return result;
}

}  // namespace

GrammarResult parse_framed_command(FramedCommand& framed) { return run_grammar(framed, &framed); }

GrammarResult check_command_prefix(const FramedCommand& framed) { return run_grammar(framed, nullptr); }

std::string tag_of_line(const std::string& line) {
  std::size_t end = 0;
  while (end < line.size() && is_tag_char(static_cast<unsigned char>(line[end]))) ++end;
  if (end == 0 || (end < line.size() && line[end] != ' ')) return "*";
  return line.substr(0, end);
}

}  // namespace mailtrixy::imap::detail
