#include "mailtrixy/smtp/session.hpp"

#include <utility>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/smtp/command.hpp"
#include "mailtrixy/smtp/reply.hpp"
#include "session_context.hpp"
#include "verbs/verbs.hpp"

namespace mailtrixy::smtp {
namespace {

using verbs::Outcome;

Outcome run_command(Session::Context& context, std::string_view line, std::string& out) {
  if (context.sasl.step != SaslExchange::Step::none) return verbs::continue_auth(context, line, out);

  const CommandLine command = split_command(line);
  if (command.verb.empty()) {
    append_reply(out, 500, "5.5.2", "Empty command line; send a command such as EHLO");
    return Outcome::refused;
  }
  const verbs::Verb* verb = verbs::find_verb(command.verb);
  if (verb == nullptr) {
    append_reply(out, 500, "5.5.1", "Command not recognized: " + command.verb.substr(0, 32));
    return Outcome::refused;
  }
  if ((verb->flags & verbs::no_arguments) != 0 && !command.arguments.empty()) {
    append_reply(out, 501, "5.5.4", "Syntax: " + std::string(verb->syntax) + " (no arguments)");
    return Outcome::refused;
  }
  if ((verb->flags & verbs::needs_greeting) != 0 && context.greeted == Greeted::no) {
    append_reply(out, 503, "5.5.1", "Send EHLO (or HELO) first");
    return Outcome::refused;
  }
  if ((verb->flags & verbs::needs_auth) != 0 && !context.authenticated) {
    append_reply(out, 530, "5.7.0",
                 context.auth_allowed() ? "Authentication required; log in with AUTH first"
                                        : "Authentication required; send STARTTLS, then AUTH");
    return Outcome::refused;
  }
  return verb->handler(context, command.arguments, out);
}

}  // namespace

Session::Session(SessionOptions options, mail::LoginService& logins, mail::SubmissionQueue& queue, ConnectionInfo info)
    : context_(std::make_unique<Context>(std::move(options), logins, queue, std::move(info))) {}

Session::~Session() = default;

std::string Session::greeting() const {
  std::string out;
  append_reply(out, 220, "", context_->options.hostname + " ESMTP MailTrixy Bridge ready");
  return out;
}

SessionAction Session::receive(std::string_view bytes, std::string& out) {
  Context& context = *context_;
  context.parser.feed(bytes);
  while (auto event = context.parser.next()) {
    Outcome outcome = Outcome::ok;
    switch (event->kind) {
      case InputEvent::Kind::line:
        outcome = run_command(context, event->line, out);
        break;
      case InputEvent::Kind::line_too_long:
        context.sasl = SaslExchange{};
        append_reply(out, 500, "5.5.2",
                     "Line too long; at most " + std::to_string(context.options.limits.max_line_length) +
                         " bytes per command");
        outcome = Outcome::refused;
        break;
      case InputEvent::Kind::data_complete:
        outcome = verbs::finish_data(context, *event, out);
        break;
    }
    switch (outcome) {
      case Outcome::ok:
        context.errors = 0;
        break;
      case Outcome::refused:
        if (++context.errors >= context.options.max_errors) {
          log::info("smtp client made too many errors", {{"session", context.info.session_id}, {"peer", context.info.peer}});
          append_reply(out, 421, "4.7.0", "Too many errors; closing the connection");
          return SessionAction::close;
        }
        break;
      case Outcome::start_tls:
        // Plaintext pipelined after STARTTLS must never be read as commands (RFC 3207 4.2).
        context.parser.discard_buffered();
        return SessionAction::start_tls;
      case Outcome::close:
        return SessionAction::close;
    }
  }
  return SessionAction::keep_going;
}

void Session::on_tls_started() {
  Context& context = *context_;
  context.info.tls = true;
  context.parser.discard_buffered();
  // RFC 3207 4.2: everything learnt before the handshake is forgotten, the session starts over.
  context.greeted = Greeted::no;
  context.client_name.clear();
  context.authenticated = false;
  context.account_key.clear();
  context.address.clear();
  context.sasl = SaslExchange{};
  context.reset_transaction();
}

void Session::on_timeout(std::string& out) {
  append_reply(out, 421, "4.4.2", context_->options.hostname + " Error: timeout exceeded");
}

void Session::on_shutdown(std::string& out) { append_reply(out, 421, "4.3.2", "Service shutting down"); }

std::chrono::seconds Session::idle_timeout() const {
  return context_->parser.in_data() ? context_->options.data_timeout : context_->options.command_timeout;
}

const std::string& Session::account_key() const { return context_->account_key; }

}  // namespace mailtrixy::smtp
