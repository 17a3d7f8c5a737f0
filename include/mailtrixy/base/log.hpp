#pragma once
// Process-wide structured logging: one line per event, text or JSON, to stderr.
//
//   log::info("web listening", {{"address", addr}});
//
// Every message and field value passes through redact_text() before it is written, so a token
// that slips into a message is still scrubbed. Fields that are secrets should never be logged at
// all; Secret<T> has no conversion to string to make that hard to do by accident.

#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace mailtrixy::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };
enum class Format { text, json };

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename Int>
    requires std::is_integral_v<Int>
  Field(std::string_view k, Int v) : key(k), value(std::to_string(v)) {}
};
using Fields = std::initializer_list<Field>;

void configure(Level level, Format format);
Level level();

// Parses "debug", "info", "warn", "error"; false when the name is unknown.
bool parse_level(std::string_view name, Level& out);
bool parse_format(std::string_view name, Format& out);

// Redirects output to a caller-owned sink (tests); nullptr restores stderr.
using Sink = void (*)(std::string_view line, void* context);
void set_sink(Sink sink, void* context);

void write(Level level, std::string_view message, Fields fields = {});
inline void debug(std::string_view m, Fields f = {}) { write(Level::debug, m, f); }
inline void info(std::string_view m, Fields f = {}) { write(Level::info, m, f); }
inline void warn(std::string_view m, Fields f = {}) { write(Level::warn, m, f); }
inline void error(std::string_view m, Fields f = {}) { write(Level::error, m, f); }

}  // namespace mailtrixy::log
