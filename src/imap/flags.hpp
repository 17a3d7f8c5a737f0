#pragma once
// Flags as clients send them in STORE and APPEND.

#include <string>
#include <vector>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/mail/types.hpp"

namespace mailtrixy::imap::detail {

// "\Seen", "$Forwarded", "Work"... -> mail::Flags. "\Recent" is skipped (the server's to set, and
// the bridge does not track it); another unknown "\Name" or a keyword that is not an atom is an
// error sentence for BAD.
Result<mail::Flags> parse_flags(const std::vector<std::string>& names);

// The flags FLAGS and PERMANENTFLAGS advertise: the system flags, $Forwarded.
inline constexpr const char* kSystemFlagList = "\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded";
// \Draft is read-only on Microsoft Graph, so it is not permanent; keywords are (categories).
inline constexpr const char* kPermanentFlagList = "\\Answered \\Flagged \\Deleted \\Seen $Forwarded \\*";

}  // namespace mailtrixy::imap::detail
