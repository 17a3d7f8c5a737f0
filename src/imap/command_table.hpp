#pragma once
// The one table of IMAP commands: name -> handler, the states it is allowed in and which pending
// updates may follow it. Handlers live in src/imap/commands/, one file per command.

#include <cstdint>

#include "context.hpp"
#include "reply.hpp"

namespace mailtrixy::imap::detail {

using Handler = Reply (*)(Context& context, const Command& command);

// Which queued changes of the selected folder are sent after the command's own data.
enum class Updates {
  none,        // nothing (commands of the not-authenticated state; LOGOUT)
  no_expunge,  // EXISTS and FETCH FLAGS, but no EXPUNGE (RFC 3501 7.4.1; most commands)
  all,         // everything, EXPUNGE included (NOOP, CHECK, EXPUNGE, MOVE)
};

struct CommandSpec {
  CommandKind kind;
  std::uint8_t states;  // bits of State
  Updates updates;
  Handler handler;
};

// The entry for `kind` (every CommandKind has one).
const CommandSpec& command_spec(CommandKind kind);

// Handlers (commands/*.cpp).
Reply handle_capability(Context&, const Command&);
Reply handle_noop(Context&, const Command&);
Reply handle_logout(Context&, const Command&);
Reply handle_starttls(Context&, const Command&);
Reply handle_authenticate(Context&, const Command&);
Reply handle_login(Context&, const Command&);
Reply handle_enable(Context&, const Command&);
Reply handle_id(Context&, const Command&);
Reply handle_namespace(Context&, const Command&);
Reply handle_select(Context&, const Command&);  // SELECT and EXAMINE
Reply handle_create(Context&, const Command&);
Reply handle_delete(Context&, const Command&);
Reply handle_rename(Context&, const Command&);
Reply handle_subscribe(Context&, const Command&);  // SUBSCRIBE and UNSUBSCRIBE
Reply handle_list(Context&, const Command&);
Reply handle_lsub(Context&, const Command&);
Reply handle_status(Context&, const Command&);
Reply handle_append(Context&, const Command&);
Reply handle_idle(Context&, const Command&);
Reply handle_check(Context&, const Command&);
Reply handle_close(Context&, const Command&);
Reply handle_unselect(Context&, const Command&);
Reply handle_expunge(Context&, const Command&);  // EXPUNGE and UID EXPUNGE
Reply handle_search(Context&, const Command&);
Reply handle_fetch(Context&, const Command&);
Reply handle_store(Context&, const Command&);
Reply handle_copy(Context&, const Command&);  // COPY
Reply handle_move(Context&, const Command&);  // MOVE

// The second half of AUTHENTICATE PLAIN: the client's base64 line after "+ ".
Reply continue_authenticate(Context&, const std::string& line);
// The line that ends IDLE ("DONE").
Reply continue_idle(Context&, const std::string& line);

}  // namespace mailtrixy::imap::detail
