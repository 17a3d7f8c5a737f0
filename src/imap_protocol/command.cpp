#include "mailtrixy/imap/command.hpp"

namespace mailtrixy::imap {

std::string_view command_name(CommandKind kind) {
  switch (kind) {
    case CommandKind::capability: return "CAPABILITY";
    case CommandKind::noop: return "NOOP";
    case CommandKind::logout: return "LOGOUT";
    case CommandKind::starttls: return "STARTTLS";
    case CommandKind::authenticate: return "AUTHENTICATE";
    case CommandKind::login: return "LOGIN";
    case CommandKind::enable: return "ENABLE";
    case CommandKind::id: return "ID";
    case CommandKind::namespace_: return "NAMESPACE";
    case CommandKind::select: return "SELECT";
    case CommandKind::examine: return "EXAMINE";
    case CommandKind::create: return "CREATE";
    case CommandKind::delete_: return "DELETE";
    case CommandKind::rename: return "RENAME";
    case CommandKind::subscribe: return "SUBSCRIBE";
    case CommandKind::unsubscribe: return "UNSUBSCRIBE";
    case CommandKind::list: return "LIST";
    case CommandKind::lsub: return "LSUB";
    case CommandKind::status: return "STATUS";
    case CommandKind::append: return "APPEND";
    case CommandKind::idle: return "IDLE";
    case CommandKind::check: return "CHECK";
    case CommandKind::close: return "CLOSE";
    case CommandKind::unselect: return "UNSELECT";
    case CommandKind::expunge: return "EXPUNGE";
    case CommandKind::search: return "SEARCH";
    case CommandKind::fetch: return "FETCH";
    case CommandKind::store: return "STORE";
    case CommandKind::copy: return "COPY";
    case CommandKind::move: return "MOVE";
  }
  return "UNKNOWN";
}

}  // namespace mailtrixy::imap
