#pragma once
// CommandParser: the sans-I/O IMAP command reader. Bytes go in as they arrive from the socket, in
// pieces of any size; complete commands (command.hpp) and the few things the server must say
// while a command is still arriving come out. No sockets, no threads, no clocks: fuzzed as is
// (tests/fuzz/imap_parser_fuzz.cpp).
//
// Literals: "{n}" (synchronising) makes the parser emit `continuation` once the line is read, so
// the session can send "+ Ready for literal data"; "{n+}" (LITERAL+, non-synchronising) does not.
// A synchronising literal larger than limits.max_literal_size gives `too_big` (the session
// answers "tag NO [TOOBIG] ..." and the client, having had no continuation, sends nothing more of
// that command: the parser has already dropped it). A non-synchronising one that is too big also
// gives `too_big`; the parser then skips its bytes as they arrive and the rest of the command
// (RFC 7888 section 4 allows a server to close instead; this one keeps the connection).
//
// limits.max_command_size bounds everything one command holds (lines and literals): a literal
// that would cross it gives `too_big` as above, a line that crosses it gives `bad`.
//
// Before emitting `continuation` the parser checks the command received so far; when that part
// is already malformed (unknown command, bad date before APPEND's message...) it gives `bad`
// instead, so the client is never asked to upload a literal for a command that will fail.
//
// Empty lines between commands are ignored (some clients send a stray CRLF). Line ends may be
// CRLF or a bare LF; a CR anywhere else is malformed.
//
// Malformed input gives `bad` with the tag when one could be read ("*" otherwise) and a message
// that names what is wrong ("Missing mailbox name", "Invalid sequence set: 0:3",
// "Unknown command: FOO"); the parser then skips to the end of that command line (and literals
// announced on it), so the next command is read cleanly. A line longer than
// limits.max_line_length gives `bad` with `fatal` set: the stream cannot be resynchronised, the
// session says "* BYE" and closes; the parser reads nothing more after it.
//
// Raw lines: between expect_line() and the next event, the next CRLF- (or LF-) terminated line
// is returned as `line` (without its line end) instead of being parsed: for AUTHENTICATE's SASL
// responses and IDLE's "DONE".

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mailtrixy/imap/command.hpp"

namespace mailtrixy::imap {

struct ParserLimits {
  std::size_t max_line_length = 64 * 1024;            // bytes per line, literals excluded
  std::uint64_t max_literal_size = 64ULL * 1024 * 1024;  // one literal (APPEND's message)
  std::size_t max_command_size = 80 * 1024 * 1024;    // all lines and literals of one command
};

struct ParseEvent {
  enum class Kind {
    command,       // `command` is complete
    continuation,  // a synchronising literal was announced and accepted: send "+ ..." now
    bad,           // malformed: answer "tag BAD message" (or "* BAD" when tag is "*")
    too_big,       // a literal over the limit: answer "tag NO [TOOBIG] message"
    line,          // a raw line requested with expect_line()
  };
  Kind kind = Kind::command;
  Command command;      // command
  std::string tag;      // bad, too_big (and command: same as command.tag)
  std::string message;  // bad, too_big: one sentence
  bool fatal = false;   // bad: the connection must be closed after answering
  std::string line;     // line
};

class CommandParser {
 public:
  explicit CommandParser(ParserLimits limits = {});
  ~CommandParser();
  // Movable, not copyable: a copy would have to duplicate a half-read command and its literals.
  CommandParser(CommandParser&&) noexcept;
  CommandParser& operator=(CommandParser&&) noexcept;

  // Appends bytes received from the client.
  void feed(std::string_view bytes);
  // The next event, or nullopt when more bytes are needed. Call until nullopt after every feed().
  std::optional<ParseEvent> next();

  // The next line is returned raw (ParseEvent::line); see above.
  void expect_line();
  // Forgets every byte received but not yet returned: after STARTTLS, so that plaintext sent
  // before the handshake can never be taken as a command (the CVE-2021-33515 family).
  void discard_buffered();
  // Bytes received and not yet consumed.
  std::size_t buffered() const;

 private:
  ParserLimits limits_;
  std::string buffer_;
  // The implementation keeps its incremental state here (partially read command, pending
  // literal, skip counters); see parser.cpp.
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mailtrixy::imap
