#include "mailtrixy/smtp/parser.hpp"

#include <utility>

namespace mailtrixy::smtp {

InputParser::InputParser(ParserLimits limits) : limits_(limits) {}

void InputParser::feed(std::string_view bytes) {
  compact();
  buffer_.append(bytes);
}

// Consumed bytes are dropped lazily: erasing from the front on every line would make a pipelined
// burst of n commands cost O(n^2).
void InputParser::compact() {
  if (position_ == 0) return;
  if (position_ >= buffer_.size()) {
    buffer_.clear();
  } else {
    buffer_.erase(0, position_);
  }
  position_ = 0;
}

void InputParser::discard_buffered() {
  buffer_.clear();
  position_ = 0;
  if (mode_ == Mode::skip_line) mode_ = Mode::command;
}

void InputParser::begin_data(std::uint64_t max_bytes) {
  mode_ = Mode::data;
  data_.clear();
  data_limit_ = max_bytes;
  data_size_ = 0;
  data_too_big_ = false;
  at_line_start_ = true;
}

std::optional<InputEvent> InputParser::next() {
  if (mode_ == Mode::data) return next_data();
  return next_line();
}

std::optional<InputEvent> InputParser::next_line() {
  const std::string_view pending = std::string_view(buffer_).substr(position_);
  const std::size_t line_feed = pending.find('\n');

  if (mode_ == Mode::skip_line) {
    if (line_feed == std::string_view::npos) {
      position_ = buffer_.size();
      return std::nullopt;
    }
    position_ += line_feed + 1;
    mode_ = Mode::command;
    return next_line();
  }

  if (line_feed == std::string_view::npos) {
    // A CR may still be followed by its LF, so it does not count against the limit yet.
    std::size_t unfinished = pending.size();
    if (unfinished > 0 && pending.back() == '\r') --unfinished;
    if (unfinished > limits_.max_line_length) {
      position_ = buffer_.size();
      mode_ = Mode::skip_line;
      return InputEvent{InputEvent::Kind::line_too_long, {}, {}, false, 0};
    }
    return std::nullopt;
  }

  std::string_view line = pending.substr(0, line_feed);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  position_ += line_feed + 1;
  if (line.size() > limits_.max_line_length) {
    return InputEvent{InputEvent::Kind::line_too_long, {}, {}, false, 0};
  }
  return InputEvent{InputEvent::Kind::line, std::string(line), {}, false, 0};
}

void InputParser::append_data(std::string_view bytes) {
  data_size_ += bytes.size();
  if (data_too_big_) return;
  if (data_size_ > data_limit_) {
    data_too_big_ = true;
    std::string().swap(data_);  // give the memory back now, not at the end of the message
    return;
  }
  data_.append(bytes);
}

std::optional<InputEvent> InputParser::next_data() {
  for (;;) {
    const std::string_view pending = std::string_view(buffer_).substr(position_);
    if (pending.empty()) return std::nullopt;

    if (at_line_start_ && pending.front() == '.') {
      if (pending.size() < 2) return std::nullopt;
      std::size_t terminator = 0;
      if (pending[1] == '\n') {
        terminator = 2;
      } else if (pending[1] == '\r') {
        if (pending.size() < 3) return std::nullopt;
        if (pending[2] == '\n') terminator = 3;
      }
      if (terminator != 0) {
        position_ += terminator;
        mode_ = Mode::command;
        InputEvent event{InputEvent::Kind::data_complete, {}, {}, data_too_big_, data_size_};
        if (!data_too_big_) event.data = std::move(data_);
        data_.clear();
        return event;
      }
      ++position_;  // a stuffed dot: drop it, keep the rest of the line
      at_line_start_ = false;
      continue;
    }

    const std::size_t line_feed = pending.find('\n');
    if (line_feed == std::string_view::npos) {
      // Take what is here, except a final CR that may be the first half of a CRLF.
      std::size_t take = pending.size();
      if (pending.back() == '\r') --take;
      if (take == 0) return std::nullopt;
      append_data(pending.substr(0, take));
      position_ += take;
      at_line_start_ = false;
      continue;
    }
    std::string_view content = pending.substr(0, line_feed);
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
    append_data(content);
    append_data("\r\n");
    position_ += line_feed + 1;
    at_line_start_ = true;
  }
}

}  // namespace mailtrixy::smtp
