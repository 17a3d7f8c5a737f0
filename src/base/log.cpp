#include "mailtrixy/base/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "mailtrixy/base/redact.hpp"

namespace mailtrixy::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::text};
std::mutex g_mutex;
Sink g_sink = nullptr;
void* g_sink_context = nullptr;

std::string_view level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

std::string timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto seconds = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return buffer;
}

void append_json_string(std::string& out, std::string_view value) {
  out += '"';
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (byte < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\u%04x", byte);
          out += escape;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Text format quotes a value only when it would otherwise be ambiguous.
void append_text_value(std::string& out, std::string_view value) {
  const bool plain = !value.empty() && value.find_first_of(" \"=\t\r\n") == std::string_view::npos;
  if (plain) {
    out += value;
  } else {
    append_json_string(out, value);
  }
}

}  // namespace

void configure(Level level, Format format) {
  g_level = level;
  g_format = format;
}

Level level() { return g_level; }

bool parse_level(std::string_view name, Level& out) {
  for (const Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
    if (name == level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

bool parse_format(std::string_view name, Format& out) {
  if (name == "text") {
    out = Format::text;
  } else if (name == "json") {
    out = Format::json;
  } else {
    return false;
  }
  return true;
}

void set_sink(Sink sink, void* context) {
  const std::lock_guard lock(g_mutex);
  g_sink = sink;
  g_sink_context = context;
}

void write(Level level, std::string_view message, Fields fields) {
  if (level < g_level.load()) return;
  std::string line;
  line.reserve(128);
  if (g_format.load() == Format::json) {
    line += "{\"time\":";
    append_json_string(line, timestamp());
    line += ",\"level\":";
    append_json_string(line, level_name(level));
    line += ",\"msg\":";
    append_json_string(line, redact_text(message));
    for (const Field& field : fields) {
      line += ',';
      append_json_string(line, field.key);
      line += ':';
      append_json_string(line, redact_text(field.value));
    }
    line += '}';
  } else {
    line += timestamp();
    line += ' ';
    line += level_name(level);
    line += ' ';
    line += redact_text(message);
    for (const Field& field : fields) {
      line += ' ';
      line += field.key;
      line += '=';
      append_text_value(line, redact_text(field.value));
    }
  }
  line += '\n';
  const std::lock_guard lock(g_mutex);
  if (g_sink != nullptr) {
    g_sink(line, g_sink_context);
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace mailtrixy::log
