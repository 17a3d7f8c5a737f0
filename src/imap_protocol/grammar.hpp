#pragma once
// The IMAP command grammar (RFC 3501 section 9 + the extensions listed in command.hpp), applied
// to one command whose framing is already done: the parser (parser.cpp) splits the byte stream
// into lines and literals, this file turns them into a Command. Private to the module.

#include <cstddef>
#include <string>
#include <vector>

#include "mailtrixy/imap/command.hpp"

namespace mailtrixy::imap::detail {

// One command as framed on the wire: lines[i] (without its line end) for every i but the last
// ends with a literal announcement "{n}" / "{n+}" starting at literal_offsets[i], and
// literals[i] holds that literal's bytes. During a trial parse the last announced literal has
// not arrived yet, so literals has one element fewer than literal_offsets.
struct FramedCommand {
  std::vector<std::string> lines;
  std::vector<std::size_t> literal_offsets;
  std::vector<std::string> literals;
};

struct GrammarResult {
  enum class Status {
    complete,    // `command` holds the parsed command
    incomplete,  // trial parse: everything up to the missing literal is well-formed
    error,       // `message` says what is wrong
  };
  Status status = Status::error;
  Command command;
  std::string message;
};

// Parses a complete command. Literals are moved out of `framed` where the command keeps them
// whole (APPEND's message), so a large literal is never copied here.
GrammarResult parse_framed_command(FramedCommand& framed);

// Checks the part of a command received so far, up to a synchronising literal that has been
// announced but not sent: lets the server refuse a malformed command before the client uploads
// the literal. Never copies literal contents.
GrammarResult check_command_prefix(const FramedCommand& framed);

// The tag at the start of a command line ("*" when the line does not start with a valid tag).
std::string tag_of_line(const std::string& line);

}  // namespace mailtrixy::imap::detail
