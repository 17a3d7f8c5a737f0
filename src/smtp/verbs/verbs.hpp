#pragma once
// The verb table: one entry per SMTP verb, each implemented in its own file in this directory.
// The session looks the verb up, checks the entry's preconditions (so no verb repeats them),
// and calls the handler. Internal to the smtp module.

#include <string>
#include <string_view>

#include "../session_context.hpp"

namespace mailtrixy::smtp::verbs {

// What a handler tells the session. `refused` counts towards SessionOptions::max_errors.
enum class Outcome { ok, refused, start_tls, close };

using Handler = Outcome (*)(Session::Context& context, std::string_view arguments, std::string& out);

enum Flags : unsigned {
  none = 0,
  no_arguments = 1u << 0,    // anything after the verb is a syntax error (501 5.5.4)
  needs_greeting = 1u << 1,  // EHLO or HELO first (503 5.5.1)
  needs_auth = 1u << 2,      // AUTH first (530 5.7.0)
};

struct Verb {
  std::string_view name;
  Handler handler;
  unsigned flags;
  std::string_view syntax;  // shown in 501 replies ("MAIL FROM:<address> [parameters]")
};

// The table (table.cpp); nullptr for an unknown verb.
const Verb* find_verb(std::string_view name);

Outcome ehlo(Session::Context&, std::string_view, std::string&);
Outcome helo(Session::Context&, std::string_view, std::string&);
Outcome starttls(Session::Context&, std::string_view, std::string&);
Outcome auth(Session::Context&, std::string_view, std::string&);
Outcome mail(Session::Context&, std::string_view, std::string&);
Outcome rcpt(Session::Context&, std::string_view, std::string&);
Outcome data(Session::Context&, std::string_view, std::string&);
Outcome bdat(Session::Context&, std::string_view, std::string&);
Outcome rset(Session::Context&, std::string_view, std::string&);
Outcome noop(Session::Context&, std::string_view, std::string&);
Outcome quit(Session::Context&, std::string_view, std::string&);
Outcome vrfy(Session::Context&, std::string_view, std::string&);
Outcome expn(Session::Context&, std::string_view, std::string&);
Outcome help(Session::Context&, std::string_view, std::string&);
Outcome xclient(Session::Context&, std::string_view, std::string&);

// The continuation of an AUTH exchange: `line` is the client's SASL response (auth.cpp).
Outcome continue_auth(Session::Context& context, std::string_view line, std::string& out);
// The end of DATA: hands the message to the queue and answers (data.cpp).
Outcome finish_data(Session::Context& context, InputEvent& event, std::string& out);

}  // namespace mailtrixy::smtp::verbs
