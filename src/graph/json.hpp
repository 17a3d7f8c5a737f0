#pragma once
// Lenient readers over RapidJSON values for Graph payloads (graph-facts G): unknown members are
// ignored, null and missing are the same, wrong types read as "absent" instead of failing.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailtrixy::graph::json {

inline const rapidjson::Value* member(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

inline std::string string_or(const rapidjson::Value& object, std::string_view name, std::string fallback) {
  const auto* value = member(object, name);
  if (value == nullptr || !value->IsString()) return fallback;
  return std::string(value->GetString(), value->GetStringLength());
}

inline bool bool_or(const rapidjson::Value& object, std::string_view name, bool fallback) {
  const auto* value = member(object, name);
  if (value == nullptr) return fallback;
  if (value->IsBool()) return value->GetBool();
  if (value->IsString()) {
    const std::string_view text(value->GetString(), value->GetStringLength());
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return fallback;
}

inline int int_or(const rapidjson::Value& object, std::string_view name, int fallback) {
  const auto* value = member(object, name);
  if (value == nullptr) return fallback;
  if (value->IsInt()) return value->GetInt();
  if (value->IsString()) {
    try {
      return std::stoi(value->GetString());
    } catch (...) {
      return fallback;
    }
  }
  return fallback;
}

inline std::uint32_t count_or_zero(const rapidjson::Value& object, std::string_view name) {
  const auto* value = member(object, name);
  if (value != nullptr && value->IsUint()) return value->GetUint();
  if (value != nullptr && value->IsUint64()) return UINT32_MAX;
  return 0;
}

inline std::string serialize(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// "2018-09-09T03:15:05Z", also with fractional seconds or a numeric offset; nullopt otherwise.
inline std::optional<std::chrono::sys_seconds> parse_date_time(std::string_view text) {
  const auto digits = [&](std::size_t at, std::size_t count) -> std::optional<int> {
    if (at + count > text.size()) return std::nullopt;
    int out = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      out = out * 10 + (text[i] - '0');
    }
    return out;
  };
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != ' ') ||
      text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
             s = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*y), std::chrono::month(static_cast<unsigned>(*mo)),
                                         std::chrono::day(static_cast<unsigned>(*d))};
  if (!date.ok()) return std::nullopt;
  std::size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
  }
  std::chrono::seconds offset{0};
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const auto oh = digits(at + 1, 2);
    const auto om = digits(at + 4, 2);
    if (!oh || !om || at + 3 >= text.size() || text[at + 3] != ':') return std::nullopt;
    offset = std::chrono::hours(*oh) + std::chrono::minutes(*om);
    if (text[at] == '-') offset = -offset;
    at += 6;
  }
  if (at != text.size()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(*h) + std::chrono::minutes(*mi) +
         std::chrono::seconds(*s) - offset;
}

inline std::string format_date_time(std::chrono::sys_seconds time) {
  const auto days = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::year_month_day date(days);
  const std::chrono::hh_mm_ss clock(time - days);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return buffer;
}

}  // namespace mailtrixy::graph::json
