#include "names.hpp"

#include "mailtrixy/imap/mailbox_name.hpp"
#include "mailtrixy/mail/types.hpp"

namespace mailtrixy::imap::detail {

Result<std::string> path_from_wire(std::string_view wire) {
  auto decoded = decode_mailbox_name(wire);
  if (!decoded) {
    return make_error("The folder name \"" + std::string(wire) +
                      "\" is not valid modified UTF-7; send non-ASCII names the way RFC 3501 5.1.3 describes.");
  }
  auto path = mail::normalize_folder_path(*decoded);
  if (!path) {
    return make_error("The folder name \"" + std::string(wire) +
                      "\" is not valid; use names separated by single '/' characters.");
  }
  return *path;
}

std::string wire_from_path(std::string_view path) { return encode_mailbox_name(path); }

}  // namespace mailtrixy::imap::detail
