// EHLO and HELO (RFC 5321 4.1.1.1): greet, reset any transaction, list the extensions.

#include <string>
#include <vector>

#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {
namespace {

Outcome greet(Session::Context& context, std::string_view arguments, std::string& out, Greeted kind) {
  if (arguments.empty()) {
    append_reply(out, 501, "5.5.4", kind == Greeted::ehlo ? "Syntax: EHLO hostname" : "Syntax: HELO hostname");
    return Outcome::refused;
  }
  context.reset_transaction();
  context.greeted = kind;
  context.client_name = std::string(arguments.substr(0, 255));
  const std::string hello = context.options.hostname + " Hello " + context.client_name;
  if (kind == Greeted::helo) {
    append_reply(out, 250, "", hello);
    return Outcome::ok;
  }
  std::vector<std::string> lines{hello,
                                 "PIPELINING",
                                 "SIZE " + std::to_string(context.options.max_message_bytes),
                                 "8BITMIME",
                                 "ENHANCEDSTATUSCODES",
                                 "SMTPUTF8"};
  if (context.auth_allowed()) lines.emplace_back("AUTH PLAIN LOGIN");
  if (context.info.starttls_available && !context.info.tls) lines.emplace_back("STARTTLS");
  if (context.info.trusted_proxy) lines.emplace_back("XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT");
  append_multiline(out, 250, lines);
  return Outcome::ok;
}

}  // namespace

Outcome ehlo(Session::Context& context, std::string_view arguments, std::string& out) {
  return greet(context, arguments, out, Greeted::ehlo);
}

Outcome helo(Session::Context& context, std::string_view arguments, std::string& out) {
  return greet(context, arguments, out, Greeted::helo);
}

}  // namespace mailtrixy::smtp::verbs
