#include "mailtrixy/imap/parser.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "grammar.hpp"

namespace mailtrixy::imap {
namespace {

// Checking a command prefix before each synchronising literal re-reads the lines received so
// far; these caps keep that linear for hostile commands made of thousands of tiny literals.
constexpr std::size_t kMaxPrefixChecks = 32;
constexpr std::size_t kMaxPrefixCheckBytes = 64 * 1024;
// Consumed bytes are dropped from the front of the buffer once they are this many and at least
// half of it, so that erasing stays amortised linear.
constexpr std::size_t kCompactThreshold = 64 * 1024;

struct LiteralAnnouncement {
  std::size_t offset = 0;  // of '{' in the line
  std::uint64_t size = 0;  // saturates at UINT64_MAX
  bool synchronising = true;
};

// "{digits}" or "{digits+}" ending `line` at `brace`.
std::optional<LiteralAnnouncement> announcement_at(std::string_view line, std::size_t brace) {
  if (brace == std::string_view::npos || line.size() < brace + 3 || line.back() != '}') return std::nullopt;
  std::string_view inside = line.substr(brace + 1, line.size() - brace - 2);
  LiteralAnnouncement literal;
  literal.offset = brace;
  if (!inside.empty() && inside.back() == '+') {
    literal.synchronising = false;
    inside.remove_suffix(1);
  }
  if (inside.empty()) return std::nullopt;
  for (char c : inside) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (literal.size > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      literal.size = std::numeric_limits<std::uint64_t>::max();
    } else if (literal.size != std::numeric_limits<std::uint64_t>::max()) {
      literal.size = literal.size * 10 + digit;
    }
  }
  return literal;
}

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t'; });
}

ParseEvent make_event(ParseEvent::Kind kind, std::string tag, std::string message = {}) {
  ParseEvent event;
  event.kind = kind;
  event.tag = std::move(tag);
  event.message = std::move(message);
  return event;
}

}  // namespace

struct CommandParser::State {
  enum class Phase { line, literal };
  Phase phase = Phase::line;

  std::size_t consumed = 0;  // bytes at the front of the buffer already used
  // Scan state of the line being received, so each byte is looked at once however the input is
  // split.
  std::size_t scanned = 0;
  bool in_quote = false;
  bool escaped = false;
  std::size_t brace = std::string_view::npos;

  detail::FramedCommand framed;
  std::string tag;
  std::uint64_t command_bytes = 0;   // announced: lines plus literal sizes, for max_command_size
  std::uint64_t held_bytes = 0;      // received and kept for the current command
  std::uint64_t literal_remaining = 0;
  bool skipping = false;             // the rest of this command is dropped (already answered)
  std::size_t prefix_checks = 0;
  std::size_t line_bytes = 0;        // lines of the current command, literals excluded

  bool expect_line = false;
  bool dead = false;  // after a fatal error nothing more is read

  void reset_line_scan() {
    scanned = 0;
    in_quote = false;
    escaped = false;
    brace = std::string_view::npos;
  }

  void reset_command() {
    framed = {};
    tag.clear();
    command_bytes = 0;
    held_bytes = 0;
    literal_remaining = 0;
    skipping = false;
    prefix_checks = 0;
    line_bytes = 0;
    phase = Phase::line;
  }

  void start_literal(std::uint64_t size, bool keep) {
    phase = Phase::literal;
    literal_remaining = size;
    if (keep) {
      framed.literals.emplace_back();
      // One allocation of the announced size (already checked against the limits): the bytes
      // are then copied once, with no regrowth. Large allocations are mmap'ed, so pages a client
      // announces but never sends are not committed.
      framed.literals.back().reserve(static_cast<std::size_t>(size));
    }
  }

  void take_literal_bytes(std::string_view bytes) {
    if (!skipping) {
      framed.literals.back().append(bytes);
      held_bytes += bytes.size();
    }
    literal_remaining -= bytes.size();
  }
};

CommandParser::CommandParser(ParserLimits limits) : limits_(limits), state_(std::make_unique<State>()) {}
CommandParser::~CommandParser() = default;
CommandParser::CommandParser(CommandParser&&) noexcept = default;
CommandParser& CommandParser::operator=(CommandParser&&) noexcept = default;

void CommandParser::feed(std::string_view bytes) {
  State& s = *state_;
  if (s.dead) return;
  // Literal bytes that arrive with nothing buffered before them go straight into the literal:
  // a large APPEND is copied once, from the socket buffer into its final string.
  if (s.phase == State::Phase::literal && s.consumed == buffer_.size() && s.literal_remaining > 0) {
    const auto direct = static_cast<std::size_t>(std::min<std::uint64_t>(s.literal_remaining, bytes.size()));
    s.take_literal_bytes(bytes.substr(0, direct));
    bytes.remove_prefix(direct);
  }
  if (s.consumed == buffer_.size()) {
    buffer_.clear();
    s.consumed = 0;
  }
  buffer_.append(bytes);
}

void CommandParser::expect_line() { state_->expect_line = true; }

void CommandParser::discard_buffered() {
  State& s = *state_;
  buffer_.clear();
  s.consumed = 0;
  s.reset_line_scan();
  s.reset_command();
  s.expect_line = false;
}

std::size_t CommandParser::buffered() const {
  return buffer_.size() - state_->consumed + static_cast<std::size_t>(state_->held_bytes);
}

std::optional<ParseEvent> CommandParser::next() {
  State& s = *state_;
  if (s.dead) return std::nullopt;
  auto compact = [&] {
    if (s.consumed == buffer_.size()) {
      buffer_.clear();
      s.consumed = 0;
    } else if (s.consumed >= kCompactThreshold && s.consumed * 2 >= buffer_.size()) {
      buffer_.erase(0, s.consumed);
      s.consumed = 0;
    }
  };

  while (true) {
    if (s.phase == State::Phase::literal) {
      const auto available = static_cast<std::size_t>(
          std::min<std::uint64_t>(s.literal_remaining, buffer_.size() - s.consumed));
      s.take_literal_bytes(std::string_view(buffer_).substr(s.consumed, available));
      s.consumed += available;
      if (s.literal_remaining > 0) {
        compact();
        return std::nullopt;
      }
      s.phase = State::Phase::line;
      s.reset_line_scan();
    }

    // Find the end of the current line, remembering where a literal announcement could start.
    const char* data = buffer_.data() + s.consumed;
    const std::size_t available = buffer_.size() - s.consumed;
    while (s.scanned < available) {
      const char c = data[s.scanned];
      if (c == '\n') break;
      if (s.in_quote) {
        if (s.escaped) {
          s.escaped = false;
        } else if (c == '\\') {
          s.escaped = true;
        } else if (c == '"') {
          s.in_quote = false;
        }
      } else if (c == '"') {
        s.in_quote = true;
      } else if (c == '{') {
        s.brace = s.scanned;
      }
      ++s.scanned;
      // +1: the CR of the line end is not part of the line.
      if (s.scanned > limits_.max_line_length + 1) {
        s.dead = true;
        ParseEvent event = make_event(ParseEvent::Kind::bad, s.tag.empty() ? "*" : s.tag,
                                      "Line too long: the limit is " + std::to_string(limits_.max_line_length) +
                                          " bytes; split the command or the sequence set.");
        event.fatal = true;
        buffer_.clear();
        s.consumed = 0;
        return event;
      }
    }
    if (s.scanned == available) {
      compact();
      return std::nullopt;
    }

    std::size_t length = s.scanned;
    if (length > 0 && data[length - 1] == '\r') --length;
    const bool quote_open = s.in_quote;
    const std::size_t brace = s.brace;
    std::string line(data, length);
    s.consumed += s.scanned + 1;
    s.reset_line_scan();
    if (line.size() > limits_.max_line_length) {
      s.dead = true;
      ParseEvent event = make_event(ParseEvent::Kind::bad, s.tag.empty() ? "*" : s.tag,
                                    "Line too long: the limit is " + std::to_string(limits_.max_line_length) +
                                        " bytes; split the command or the sequence set.");
      event.fatal = true;
      buffer_.clear();
      s.consumed = 0;
      return event;
    }

    const bool first_line = s.framed.lines.empty() && !s.skipping;
    if (first_line && s.expect_line) {
      s.expect_line = false;
      ParseEvent event = make_event(ParseEvent::Kind::line, {});
      event.line = std::move(line);
      compact();
      return event;
    }
    // Stray empty lines between commands (some clients send an extra CRLF) are not commands.
    if (first_line && blank(line)) continue;
    if (first_line) s.tag = detail::tag_of_line(line);

    const auto literal = quote_open ? std::nullopt : announcement_at(line, brace);
    s.command_bytes += line.size();

    if (s.skipping) {
      if (literal) {
        s.start_literal(literal->size, false);
      } else {
        s.reset_command();
      }
      continue;
    }

    if (s.command_bytes > limits_.max_command_size) {
      ParseEvent event = make_event(ParseEvent::Kind::bad, s.tag,
                                    "Command too long: the limit is " + std::to_string(limits_.max_command_size) +
                                        " bytes.");
      const bool more_follows = literal && !literal->synchronising;
      s.reset_command();
      if (more_follows) {
        s.skipping = true;
        s.start_literal(literal->size, false);
      }
      compact();
      return event;
    }

    s.held_bytes += line.size();
    s.line_bytes += line.size();
    s.framed.lines.push_back(std::move(line));

    if (!literal) {
      detail::GrammarResult result = detail::parse_framed_command(s.framed);
      std::string tag = std::move(s.tag);
      s.reset_command();
      compact();
      if (result.status == detail::GrammarResult::Status::complete) {
        ParseEvent event = make_event(ParseEvent::Kind::command, tag);
        event.command = std::move(result.command);
        return event;
      }
      return make_event(ParseEvent::Kind::bad, std::move(tag), std::move(result.message));
    }

    s.framed.literal_offsets.push_back(literal->offset);
    if (literal->size > limits_.max_literal_size ||
        literal->size > limits_.max_command_size - std::min<std::uint64_t>(s.command_bytes, limits_.max_command_size)) {
      ParseEvent event = make_event(
          ParseEvent::Kind::too_big, s.tag,
          literal->size > limits_.max_literal_size
              ? (literal->size == std::numeric_limits<std::uint64_t>::max()
                     ? "Literal too big: the limit is " + std::to_string(limits_.max_literal_size) + " bytes."
                     : "Literal too big: " + std::to_string(literal->size) + " bytes, the limit is " +
                           std::to_string(limits_.max_literal_size) + " bytes.")
              : "Command too big: the limit is " + std::to_string(limits_.max_command_size) + " bytes.");
      s.reset_command();
      // A synchronising literal is never sent without our continuation; a LITERAL+ one is on its
      // way and must be read past, with the rest of its command.
      if (!literal->synchronising) {
        s.skipping = true;
        s.start_literal(literal->size, false);
      }
      compact();
      return event;
    }
    s.command_bytes += literal->size;

    if (literal->synchronising) {
      if (s.prefix_checks < kMaxPrefixChecks && s.line_bytes <= kMaxPrefixCheckBytes) {
        ++s.prefix_checks;
        detail::GrammarResult result = detail::check_command_prefix(s.framed);
        if (result.status == detail::GrammarResult::Status::error) {
          std::string tag = std::move(s.tag);
          s.reset_command();
          compact();
          return make_event(ParseEvent::Kind::bad, std::move(tag), std::move(result.message));
        }
      }
      s.start_literal(literal->size, true);
      compact();
      return make_event(ParseEvent::Kind::continuation, s.tag);
    }
    s.start_literal(literal->size, true);
  }
}

}  // namespace mailtrixy::imap
