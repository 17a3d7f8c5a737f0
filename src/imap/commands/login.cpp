#include "../command_table.hpp"
#include "../login_flow.hpp"

namespace mailtrixy::imap::detail {

Reply handle_login(Context& context, const Command& command) {
  if (!context.plaintext_auth_allowed()) return privacy_required();
  const auto& args = std::get<LoginArgs>(command.arguments);
  return complete_login(context, args.user, args.password);
}

}  // namespace mailtrixy::imap::detail
