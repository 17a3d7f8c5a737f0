#pragma once
// A scripted IMAP session over FakeMailboxBackend: bytes in, bytes out, no sockets.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/imap/session.hpp"
#include "mailtrixy/imap/structure_cache.hpp"
#include "mailtrixy/mail/fake_mailbox_backend.hpp"

namespace mailtrixy::imap::testing {

// A LoginService over one FakeMailboxBackend: user "user@example.com", password "secret".
// `next_outcome` forces the outcome of the next login whatever the credentials.
class TestLogins : public mail::LoginService {
 public:
  explicit TestLogins(std::shared_ptr<mail::FakeMailboxBackend> backend) : backend_(std::move(backend)) {}

  mail::LoginResult login(std::string_view user, std::string_view password, std::string_view client_address) override {
    std::lock_guard lock(mutex_);
    ++calls;
    last_user = std::string(user);
    last_password = std::string(password);
    last_client = std::string(client_address);
    mail::LoginResult result;
    if (forced) {
      result.outcome = *forced;
      forced.reset();
    } else {
      std::string lower;
      for (char c : user) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      result.outcome = (lower == "user@example.com" && password == "secret") ? mail::LoginResult::Outcome::ok
                                                                             : mail::LoginResult::Outcome::wrong_credentials;
    }
    if (result.outcome == mail::LoginResult::Outcome::ok) {
      result.account_key = "oid.tid";
      result.address = "user@example.com";
      result.mailbox = backend_;
    }
    if (result.outcome == mail::LoginResult::Outcome::needs_sign_in) {
      result.account_key = "oid.tid";
      result.reconnect_url = "https://bridge.example/settings/email-accounts";
    }
    if (result.outcome == mail::LoginResult::Outcome::rate_limited) result.retry_after = std::chrono::milliseconds{4200};
    return result;
  }

  std::optional<mail::LoginResult::Outcome> forced;
  int calls = 0;
  std::string last_user;
  std::string last_password;
  std::string last_client;

 private:
  std::mutex mutex_;
  std::shared_ptr<mail::FakeMailboxBackend> backend_;
};

inline std::string simple_message(std::string_view subject, std::string_view body = "Hello there.\r\n",
                                  std::string_view from = "Alice <alice@example.com>") {
  std::string m;
  m += "From: " + std::string(from) + "\r\n";
  m += "To: Bob <bob@example.com>\r\n";
  m += "Subject: " + std::string(subject) + "\r\n";
  m += "Date: Mon, 5 Jan 2026 10:00:00 +0000\r\n";
  m += "Message-ID: <" + std::string(subject.substr(0, 8)) + "@example.com>\r\n";
  m += "\r\n";
  m += body;
  return m;
}

struct Harness {
  explicit Harness(ConnectionInfo info = {}, SessionOptions options = {})
      : Harness(std::make_shared<mail::FakeMailboxBackend>(), std::move(info), std::move(options)) {}

  Harness(std::shared_ptr<mail::FakeMailboxBackend> shared_backend, ConnectionInfo info = {}, SessionOptions options = {})
      : backend(std::move(shared_backend)), logins(backend) {
    options.failed_login_delay = std::chrono::milliseconds{0};
    if (info.peer.empty()) {
      info.peer = "127.0.0.1:50000";
      info.peer_address = "127.0.0.1";
    }
    session_options = options;
    connection = info;
    restart();
  }

  void restart() {
    session = std::make_unique<Session>(session_options, logins, connection, [this] { ++wakes; });
  }

  std::string send(std::string_view bytes) {
    std::string out;
    action = session->receive(bytes, out);
    return out;
  }

  std::string wake_up() {
    std::string out;
    action = session->on_wake(out);
    return out;
  }

  void login() { send("L1 LOGIN user@example.com secret\r\n"); }
  std::string select(std::string_view name = "INBOX") { return send("S1 SELECT " + std::string(name) + "\r\n"); }

  // Delivers `count` messages "Message 1".. into `folder`.
  void fill(int count, std::string_view folder = "INBOX") {
    for (int i = 1; i <= count; ++i) (void)backend->deliver(folder, simple_message("Message " + std::to_string(i)));
  }

  std::shared_ptr<mail::FakeMailboxBackend> backend;
  TestLogins logins;
  SessionOptions session_options;
  ConnectionInfo connection;
  std::atomic<int> wakes{0};
  std::unique_ptr<Session> session;
  SessionAction action = SessionAction::keep_going;
};

// Lines of `out` (without CRLF).
inline std::vector<std::string> lines(const std::string& out) {
  std::vector<std::string> result;
  std::size_t start = 0;
  while (start < out.size()) {
    auto end = out.find("\r\n", start);
    if (end == std::string::npos) {
      result.push_back(out.substr(start));
      break;
    }
    result.push_back(out.substr(start, end - start));
    start = end + 2;
  }
  return result;
}

inline std::string last_line(const std::string& out) {
  auto all = lines(out);
  return all.empty() ? std::string() : all.back();
}

}  // namespace mailtrixy::imap::testing
