#pragma once
// Small formatting helpers shared by several commands.

#include <string>

#include "mailtrixy/mail/types.hpp"

namespace mailtrixy::imap::detail {

// "17-Jul-1996 02:44:25 +0000" (RFC 3501 date-time, always UTC), without quotes.
std::string format_internal_date(mail::TimePoint time);

}  // namespace mailtrixy::imap::detail
