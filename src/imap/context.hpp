#pragma once
// The session's state as the command handlers see it. Internal to src/imap: the public face is
// Session (session.hpp). One Context per connection; never touched by two threads at once
// except SelectedFolder's pending-event queue (see selected_folder.hpp).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mailtrixy/imap/command.hpp"
#include "mailtrixy/imap/parser.hpp"
#include "mailtrixy/imap/session.hpp"
#include "mailtrixy/mail/backend.hpp"
#include "mailtrixy/mail/login.hpp"
#include "reply.hpp"
#include "selected_folder.hpp"

namespace mailtrixy::imap::detail {

// RFC 3501 section 3 states, as bits so the command table can list several.
enum class State : std::uint8_t {
  not_authenticated = 1 << 0,
  authenticated = 1 << 1,
  selected = 1 << 2,
  logout = 1 << 3,
};

// What the connection is doing besides reading commands.
enum class Mode {
  commands,      // the parser reads commands
  idle,          // IDLE: waiting for "DONE" (a raw line)
  authenticate,  // AUTHENTICATE PLAIN without SASL-IR: waiting for the base64 response line
};

struct Context {
  Context(SessionOptions session_options, mail::LoginService& login_service, ConnectionInfo connection,
          std::function<void()> wake_function)
      : options(std::move(session_options)),
        logins(login_service),
        info(std::move(connection)),
        wake(std::move(wake_function)),
        parser(options.limits) {}

  SessionOptions options;
  mail::LoginService& logins;
  ConnectionInfo info;
  std::function<void()> wake;
  CommandParser parser;

  State state = State::not_authenticated;
  Mode mode = Mode::commands;
  std::string mode_tag;  // the tag of the IDLE or AUTHENTICATE in progress

  std::string account_key;
  std::string address;
  std::shared_ptr<mail::MailboxBackend> mailbox;
  std::unique_ptr<SelectedFolder> selected;

  // The output buffer of the current receive()/on_wake() call.
  std::string* out = nullptr;
  // Set by a handler that ends the connection or starts TLS; checked after each command.
  SessionAction action = SessionAction::keep_going;

  // Plaintext credentials are accepted only over TLS or from loopback (LOGINDISABLED otherwise).
  // A trusted mail proxy counts as loopback: it speaks plain IMAP on the cluster's own network.
  bool plaintext_auth_allowed() const { return info.tls || info.loopback || info.trusted_proxy; }
  // The CAPABILITY list for the current state, without the leading "CAPABILITY ".
  std::string capabilities() const;

  // Hands the output so far to the transport when streaming is configured and it is large.
  void maybe_stream();

  // Subscribes to the changes of `path`: the callback only queues the event and calls wake (it
  // runs on a backend thread and must not call the backend).
  mail::MailResult<mail::ChangeSubscription> watch(const std::string& path, std::shared_ptr<PendingEvents> queue);

  // Leaves the selected state (drops the view and the change subscription).
  void deselect();
};

}  // namespace mailtrixy::imap::detail
