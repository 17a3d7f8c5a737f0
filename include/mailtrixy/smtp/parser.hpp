#pragma once
// InputParser: the sans-I/O reader of an SMTP server's input. Bytes go in as they arrive from the
// socket, in pieces of any size; command lines and finished DATA messages come out. No sockets,
// no threads, no clocks: fuzzed as is (tests/fuzz/smtp_parser_fuzz.cpp).
//
// Command mode (the default)
//   Each line ends with CRLF; a bare LF is accepted too (clients and scripts that write "\n").
//   The line end is not part of the returned line. RFC 5321 4.5.3.1.4 allows 512 octets per
//   command line; real clients exceed that with long AUTH initial responses, so the limit is
//   ParserLimits::max_line_length (4096). A longer line gives one `line_too_long` event and is
//   then skipped up to its line end (the session answers "500 5.5.2"), so the next command is read
//   cleanly. The parser never holds more than max_line_length bytes of an unfinished line.
//
// Data mode (begin_data(), after the session answered 354)
//   Lines up to the terminating "." line form the message. Per RFC 5321 4.5.2 a leading dot is
//   removed from every line that starts with one ("dot-unstuffing"); the terminator is a line that
//   holds a single dot, ended by CRLF or a bare LF. Line ends in the result are always CRLF: a bare
//   LF becomes CRLF; a CR not followed by LF is kept as it is. The message is kept only up to
//   `max_bytes` (counted after unstuffing, CRLF line ends); past that the parser keeps reading and
//   discarding up to the terminator and then reports `data_complete` with `too_big` set and an
//   empty `data`, so the session can answer 552 at the right moment without ever buffering more
//   than the limit. Data lines have no length limit (RFC 5321's 1000 is not enforced: Graph takes
//   longer lines, and refusing them would lose mail).
//
// After STARTTLS the session calls discard_buffered(): whatever plaintext arrived after the
// STARTTLS line must never be taken as a command (the CVE-2011-0411 family).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailtrixy::smtp {

struct ParserLimits {
  std::size_t max_line_length = 4096;  // bytes per command line, without the line end
};

struct InputEvent {
  enum class Kind {
    line,           // `line` holds one command line (or a SASL response) without its line end
    line_too_long,  // a command line exceeded max_line_length; it is being skipped
    data_complete,  // the DATA terminator arrived: `data` is the message, or `too_big` is set
  };
  Kind kind = Kind::line;
  std::string line;
  std::string data;            // data_complete: unstuffed, CRLF line ends; empty when too_big
  bool too_big = false;        // data_complete: the message passed begin_data()'s max_bytes
  std::uint64_t data_size = 0;  // data_complete: bytes of the message as received (after unstuffing)
};

class InputParser {
 public:
  explicit InputParser(ParserLimits limits = {});

  // Appends bytes received from the client.
  void feed(std::string_view bytes);
  // The next event, or nullopt when more bytes are needed. Call until nullopt after every feed().
  std::optional<InputEvent> next();

  // Switches to data mode for one message of at most max_bytes (see above). The mode ends by
  // itself with the data_complete event.
  void begin_data(std::uint64_t max_bytes);
  bool in_data() const { return mode_ == Mode::data; }

  // Forgets every byte received but not yet returned (after STARTTLS).
  void discard_buffered();
  // Bytes received and not yet consumed.
  std::size_t buffered() const { return buffer_.size() - position_; }

 private:
  enum class Mode { command, skip_line, data };

  std::optional<InputEvent> next_line();
  std::optional<InputEvent> next_data();
  void append_data(std::string_view bytes);
  void compact();

  ParserLimits limits_;
  Mode mode_ = Mode::command;
  std::string buffer_;
  std::size_t position_ = 0;  // first unconsumed byte of buffer_

  // Data mode.
  std::string data_;
  std::uint64_t data_limit_ = 0;
  std::uint64_t data_size_ = 0;
  bool data_too_big_ = false;
  bool at_line_start_ = true;
};

}  // namespace mailtrixy::smtp
