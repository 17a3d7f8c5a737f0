#include "../command_table.hpp"

namespace mailtrixy::imap::detail {

// ENABLE (RFC 5161). The bridge offers none of the extensions that need enabling (CONDSTORE,
// QRESYNC, UTF8=ACCEPT are not advertised), so nothing is enabled and the answer says so:
// an empty ENABLED list, which clients read as "stay with the defaults".
Reply handle_enable(Context& context, const Command&) {
  write_untagged(*context.out, "ENABLED");
  return Reply::ok("ENABLE completed");
}

}  // namespace mailtrixy::imap::detail
