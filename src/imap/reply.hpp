#pragma once
// Tagged completion results and the one translation of mail::MailError into IMAP response codes.

#include <string>
#include <string_view>

#include "mailtrixy/mail/error.hpp"

namespace mailtrixy::imap::detail {

// What a command handler returns: the tagged status line. Untagged data is written by the
// handler itself; the session writes pending updates and then this line.
struct Reply {
  enum class Status { ok, no, bad };
  Status status = Status::ok;
  std::string code;  // response code without brackets ("TRYCREATE", "APPENDUID 3 7"), may be empty
  std::string text;
  // The command is still running (IDLE, AUTHENTICATE waiting for a line): no tagged line yet.
  bool later = false;

  static Reply in_progress() { return {Status::ok, {}, {}, true}; }
  static Reply ok(std::string text, std::string code = {}) { return {Status::ok, std::move(code), std::move(text), false}; }
  static Reply no(std::string text, std::string code = {}) { return {Status::no, std::move(code), std::move(text), false}; }
  static Reply bad(std::string text, std::string code = {}) {
    return {Status::bad, std::move(code), std::move(text), false};
  }
};

// Where a mail error happened, for the few codes that depend on it (RFC 3501 TRYCREATE is only
// for the destination of APPEND, COPY and MOVE).
enum class ErrorContext { general, destination };

// The single mapping of mail::ErrorCode to an IMAP NO/BAD with a response code (RFC 5530):
//   not_found -> NO [NONEXISTENT] (NO [TRYCREATE] for a missing APPEND/COPY/MOVE destination)
//   already_exists -> NO [ALREADYEXISTS]   no_permission -> NO [NOPERM]
//   too_big -> NO [TOOBIG]                 unavailable, sync_state_not_found -> NO [UNAVAILABLE]
//   needs_sign_in -> NO [UNAVAILABLE]      quota -> NO [OVERQUOTA]
//   invalid, not_supported -> NO [CANNOT]  internal -> NO [SERVERBUG]
// The text is the error's own sentence.
Reply translate_error(const mail::MailError& error, ErrorContext context = ErrorContext::general);

// "tag OK [code] text\r\n" (text with CR/LF replaced, so that an error message can't break framing).
void write_tagged(std::string& out, std::string_view tag, const Reply& reply);
// "* text\r\n".
void write_untagged(std::string& out, std::string_view text);

// Removes CR, LF and NUL from text that goes into a response line.
std::string single_line(std::string_view text);

}  // namespace mailtrixy::imap::detail
