#pragma once
// Mailbox names between the wire and the backend: modified UTF-7 (RFC 3501 5.1.3) on the wire,
// UTF-8 paths with '/' in the backend; INBOX matched case-insensitively (also as the first level
// of "inbox/child"). Built on mailbox_name.hpp of imap_protocol.

#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::imap::detail {

// The backend path of a name as the client sent it; an error sentence for a name that is not
// valid modified UTF-7 or not a valid path ("", "a//b").
Result<std::string> path_from_wire(std::string_view wire);

// The wire form of a backend path.
std::string wire_from_path(std::string_view path);

}  // namespace mailtrixy::imap::detail
