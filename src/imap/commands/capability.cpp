#include "../command_table.hpp"

namespace mailtrixy::imap::detail {

Reply handle_capability(Context& context, const Command&) {
  write_untagged(*context.out, "CAPABILITY " + context.capabilities());
  return Reply::ok("CAPABILITY completed");
}

}  // namespace mailtrixy::imap::detail
