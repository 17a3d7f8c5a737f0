#include "reply.hpp"

namespace mailtrixy::imap::detail {

Reply translate_error(const mail::MailError& error, ErrorContext context) {
  using mail::ErrorCode;
  std::string text = error.message.empty() ? std::string(to_string(error.code)) : error.message;
  switch (error.code) {
    case ErrorCode::not_found:
      return Reply::no(std::move(text), context == ErrorContext::destination ? "TRYCREATE" : "NONEXISTENT");
    case ErrorCode::already_exists: return Reply::no(std::move(text), "ALREADYEXISTS");
    case ErrorCode::no_permission: return Reply::no(std::move(text), "NOPERM");
    case ErrorCode::too_big: return Reply::no(std::move(text), "TOOBIG");
    case ErrorCode::unavailable:
    case ErrorCode::sync_state_not_found:
    case ErrorCode::needs_sign_in: return Reply::no(std::move(text), "UNAVAILABLE");
    case ErrorCode::quota: return Reply::no(std::move(text), "OVERQUOTA");
    case ErrorCode::invalid:
    case ErrorCode::not_supported: return Reply::no(std::move(text), "CANNOT");
    case ErrorCode::internal: break;
  }
  return Reply::no(std::move(text), "SERVERBUG");
}

std::string single_line(std::string_view text) {
  std::string line;
  line.reserve(text.size());
  for (char c : text) {
    if (c == '\r' || c == '\n') {
      line += ' ';
    } else if (c != '\0') {
      line += c;
    }
  }
  return line;
}

void write_tagged(std::string& out, std::string_view tag, const Reply& reply) {
  out += tag;
  switch (reply.status) {
    case Reply::Status::ok: out += " OK "; break;
    case Reply::Status::no: out += " NO "; break;
    case Reply::Status::bad: out += " BAD "; break;
  }
  if (!reply.code.empty()) {
    out += '[';
    out += single_line(reply.code);
    out += "] ";
  }
  out += single_line(reply.text);
  out += "\r\n";
}

void write_untagged(std::string& out, std::string_view text) {
  out += "* ";
  out += text;
  out += "\r\n";
}

}  // namespace mailtrixy::imap::detail
