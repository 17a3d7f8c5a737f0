// Fuzz target for the IMAP response encoder (wire.hpp): whatever bytes a value holds, the string,
// astring and nstring forms it writes must read back as exactly those bytes through the command
// parser (a literal when quoting cannot carry them), so no server response can be cut short or
// smuggle extra syntax. Values with NUL are skipped: IMAP strings cannot carry NUL at all
// (RFC 3501 4.3; BODY[] data replaces it before writing).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "mailtrixy/imap/parser.hpp"
#include "mailtrixy/imap/wire.hpp"

namespace {

using namespace mailtrixy::imap;

void check(bool condition) {
  if (!condition) std::abort();
}

// Parses `line` (one LOGIN command) and returns its user name; aborts unless exactly one
// command comes out.
std::string read_back_user(const std::string& line) {
  CommandParser parser;
  parser.feed(line);
  std::string user;
  int commands = 0;
  while (auto event = parser.next()) {
    if (event->kind == ParseEvent::Kind::continuation) continue;
    check(event->kind == ParseEvent::Kind::command);
    const auto* login = std::get_if<LoginArgs>(&event->command.arguments);
    check(login != nullptr);
    user = login->user;
    ++commands;
  }
  check(commands == 1);
  check(parser.buffered() == 0);
  return user;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string value(reinterpret_cast<const char*>(data), size);
  if (value.find('\0') != std::string::npos) return 0;
  std::string as_string;
  append_string(as_string, value);
  check(read_back_user("a LOGIN " + as_string + " password\r\n") == value);
  if (!value.empty()) {
    std::string as_astring;
    append_astring(as_astring, value);
    check(read_back_user("a LOGIN " + as_astring + " password\r\n") == value);
  }
  std::string as_nstring;
  append_nstring(as_nstring, &value);
  check(as_nstring == as_string);
  std::string nil;
  append_nstring(nil, nullptr);
  check(nil == "NIL");
  check(quotable(value) == (as_string.front() == '"'));
  return 0;
}
