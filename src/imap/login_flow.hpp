#pragma once
// The one path from "user + password" to the authenticated state, shared by LOGIN and
// AUTHENTICATE PLAIN. The password is passed through to mail::LoginService and never logged.

#include <string_view>

#include "context.hpp"
#include "reply.hpp"

namespace mailtrixy::imap::detail {

// Checks the credentials and, on success, moves the session to the authenticated state.
// Outcomes: ok -> OK [CAPABILITY ...]; wrong credentials -> NO [AUTHENTICATIONFAILED];
// rate limited -> NO [UNAVAILABLE] with the wait; needs sign-in -> NO [UNAVAILABLE] with the
// reconnect URL; unavailable -> NO [UNAVAILABLE]. Failures are answered after
// options.failed_login_delay (at most one second).
Reply complete_login(Context& context, std::string_view user, std::string_view password);

// The refusal for plaintext credentials on a non-loopback connection without TLS.
Reply privacy_required();

}  // namespace mailtrixy::imap::detail
