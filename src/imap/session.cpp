#include "mailtrixy/imap/session.hpp"

#include <chrono>
#include <exception>

#include "command_table.hpp"
#include "context.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/base/metrics.hpp"

namespace mailtrixy::imap {

namespace detail {

namespace {

constexpr std::string_view kBaseCapabilities =
    "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE SPECIAL-USE CHILDREN "
    "LIST-EXTENDED LIST-STATUS XLIST";

bool in_state(std::uint8_t states, State state) { return (states & static_cast<std::uint8_t>(state)) != 0; }

// Commands by name and tagged result, and the latency of those answered at once (IDLE and a
// two-step AUTHENTICATE wait for the client, so their time says nothing about the server).
// Names come from the fixed command table, so the label sets stay bounded.
void count_command(std::string_view name, Reply::Status status) {
  static auto& commands = metrics::global().counter(
      "mailtrixy_imap_commands_total", "IMAP commands answered, by command and tagged result (OK, NO, BAD).",
      {"command", "result"});
  const std::string_view result = status == Reply::Status::ok ? "OK" : status == Reply::Status::no ? "NO" : "BAD";
  commands.with({name, result}).inc();
}

void observe_command_latency(std::string_view name, std::chrono::steady_clock::duration elapsed) {
  static auto& latency = metrics::global().histogram(
      "mailtrixy_imap_command_duration_seconds",
      "Time the server spent on an IMAP command, from parsed to answered, by command (IDLE excluded).",
      {"command"},
      metrics::latency_buckets());
  latency.with({name}).observe(std::chrono::duration<double>(elapsed).count());
}

std::string wrong_state_message(const CommandSpec& spec, State state) {
  if (state == State::not_authenticated) return "Please log in first (LOGIN or AUTHENTICATE).";
  if (in_state(spec.states, State::not_authenticated)) return "Already logged in.";
  return "No folder is selected; SELECT or EXAMINE one first.";
}

}  // namespace

std::string Context::capabilities() const {
  std::string caps(kBaseCapabilities);
  if (state == State::not_authenticated) {
    if (info.starttls_available && !info.tls) caps += " STARTTLS";
    caps += plaintext_auth_allowed() ? " AUTH=PLAIN" : " LOGINDISABLED";
  }
  return caps;
}

void Context::maybe_stream() {
  if (out != nullptr && options.stream_output && out->size() >= options.stream_threshold) {
    options.stream_output(*out);
    out->clear();
  }
}

mail::MailResult<mail::ChangeSubscription> Context::watch(const std::string& path,
                                                          std::shared_ptr<PendingEvents> queue) {
  return mailbox->subscribe(path, [queue = std::move(queue), wake_up = wake](const mail::ChangeEvent& event) {
    queue->push(event);
    if (wake_up) wake_up();
  });
}

void Context::deselect() {
  // Destroying the subscription waits for a callback in progress, so the queue is quiet after.
  selected.reset();
  if (state == State::selected) state = State::authenticated;
}

}  // namespace detail

using detail::Context;
using detail::Mode;
using detail::Reply;
using detail::State;

struct Session::Impl {
  Impl(SessionOptions options, mail::LoginService& logins, ConnectionInfo info, std::function<void()> wake)
      : context(std::move(options), logins, std::move(info), std::move(wake)) {}

  Context context;

  // Writes the updates the command allows, then its tagged line.
  void finish(const std::string& tag, const Reply& reply, detail::Updates updates) {
    auto& out = *context.out;
    if (updates != detail::Updates::none && context.selected && context.state == State::selected) {
      if (!context.selected->deliver(out, updates == detail::Updates::all)) {
        folder_gone();
        return;
      }
    }
    detail::write_tagged(out, tag, reply);
  }

  void folder_gone() {
    detail::write_untagged(*context.out, "BYE The selected folder was deleted or renamed elsewhere; please reconnect.");
    context.deselect();
    context.state = State::logout;
    context.action = SessionAction::close;
  }

  void run(const Command& command) {
    const auto& spec = detail::command_spec(command.kind);
    if (!detail::in_state(spec.states, context.state)) {
      detail::count_command(command_name(command.kind), Reply::Status::bad);
      detail::write_tagged(*context.out, command.tag, Reply::bad(detail::wrong_state_message(spec, context.state)));
      return;
    }
    const auto started = std::chrono::steady_clock::now();
    Reply reply;
    try {
      reply = spec.handler(context, command);
    } catch (const std::exception& error) {
      log::error("imap command failed", {{"command", command_name(command.kind)},
                                          {"account", context.account_key},
                                          {"peer", context.info.peer},
                                          {"error", error.what()}});
      context.mode = Mode::commands;
      reply = Reply::no("The server failed to complete the command; please try again.", "SERVERBUG");
    }
    if (reply.status != Reply::Status::ok) {
      // Arguments are never logged: LOGIN's carry the password.
      log::debug("imap command refused", {{"command", command_name(command.kind)},
                                           {"account", context.account_key},
                                           {"peer", context.info.peer},
                                           {"code", reply.code}});
    }
    if (reply.later) return;
    finish(command.tag, reply, spec.updates);
    detail::count_command(command_name(command.kind), reply.status);
    detail::observe_command_latency(command_name(command.kind), std::chrono::steady_clock::now() - started);
  }

  void run_line(const std::string& line) {
    Mode mode = context.mode;
    std::string tag = context.mode_tag;
    Reply reply;
    detail::Updates updates = detail::Updates::none;
    try {
      if (mode == Mode::idle) {
        reply = detail::continue_idle(context, line);
        updates = detail::Updates::all;
      } else if (mode == Mode::authenticate) {
        reply = detail::continue_authenticate(context, line);
      } else {
        return;
      }
    } catch (const std::exception& error) {
      log::error("imap command failed", {{"account", context.account_key}, {"peer", context.info.peer},
                                          {"error", error.what()}});
      context.mode = Mode::commands;
      reply = Reply::no("The server failed to complete the command; please try again.", "SERVERBUG");
    }
    if (reply.later) return;
    finish(tag, reply, updates);
    detail::count_command(mode == Mode::idle ? "IDLE" : "AUTHENTICATE", reply.status);
  }

  SessionAction process() {
    auto& out = *context.out;
    while (context.action == SessionAction::keep_going) {
      auto event = context.parser.next();
      if (!event) break;
      switch (event->kind) {
        case ParseEvent::Kind::command: run(event->command); break;
        case ParseEvent::Kind::continuation: out += "+ Ready for literal data\r\n"; break;
        case ParseEvent::Kind::bad: {
          if (context.mode != Mode::commands) {
            // A broken line where a SASL response or DONE was expected ends that command.
            std::string tag = context.mode_tag;
            context.mode = Mode::commands;
            detail::write_tagged(out, tag, Reply::bad(event->message));
          } else {
            detail::write_tagged(out, event->tag.empty() ? "*" : event->tag, Reply::bad(event->message));
          }
          detail::count_command("(invalid)", Reply::Status::bad);
          if (event->fatal) {
            detail::write_untagged(out, "BYE " + detail::single_line(event->message));
            context.deselect();
            context.state = State::logout;
            context.action = SessionAction::close;
          }
          break;
        }
        case ParseEvent::Kind::too_big:
          detail::write_tagged(out, event->tag.empty() ? "*" : event->tag, Reply::no(event->message, "TOOBIG"));
          break;
        case ParseEvent::Kind::line: run_line(event->line); break;
      }
      context.maybe_stream();
    }
    SessionAction action = context.action;
    if (action == SessionAction::start_tls) {
      // Plaintext pipelined behind STARTTLS must never be read as commands.
      context.parser.discard_buffered();
      context.action = SessionAction::keep_going;
    }
    return action;
  }
};

Session::Session(SessionOptions options, mail::LoginService& logins, ConnectionInfo info, std::function<void()> wake)
    : impl_(std::make_unique<Impl>(std::move(options), logins, std::move(info), std::move(wake))) {}

Session::~Session() {
  if (impl_) impl_->context.deselect();
}

std::string Session::greeting() const {
  return "* OK [CAPABILITY " + impl_->context.capabilities() + "] " + detail::single_line(impl_->context.options.server_name) +
         " ready.\r\n";
}

SessionAction Session::receive(std::string_view bytes, std::string& out) {
  auto& context = impl_->context;
  if (context.state == State::logout) return SessionAction::close;
  context.out = &out;
  context.parser.feed(bytes);
  SessionAction action = impl_->process();
  context.out = nullptr;
  return action;
}

SessionAction Session::on_wake(std::string& out) {
  auto& context = impl_->context;
  if (context.state == State::logout) return SessionAction::close;
  if (context.mode != Mode::idle || !context.selected) return SessionAction::keep_going;
  context.out = &out;
  if (!context.selected->deliver(out, true)) impl_->folder_gone();
  context.maybe_stream();
  context.out = nullptr;
  SessionAction action = context.action;
  return action;
}

void Session::on_tls_started() {
  impl_->context.info.tls = true;
  impl_->context.parser.discard_buffered();
}

void Session::on_timeout(std::string& out) {
  detail::write_untagged(out, "BYE Autologout; idle for too long");
  impl_->context.deselect();
  impl_->context.state = State::logout;
}

void Session::on_shutdown(std::string& out) {
  detail::write_untagged(out, "BYE Server shutting down");
  impl_->context.deselect();
  impl_->context.state = State::logout;
}

std::chrono::seconds Session::idle_timeout() const {
  const auto& context = impl_->context;
  if (context.state == State::not_authenticated) return context.options.unauthenticated_timeout;
  return context.options.autologout;
}

const std::string& Session::account_key() const { return impl_->context.account_key; }

}  // namespace mailtrixy::imap
