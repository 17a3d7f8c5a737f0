#include "../command_table.hpp"

namespace mailtrixy::imap::detail {

Reply handle_logout(Context& context, const Command&) {
  write_untagged(*context.out, "BYE Logging out");
  context.deselect();
  context.state = State::logout;
  context.action = SessionAction::close;
  return Reply::ok("LOGOUT completed");
}

}  // namespace mailtrixy::imap::detail
