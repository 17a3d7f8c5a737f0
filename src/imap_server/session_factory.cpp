// The bridge's HandlerFactory: imap::Session behind the ConnectionHandler interface.

#include <memory>
#include <utility>

#include "mailtrixy/imap/server.hpp"
#include "mailtrixy/imap/session.hpp"

namespace mailtrixy::imap {
namespace {

class SessionHandler final : public ConnectionHandler {
 public:
  SessionHandler(SessionOptions options, mail::LoginService& logins, ConnectionInfo info,
                 std::function<void()> wake)
      : session_(std::move(options), logins, std::move(info), std::move(wake)) {}

  std::string greeting() override { return session_.greeting(); }
  SessionAction receive(std::string_view bytes, std::string& out) override {
    return session_.receive(bytes, out);
  }
  SessionAction on_wake(std::string& out) override { return session_.on_wake(out); }
  void on_tls_started() override { session_.on_tls_started(); }
  void on_timeout(std::string& out) override { session_.on_timeout(out); }
  void on_shutdown(std::string& out) override { session_.on_shutdown(out); }
  std::chrono::seconds idle_timeout() const override { return session_.idle_timeout(); }
  std::string account_key() const override { return session_.account_key(); }

 private:
  Session session_;
};

}  // namespace

HandlerFactory session_factory(SessionOptions options, mail::LoginService& logins) {
  return [options = std::move(options), &logins](
             const ConnectionInfo& info, ConnectionHooks hooks) -> std::unique_ptr<ConnectionHandler> {
    SessionOptions session_options = options;
    session_options.stream_output = std::move(hooks.write);
    return std::make_unique<SessionHandler>(std::move(session_options), logins, info, std::move(hooks.wake));
  };
}

}  // namespace mailtrixy::imap
