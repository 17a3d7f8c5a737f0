#pragma once
// The syntax of SMTP command lines (RFC 5321 section 4.1, RFC 6531 for SMTPUTF8), as plain
// functions over strings: splitting a line into verb and arguments, reading the path and the
// parameters of MAIL FROM / RCPT TO, checking an address, and comparing two addresses the way
// Microsoft does. No state; the verbs (src/smtp/verbs/) decide what the replies are.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::smtp {

struct CommandLine {
  std::string verb;       // upper-cased ASCII ("MAIL")
  std::string arguments;  // the rest after the separating space(s), as sent
};

// "mail FROM:<a@b>" -> {"MAIL", "FROM:<a@b>"}. Leading/trailing spaces and tabs are ignored.
CommandLine split_command(std::string_view line);

struct PathParameter {
  std::string keyword;  // upper-cased ("SIZE")
  std::optional<std::string> value;
};

struct PathArgument {
  std::string address;  // the addr-spec without angle brackets or source route; "" for "<>"
  std::vector<PathParameter> parameters;
};

// Reads "FROM:<addr> PARAM=value ..." (prefix "FROM:") or "TO:<addr> ..." (prefix "TO:"); the
// prefix is matched case-insensitively and spaces after the colon are tolerated (Outlook and
// others send "MAIL FROM: <a@b>"). A path without angle brackets is accepted when it holds no
// space. A source route ("<@relay:a@b>", RFC 5321 4.1.2) is accepted and dropped. The address
// itself is not validated here (see check_address). Errors say what is malformed.
Result<PathArgument> parse_path_argument(std::string_view arguments, std::string_view prefix);

enum class AddressCheck {
  ok,
  bad_syntax,      // not local-part@domain per RFC 5321 4.1.2 (or over its length limits)
  needs_smtputf8,  // holds UTF-8, allowed only in a transaction opened with SMTPUTF8
};

// Checks a Mailbox (local-part "@" domain): dot-string or quoted-string local part of at most 64
// octets, a domain of dot-separated labels (letters, digits, hyphens; no leading or trailing
// hyphen) or an address literal "[...]", at most 255 octets; 254 octets in all. With `smtputf8`,
// well-formed UTF-8 is allowed in both parts (RFC 6531 3.3); without it any octet above 127
// gives needs_smtputf8. Malformed UTF-8 is always bad_syntax.
AddressCheck check_address(std::string_view address, bool smtputf8);

// The address with its ASCII letters lower-cased: Microsoft treats both the local part and the
// domain case-insensitively, so this is the key to compare senders and to drop duplicate
// recipients. Non-ASCII octets are left as they are.
std::string address_key(std::string_view address);

bool same_address(std::string_view a, std::string_view b);

}  // namespace mailtrixy::smtp
