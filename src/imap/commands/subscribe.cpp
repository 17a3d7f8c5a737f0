#include "../command_table.hpp"
#include "../names.hpp"
#include "../subscriptions.hpp"

namespace mailtrixy::imap::detail {

// SUBSCRIBE and UNSUBSCRIBE. Bridge-local; a name that does not exist may be subscribed (RFC 3501).
Reply handle_subscribe(Context& context, const Command& command) {
  const auto& args = std::get<MailboxArgs>(command.arguments);
  bool subscribe = command.kind == CommandKind::subscribe;
  auto path = path_from_wire(args.mailbox);
  if (!path) return Reply::bad(path.error().message);
  auto changed = change_subscription(context, *path, subscribe);
  if (!changed) return translate_error(changed.error());
  return Reply::ok(subscribe ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
}

}  // namespace mailtrixy::imap::detail
