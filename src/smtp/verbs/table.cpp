#include <array>

#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {
namespace {

// The whole command set in one place: which file handles a verb and what it needs first.
constexpr std::array kVerbs{
    Verb{"EHLO", ehlo, none, "EHLO hostname"},
    Verb{"HELO", helo, none, "HELO hostname"},
    Verb{"STARTTLS", starttls, no_arguments, "STARTTLS"},
    Verb{"AUTH", auth, needs_greeting, "AUTH PLAIN [initial-response] or AUTH LOGIN [username]"},
    Verb{"MAIL", mail, needs_greeting | needs_auth, "MAIL FROM:<address> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8]"},
    Verb{"RCPT", rcpt, needs_greeting | needs_auth, "RCPT TO:<address>"},
    Verb{"DATA", data, no_arguments | needs_greeting | needs_auth, "DATA"},
    Verb{"BDAT", bdat, none, "BDAT size [LAST]"},
    Verb{"RSET", rset, no_arguments, "RSET"},
    Verb{"NOOP", noop, none, "NOOP"},
    Verb{"QUIT", quit, no_arguments, "QUIT"},
    Verb{"VRFY", vrfy, none, "VRFY address"},
    Verb{"EXPN", expn, none, "EXPN list"},
    Verb{"HELP", help, none, "HELP"},
    Verb{"XCLIENT", xclient, none, "XCLIENT attribute=value ... (NAME, ADDR, PORT, PROTO, HELO, LOGIN)"},
};

}  // namespace

const Verb* find_verb(std::string_view name) {
  for (const Verb& verb : kVerbs) {
    if (verb.name == name) return &verb;
  }
  return nullptr;
}

}  // namespace mailtrixy::smtp::verbs
