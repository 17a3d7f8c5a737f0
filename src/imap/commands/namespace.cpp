#include "../command_table.hpp"

namespace mailtrixy::imap::detail {

// One personal namespace with an empty prefix, so no client needs a "root folder path".
Reply handle_namespace(Context& context, const Command&) {
  write_untagged(*context.out, "NAMESPACE ((\"\" \"/\")) NIL NIL");
  return Reply::ok("NAMESPACE completed");
}

}  // namespace mailtrixy::imap::detail
