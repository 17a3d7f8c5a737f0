#include "mailtrixy/mail/envelope.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>

namespace mailtrixy::mail {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool is_field_name_char(char c) {
  auto byte = static_cast<unsigned char>(c);
  return byte >= 33 && byte <= 126 && c != ':';
}

// Length of the field name when `line` starts a header field ("Name:"), else 0.
std::size_t field_name_length(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && is_field_name_char(line[i])) ++i;
  // Obsolete syntax allows whitespace between the name and the colon.
  std::size_t name_end = i;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (name_end == 0 || i >= line.size() || line[i] != ':') return 0;
  return name_end;
}

// Removes (comments), honouring nesting, quoted strings and backslash escapes.
std::string strip_comments(std::string_view text) {
  std::string out;
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      if (depth == 0) {
        out += c;
        out += text[i + 1];
      }
      ++i;
    } else if (quoted) {
      out += c;
      if (c == '"') quoted = false;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      if (c == '"') quoted = true;
      out += c;
    }
  }
  return out;
}

std::string unquote(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    std::string out;
    for (std::size_t i = 1; i + 1 < text.size(); ++i) {
      if (text[i] == '\\' && i + 2 < text.size()) ++i;
      out += text[i];
    }
    return out;
  }
  return std::string(text);
}

std::optional<Address> parse_mailbox(std::string_view entry) {
  entry = trim(entry);
  if (entry.empty()) return std::nullopt;
  Address address;
  auto open = entry.rfind('<');
  auto close = entry.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    std::string_view spec = trim(entry.substr(open + 1, close - open - 1));
    // Obsolete source route "@a,@b:user@host".
    if (auto colon = spec.find(':');
        !spec.empty() && spec.front() == '@' && colon != std::string_view::npos) {
      spec = spec.substr(colon + 1);
    }
    address.address = std::string(trim(spec));
    address.name = unquote(entry.substr(0, open));
  } else {
    address.address = std::string(entry);
  }
  if (address.address.find('@') == std::string::npos) return std::nullopt;
  return address;
}

int month_from_name(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                               "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() < 3) return 0;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (iequals(name.substr(0, 3), kMonths[i])) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool parse_int(std::string_view text, int& out) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc{} && end == text.data() + text.size();
}

std::optional<int> zone_offset_minutes(std::string_view zone) {
  if (zone.empty()) return 0;
  if (zone.front() == '+' || zone.front() == '-') {
    if (zone.size() != 5) return std::nullopt;
    int hhmm = 0;
    if (!parse_int(zone.substr(1), hhmm)) return std::nullopt;
    int minutes = (hhmm / 100) * 60 + hhmm % 100;
    return zone.front() == '-' ? -minutes : minutes;
  }
  struct Named {
    std::string_view name;
    int hours;
  };
  static constexpr std::array<Named, 11> kZones = {{{"UT", 0},
                                                    {"UTC", 0},
                                                    {"GMT", 0},
                                                    {"Z", 0},
                                                    {"EST", -5},
                                                    {"EDT", -4},
                                                    {"CST", -6},
                                                    {"CDT", -5},
                                                    {"MST", -7},
                                                    {"MDT", -6},
                                                    {"PST", -8}}};
  for (const auto& named : kZones) {
    if (iequals(zone, named.name)) return named.hours * 60;
  }
  if (iequals(zone, "PDT")) return -7 * 60;
  // RFC 5322 4.3: other (military) zones are to be treated as -0000.
  return 0;
}

}  // namespace

std::vector<HeaderField> parse_header_fields(std::string_view message) {
  std::vector<HeaderField> fields;
  while (!message.empty()) {
    auto newline = message.find('\n');
    std::string_view line = message.substr(0, newline);
    message = newline == std::string_view::npos ? std::string_view{} : message.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header section
    if (line.front() == ' ' || line.front() == '\t') {
      if (!fields.empty()) {
        fields.back().value += ' ';
        fields.back().value += trim(line);
      }
      continue;
    }
    std::size_t name_length = field_name_length(line);
    if (name_length == 0) continue;
    auto colon = line.find(':', name_length);
    fields.push_back(
        HeaderField{std::string(line.substr(0, name_length)), std::string(trim(line.substr(colon + 1)))});
  }
  for (auto& field : fields) field.value = std::string(trim(field.value));
  return fields;
}

std::optional<std::string> find_header(const std::vector<HeaderField>& fields, std::string_view name) {
  for (const auto& field : fields) {
    if (iequals(field.name, name)) return field.value;
  }
  return std::nullopt;
}

std::vector<Address> parse_address_list(std::string_view value) {
  std::string text = strip_comments(value);
  std::vector<Address> out;
  std::string entry;
  bool quoted = false;
  bool in_angle = false;
  auto flush = [&] {
    if (auto mailbox = parse_mailbox(entry)) out.push_back(std::move(*mailbox));
    entry.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      entry += c;
      entry += text[++i];
      continue;
    }
    if (quoted) {
      entry += c;
      if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') {
      quoted = true;
      entry += c;
    } else if (c == '<') {
      in_angle = true;
      entry += c;
    } else if (c == '>') {
      in_angle = false;
      entry += c;
    } else if (!in_angle && c == ':') {
      entry.clear();  // "group name:" — the members follow
    } else if (!in_angle && (c == ',' || c == ';')) {
      flush();
    } else {
      entry += c;
    }
  }
  flush();
  return out;
}

std::optional<TimePoint> parse_rfc5322_date(std::string_view value) {
  std::string text = strip_comments(value);
  std::vector<std::string_view> tokens;
  std::string_view rest = text;
  while (true) {
    rest = trim(rest);
    if (rest.empty()) break;
    auto end = rest.find_first_of(" \t\r\n");
    tokens.push_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest = rest.substr(end);
  }
  std::size_t i = 0;
  if (i < tokens.size() && !tokens[i].empty() && std::isalpha(static_cast<unsigned char>(tokens[i][0]))) {
    ++i;  // day name, with or without the comma
  }
  if (tokens.size() < i + 4) return std::nullopt;
  std::string_view day_token = tokens[i];
  if (!day_token.empty() && day_token.back() == ',') day_token.remove_suffix(1);
  int day = 0;
  int year = 0;
  if (!parse_int(day_token, day) || !parse_int(tokens[i + 2], year)) return std::nullopt;
  int month = month_from_name(tokens[i + 1]);
  if (month == 0) return std::nullopt;
  if (tokens[i + 2].size() <= 2)
    year += year < 50 ? 2000 : 1900;
  else if (tokens[i + 2].size() == 3)
    year += 1900;

  std::string_view time = tokens[i + 3];
  int hour = 0;
  int minute = 0;
  int second = 0;
  auto first_colon = time.find(':');
  if (first_colon == std::string_view::npos) return std::nullopt;
  auto second_colon = time.find(':', first_colon + 1);
  if (!parse_int(time.substr(0, first_colon), hour)) return std::nullopt;
  if (second_colon == std::string_view::npos) {
    if (!parse_int(time.substr(first_colon + 1), minute)) return std::nullopt;
  } else if (!parse_int(time.substr(first_colon + 1, second_colon - first_colon - 1), minute) ||
             !parse_int(time.substr(second_colon + 1), second)) {
    return std::nullopt;
  }
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  auto offset = zone_offset_minutes(tokens.size() > i + 4 ? tokens[i + 4] : std::string_view{});
  if (!offset) return std::nullopt;

  std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                   std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  auto local = std::chrono::sys_days{date} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
               std::chrono::seconds{std::min(second, 59)};
  return std::chrono::time_point_cast<std::chrono::seconds>(local - std::chrono::minutes{*offset});
}

Envelope parse_envelope(std::string_view message) {
  auto fields = parse_header_fields(message);
  Envelope envelope;
  auto addresses = [&](std::string_view name) {
    auto value = find_header(fields, name);
    return value ? parse_address_list(*value) : std::vector<Address>{};
  };
  if (auto date = find_header(fields, "Date")) envelope.date = parse_rfc5322_date(*date);
  envelope.subject = find_header(fields, "Subject").value_or("");
  envelope.from = addresses("From");
  envelope.sender = addresses("Sender");
  envelope.reply_to = addresses("Reply-To");
  if (envelope.sender.empty()) envelope.sender = envelope.from;
  if (envelope.reply_to.empty()) envelope.reply_to = envelope.from;
  envelope.to = addresses("To");
  envelope.cc = addresses("Cc");
  envelope.bcc = addresses("Bcc");
  envelope.in_reply_to = find_header(fields, "In-Reply-To").value_or("");
  envelope.message_id = find_header(fields, "Message-ID").value_or("");
  return envelope;
}

MailResult<void> validate_message(std::string_view message) {
  if (message.empty()) {
    return make_mail_error(ErrorCode::invalid,
                           "The message is empty; send a complete RFC 5322 message with headers.");
  }
  if (message.find('\0') != std::string_view::npos) {
    return make_mail_error(ErrorCode::invalid,
                           "The message contains a NUL byte, which RFC 5322 does not allow; "
                           "encode binary content with base64.");
  }
  std::string_view first_line = message.substr(0, message.find('\n'));
  if (field_name_length(first_line) == 0) {
    return make_mail_error(ErrorCode::invalid,
                           "The message does not start with a header field such as \"From: ...\"; "
                           "send a complete RFC 5322 message.");
  }
  return {};
}

}  // namespace mailtrixy::mail
