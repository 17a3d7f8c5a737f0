#include "mailtrixy/smtp/reply.hpp"

#include "mailtrixy/base/metrics.hpp"

namespace mailtrixy::smtp {
namespace {

// Text from errors or the client must not break the reply framing.
void append_text(std::string& out, std::string_view text) {
  for (const char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
}

// Every reply the bridge sends passes through here, so this is where they are counted.
void count_reply(int code) {
  static auto& replies =
      metrics::global().counter("mailtrixy_smtp_replies_total", "SMTP replies sent, by class (2xx, 3xx, 4xx, 5xx).",
                                {"class"});
  static constexpr std::string_view kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  const int digit = code / 100;
  replies.with({digit >= 1 && digit <= 5 ? kClasses[digit - 1] : std::string_view("other")}).inc();
}

}  // namespace

void append_reply(std::string& out, int code, std::string_view status, std::string_view text) {
  count_reply(code);
  out += std::to_string(code);
  out.push_back(' ');
  if (!status.empty()) {
    out += status;
    out.push_back(' ');
  }
  append_text(out, text);
  out += "\r\n";
}

void append_reply(std::string& out, const Reply& reply) { append_reply(out, reply.code, reply.status, reply.text); }

void append_multiline(std::string& out, int code, const std::vector<std::string>& lines) {
  count_reply(code);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += std::to_string(code);
    out.push_back(i + 1 == lines.size() ? ' ' : '-');
    append_text(out, lines[i]);
    out += "\r\n";
  }
}

Reply reply_for_submission_error(const mail::MailError& error) {
  const std::string text = error.message.empty() ? std::string("The message could not be queued; try again later.")
                                                  : error.message;
  switch (error.code) {
    case mail::ErrorCode::too_big:
      return {552, "5.3.4", text};
    case mail::ErrorCode::invalid:
      return {554, "5.6.0", text};
    case mail::ErrorCode::quota:
      return {452, "4.2.2", text};
    case mail::ErrorCode::no_permission:
      return {550, "5.7.1", text};
    case mail::ErrorCode::needs_sign_in:
      return {454, "4.7.0", text};
    default:
      return {451, "4.3.0", text};
  }
}

}  // namespace mailtrixy::smtp
