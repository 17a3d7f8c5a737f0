#pragma once
// Reading the header section of an RFC 5322 message: enough to fill an Envelope (IMAP ENVELOPE,
// metadata SEARCH) and to reject input that is not a message at all. Pure functions, no I/O,
// thread-safe. Lenient like mail readers are: unknown or broken headers are skipped, never a
// crash; RFC 2047 encoded words are kept as they are.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/mail/error.hpp"
#include "mailtrixy/mail/types.hpp"

namespace mailtrixy::mail {

struct HeaderField {
  std::string name;   // as written ("Subject")
  std::string value;  // unfolded (CRLF + WSP -> WSP), leading/trailing whitespace trimmed
};

// The header fields before the first empty line (CRLF or bare LF line endings). Lines that are
// not "name: value" and not continuations are skipped.
std::vector<HeaderField> parse_header_fields(std::string_view message);

// Value of the first field named `name` (case-insensitive), nullopt when absent.
std::optional<std::string> find_header(const std::vector<HeaderField>& fields, std::string_view name);

// "Name <a@b>, c@d, \"Last, First\" <e@f>, group: g@h;" -> addresses (groups flattened,
// comments dropped). Entries without an '@' address are skipped.
std::vector<Address> parse_address_list(std::string_view value);

// RFC 5322 date-time ("Fri, 21 Nov 1997 09:55:06 -0600", day name and seconds optional,
// obsolete zone names UT/GMT/EST/... accepted) -> UTC. nullopt when unparseable.
std::optional<TimePoint> parse_rfc5322_date(std::string_view value);

// Envelope of a message from its headers (Date, Subject, From, Sender, Reply-To, To, Cc, Bcc,
// In-Reply-To, Message-ID). Per RFC 3501, Sender and Reply-To default to From when absent.
Envelope parse_envelope(std::string_view message);

// invalid (with a sentence saying why) when `message` is empty, does not start with a header
// field, or contains a NUL byte; ok otherwise. Used before APPEND and SMTP submission.
MailResult<void> validate_message(std::string_view message);

}  // namespace mailtrixy::mail
