#pragma once
// SMTP replies on the wire (RFC 5321 4.2) with enhanced status codes (RFC 2034, RFC 3463), and
// the one place where the mail layer's protocol-neutral errors become SMTP replies.
//
// Every 2xx, 4xx and 5xx reply carries an enhanced status code ("250 2.1.0 Ok"), except the ones
// RFC 2034 section 3 exempts: the 220 greeting and the replies to EHLO and HELO. Intermediate
// replies (334, 354) have no enhanced code either: RFC 3463 defines none for class 3.

#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/mail/error.hpp"

namespace mailtrixy::smtp {

struct Reply {
  int code = 250;
  std::string status;  // "2.0.0"; empty for the exempt replies
  std::string text;    // one line of human text; CR and LF are replaced by spaces when written
};

// Appends "code status text\r\n".
void append_reply(std::string& out, const Reply& reply);
void append_reply(std::string& out, int code, std::string_view status, std::string_view text);
// A multi-line reply: "code-line\r\n" ... "code last\r\n" (no enhanced codes: used for EHLO).
void append_multiline(std::string& out, int code, const std::vector<std::string>& lines);

// The reply to a failed enqueue() of a finished DATA:
//   too_big -> 552 5.3.4, invalid -> 554 5.6.0, quota -> 452 4.2.2, no_permission -> 550 5.7.1,
//   needs_sign_in -> 454 4.7.0, anything else (unavailable, internal, ...) -> 451 4.3.0.
// The text is the error's own sentence, which already says what to do.
Reply reply_for_submission_error(const mail::MailError& error);

}  // namespace mailtrixy::smtp
