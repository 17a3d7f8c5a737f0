#include "http_message.hpp"

#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <exception>

#include "mailtrixy/base/log.hpp"

namespace mailtrixy::net {

namespace http = boost::beast::http;

namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

std::string_view view(boost::beast::string_view text) { return {text.data(), text.size()}; }

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// True when a comma-separated header value (such as Connection) lists `token`.
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// Empty when the handler's answer can go on the wire; otherwise what is wrong with it.
std::string validate(const HttpResponse& answer) {
  if (answer.status < 200 || answer.status > 599) {
    return "status " + std::to_string(answer.status) + " is outside 200-599";
  }
  for (const auto& [name, value] : answer.headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
      return "header name \"" + name + "\" is not an HTTP token";
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return "the value of header " + name + " contains CR, LF or NUL";
    }
  }
  if (answer.delay.count() < 0) return "delay is negative";
  return {};
}

HttpRequest to_http_request(detail::BeastRequest&& request, const detail::Peer& peer) {
  HttpRequest converted;
  converted.method = std::string(view(request.method_string()));
  converted.target = std::string(view(request.target()));
  const auto question = converted.target.find('?');
  converted.path = converted.target.substr(0, question);
  if (question != std::string::npos) converted.query = converted.target.substr(question + 1);
  converted.version = static_cast<int>(request.version());
  for (const auto& field : request) {
    converted.headers.emplace_back(std::string(view(field.name_string())), std::string(view(field.value())));
  }
  converted.body = std::move(request.body());
  converted.remote_address = peer.address;
  converted.remote_port = peer.port;
  converted.tls = peer.tls;
  return converted;
}

void set_standard_headers(detail::BeastResponse& response) {
  if (response.find(http::field::date) == response.end()) {
    response.set(http::field::date, http_date(std::chrono::system_clock::now()));
  }
  if (response.find(http::field::server) == response.end()) {
    response.set(http::field::server, "mailtrixy");
  }
}

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

HttpResponse HttpResponse::text(int status, std::string body, std::string content_type) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", std::move(content_type));
  response.body = std::move(body);
  return response;
}

std::string http_date(std::chrono::system_clock::time_point when) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[utc.tm_wday % 7],
                utc.tm_mday, kMonths[utc.tm_mon % 12], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return text;
}

std::string_view http_reason(int status) {
  if (status < 100 || status > 999) return "Unknown";
  const auto known = http::int_to_status(static_cast<unsigned>(status));
  if (known == http::status::unknown) return "Unknown";
  return view(http::obsolete_reason(known));
}

namespace detail {

void set_keep_alive(BeastResponse& response, bool keep_alive) { response.keep_alive(keep_alive); }

BeastResponse error_response(int status, unsigned version, std::string_view detail) {
  BeastResponse response;
  response.version(version == 10 ? 10 : 11);
  response.result(static_cast<unsigned>(status));
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = std::to_string(status) + " " + std::string(http_reason(status));
  if (!detail.empty()) response.body() += ": " + std::string(detail);
  response.body() += "\n";
  response.content_length(response.body().size());
  set_standard_headers(response);
  response.keep_alive(false);
  return response;
}

PreparedResponse respond(const HttpHandler& handler, BeastRequest&& request, const Peer& peer,
                         bool keep_alive_allowed) {
  PreparedResponse prepared;
  const bool head = request.method() == http::verb::head;
  const unsigned version = request.version();
  const bool client_keep_alive = request.keep_alive();
  const HttpRequest converted = to_http_request(std::move(request), peer);

  const auto internal_error = [&](std::string_view reason, std::string_view detail) {
    // Method and path only: query strings, headers and bodies may carry credentials.
    log::error("HTTP handler " + std::string(reason) + "; answered 500",
               {{"method", converted.method}, {"path", converted.path}, {"error", detail}});
    prepared.message = error_response(500, version, {});
    prepared.message.keep_alive(keep_alive_allowed && client_keep_alive);
    prepared.keep_alive = prepared.message.keep_alive();
  };

  HttpResponse answer;
  try {
    answer = handler(converted);
  } catch (const std::exception& e) {
    internal_error("threw", e.what());
    return prepared;
  } catch (...) {
    internal_error("threw", "a non-standard exception");
    return prepared;
  }
  prepared.on_answered = std::move(answer.on_answered);
  if (const std::string problem = validate(answer); !problem.empty()) {
    internal_error("returned an invalid response", problem);
    return prepared;
  }

  BeastResponse& response = prepared.message;
  response.version(version);
  response.result(static_cast<unsigned>(answer.status));
  if (http::int_to_status(static_cast<unsigned>(answer.status)) == http::status::unknown) {
    response.reason("Unknown");
  }
  bool handler_closes = false;
  for (auto& [name, value] : answer.headers) {
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")) continue;
    if (iequals(name, "Connection")) {
      handler_closes = handler_closes || lists_token(value, "close");
      continue;
    }
    response.insert(name, value);
  }
  set_standard_headers(response);
  const bool bodyless = answer.status == 204 || answer.status == 304;
  if (!bodyless) {
    response.content_length(answer.body.size());
    if (!head) response.body() = std::move(answer.body);  // HEAD: the length without the body
  }
  prepared.keep_alive = keep_alive_allowed && client_keep_alive && !handler_closes;
  response.keep_alive(prepared.keep_alive);
  prepared.delay = answer.delay;
  return prepared;
}

void AnsweredNotifier::fire() noexcept {
  if (!callback_) return;
  auto callback = std::move(callback_);
  callback_ = nullptr;
  try {
    callback();
  } catch (const std::exception& e) {
    log::error("HTTP on_answered callback threw", {{"error", e.what()}});
  } catch (...) {
    log::error("HTTP on_answered callback threw a non-standard exception");
  }
}

}  // namespace detail
}  // namespace mailtrixy::net
