#include "../command_table.hpp"

namespace mailtrixy::imap::detail {

// IDLE (RFC 2177): "+ idling" at once, whatever is queued right after it, then every change as
// it comes (Session::on_wake) until the client sends DONE.
Reply handle_idle(Context& context, const Command& command) {
  *context.out += "+ idling\r\n";
  if (context.selected) {
    (void)context.mailbox->request_refresh(context.selected->path);
    if (!context.selected->deliver(*context.out, true)) {
      return Reply::no("The selected folder no longer exists.", "NONEXISTENT");
    }
  }
  context.mode = Mode::idle;
  context.mode_tag = command.tag;
  context.parser.expect_line();
  return Reply::in_progress();
}

Reply continue_idle(Context& context, const std::string& line) {
  context.mode = Mode::commands;
  std::string word = line;
  while (!word.empty() && (word.back() == ' ' || word.back() == '\t')) word.pop_back();
  if (word.size() == 4 && (word[0] | 0x20) == 'd' && (word[1] | 0x20) == 'o' && (word[2] | 0x20) == 'n' &&
      (word[3] | 0x20) == 'e') {
    return Reply::ok("IDLE terminated");
  }
  return Reply::bad("IDLE ends with DONE; the line sent instead was ignored.");
}

}  // namespace mailtrixy::imap::detail
