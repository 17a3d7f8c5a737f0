// The IMAP listener's transport behaviour over real sockets, with a small line-based
// ConnectionHandler double instead of the IMAP session: framing and ordering, STARTTLS and
// implicit TLS, timeouts, wake-ups, back-pressure, connection limits and shutdown.
#include "mailtrixy/imap/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mailtrixy/net/certificate.hpp"
#include "support/temp_dir.hpp"

namespace mailtrixy::imap {
namespace {

using namespace std::chrono_literals;

// What every double of one server shares with the test.
struct Probe {
  std::mutex mutex;
  std::vector<std::function<void()>> wakes;
  std::vector<std::string> commands;  // every command line received, in order
  std::atomic<int> overlapping_calls{0};
  std::atomic<int> tls_started{0};
  std::atomic<int> shutdowns{0};
  std::atomic<int> destroyed{0};
  std::atomic<int> factory_failures_left{0};
  std::atomic<std::size_t> streamed{0};

  void wake_all() {
    std::vector<std::function<void()>> copy;
    {
      std::lock_guard lock(mutex);
      copy = wakes;
    }
    for (auto& wake : copy) wake();
  }
  std::size_t command_count() {
    std::lock_guard lock(mutex);
    return commands.size();
  }
};

// Commands, one per line: "tag NOOP", "tag BIG n" (n bytes of untagged output), "tag SLOW ms"
// (blocks the worker), "tag TIMEOUT s" (sets idle_timeout), "tag TLS" (answers "* TLS yes|no"),
// "tag STARTTLS", "tag IDLE" (then wake-ups produce "* 1 EXISTS"; "DONE" ends it), "tag LOGOUT".
class LineHandler final : public ConnectionHandler {
 public:
  LineHandler(Probe& probe, ConnectionInfo info, std::function<void(std::string_view)> write)
      : probe_(probe), info_(std::move(info)), write_(std::move(write)) {}
  ~LineHandler() override { ++probe_.destroyed; }

  std::string greeting() override {
    Guard guard(*this);
    return "* OK test ready\r\n";
  }

  SessionAction receive(std::string_view bytes, std::string& out) override {
    Guard guard(*this);
    buffer_.append(bytes);
    for (;;) {
      const auto end = buffer_.find("\r\n");
      if (end == std::string::npos) return SessionAction::keep_going;
      const std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      {
        std::lock_guard lock(probe_.mutex);
        probe_.commands.push_back(line);
      }
      if (idling_) {
        if (line == "DONE") {
          idling_ = false;
          out += idle_tag_ + " OK IDLE done\r\n";
        }
        continue;
      }
      const auto space = line.find(' ');
      const std::string tag = line.substr(0, space);
      const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
      const std::string verb = rest.substr(0, rest.find(' '));
      const std::string argument = rest.find(' ') == std::string::npos ? "" : rest.substr(rest.find(' ') + 1);
      if (verb == "NOOP") {
        out += tag + " OK NOOP done\r\n";
      } else if (verb == "BIG") {
        std::size_t remaining = std::stoul(argument);
        while (remaining > 0) {
          const std::size_t chunk = std::min<std::size_t>(remaining, 1000);
          out += "* " + std::string(chunk > 4 ? chunk - 4 : 0, 'x') + "\r\n";
          remaining -= chunk;
        }
        out += tag + " OK BIG done\r\n";
      } else if (verb == "STREAM") {
        // Like BIG, but handed to the transport in 64 KiB pieces while being produced.
        std::size_t remaining = std::stoul(argument);
        std::string piece;
        while (remaining > 0) {
          const std::size_t chunk = std::min<std::size_t>(remaining, 1000);
          piece += "* " + std::string(chunk > 4 ? chunk - 4 : 0, 'x') + "\r\n";
          remaining -= chunk;
          if (piece.size() >= 64 * 1024 || remaining == 0) {
            write_(piece);
            probe_.streamed += piece.size();
            piece.clear();
          }
        }
        out += tag + " OK STREAM done\r\n";
      } else if (verb == "SLOW") {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(argument)));
        out += tag + " OK SLOW done\r\n";
      } else if (verb == "TIMEOUT") {
        timeout_ = std::chrono::seconds(std::stoi(argument));
        out += tag + " OK TIMEOUT done\r\n";
      } else if (verb == "TLS") {
        out += std::string("* TLS ") + (info_.tls ? "yes" : "no") + " STARTTLS " +
               (info_.starttls_available ? "yes" : "no") + " LOOPBACK " + (info_.loopback ? "yes" : "no") +
               "\r\n";
        out += tag + " OK TLS done\r\n";
      } else if (verb == "STARTTLS") {
        out += tag + " OK Begin TLS\r\n";
        buffer_.clear();  // plaintext sent after STARTTLS must never be taken as a command
        return SessionAction::start_tls;
      } else if (verb == "IDLE") {
        idling_ = true;
        idle_tag_ = tag;
        out += "+ idling\r\n";
      } else if (verb == "LOGOUT") {
        out += "* BYE logging out\r\n" + tag + " OK LOGOUT done\r\n";
        return SessionAction::close;
      } else {
        out += tag + " BAD unknown\r\n";
      }
    }
  }

  SessionAction on_wake(std::string& out) override {
    Guard guard(*this);
    if (idling_) out += "* 1 EXISTS\r\n";
    return SessionAction::keep_going;
  }
  void on_tls_started() override {
    Guard guard(*this);
    info_.tls = true;
    buffer_.clear();
    ++probe_.tls_started;
  }
  void on_timeout(std::string& out) override {
    Guard guard(*this);
    out += "* BYE Autologout; idle for too long\r\n";
  }
  void on_shutdown(std::string& out) override {
    Guard guard(*this);
    ++probe_.shutdowns;
    out += "* BYE Server shutting down\r\n";
  }
  std::chrono::seconds idle_timeout() const override { return timeout_; }
  std::string account_key() const override { return ""; }

 private:
  // Detects two calls running at once for one connection (the transport must serialise them).
  struct Guard {
    explicit Guard(LineHandler& handler) : handler_(handler) {
      if (handler_.in_call_.exchange(true)) ++handler_.probe_.overlapping_calls;
      std::this_thread::sleep_for(1ms);  // widen the window an overlap would need
    }
    ~Guard() { handler_.in_call_ = false; }
    LineHandler& handler_;
  };

  Probe& probe_;
  ConnectionInfo info_;
  std::function<void(std::string_view)> write_;
  std::string buffer_;
  bool idling_ = false;
  std::string idle_tag_;
  std::chrono::seconds timeout_{60};
  std::atomic<bool> in_call_{false};
};

HandlerFactory line_factory(Probe& probe) {
  return [&probe](const ConnectionInfo& info, ConnectionHooks hooks) -> std::unique_ptr<ConnectionHandler> {
    if (probe.factory_failures_left > 0) {
      --probe.factory_failures_left;
      throw std::runtime_error("factory failure for the test");
    }
    {
      std::lock_guard lock(probe.mutex);
      probe.wakes.push_back(std::move(hooks.wake));
    }
    return std::make_unique<LineHandler>(probe, info, std::move(hooks.write));
  };
}

// A blocking test client: plain TCP, optionally upgraded to TLS with OpenSSL directly.
class Client {
 public:
  explicit Client(std::uint16_t port, std::chrono::milliseconds timeout = 5000ms) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("connect failed");
    }
    set_timeout(timeout);
  }
  ~Client() {
    if (ssl_) SSL_free(ssl_);
    if (context_) SSL_CTX_free(context_);
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void set_timeout(std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  // Returns false when the handshake fails. `max_version` limits the client (0: no limit).
  bool start_tls(int max_version = 0) {
    context_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(context_, SSL_VERIFY_NONE, nullptr);
    if (max_version != 0) {
      SSL_CTX_set_min_proto_version(context_, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(context_, max_version);
      SSL_CTX_set_security_level(context_, 0);
    }
    ssl_ = SSL_new(context_);
    SSL_set_fd(ssl_, fd_);
    return SSL_connect(ssl_) == 1;
  }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const long n = ssl_ ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                          : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void shutdown_send() { ::shutdown(fd_, SHUT_WR); }

  // The next line (with its CRLF), or "" at end of stream or timeout.
  std::string line() {
    for (;;) {
      const auto end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        std::string result = buffer_.substr(0, end + 2);
        buffer_.erase(0, end + 2);
        return result;
      }
      if (!fill()) return "";
    }
  }

  // Reads lines until one starts with `prefix`; returns it, or "" when the stream ended first.
  std::string line_starting(std::string_view prefix) {
    for (;;) {
      std::string next = line();
      if (next.empty() || next.starts_with(prefix)) return next;
    }
  }

  // True when the server closed the connection (end of stream) before `timeout`.
  bool closed_by_server() {
    for (;;) {
      if (!fill()) return eof_;
    }
  }

 private:
  bool fill() {
    char chunk[16384];
    const long n = ssl_ ? SSL_read(ssl_, chunk, sizeof chunk) : ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      eof_ = true;
    } else if (ssl_) {
      const int error = SSL_get_error(ssl_, static_cast<int>(n));
      eof_ = error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && errno == 0);
    } else {
      eof_ = errno == ECONNRESET;
    }
    return false;
  }

  int fd_ = -1;
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;
  bool eof_ = false;
};

class ImapServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = net::ensure_self_signed_certificate(dir_ / "server.crt", dir_ / "server.key");
    ASSERT_TRUE(made.ok()) << made.error().message;
  }

  ImapServerOptions options(bool with_tls = true) {
    ImapServerOptions result;
    result.listen = "127.0.0.1:0";
    result.tls_listen = with_tls ? "127.0.0.1:0" : "";
    if (with_tls) result.tls = net::TlsFiles{dir_ / "server.crt", dir_ / "server.key"};
    return result;
  }

  std::unique_ptr<ImapServer> start(ImapServerOptions server_options) {
    auto server = ImapServer::start(std::move(server_options), line_factory(probe_));
    if (!server) {
      ADD_FAILURE() << server.error().message;
      return nullptr;
    }
    return std::move(*server);
  }

  testing::TempDir dir_{"imap-server-test"};
  Probe probe_;
};

TEST_F(ImapServerTest, ReportsTheBoundPortsOfBothListeners) {
  auto server = start(options());
  ASSERT_TRUE(server);
  EXPECT_NE(server->port(), 0);
  EXPECT_NE(server->tls_port(), 0);
  EXPECT_NE(server->port(), server->tls_port());
  EXPECT_EQ(server->address(), "127.0.0.1:" + std::to_string(server->port()));
  EXPECT_EQ(server->tls_address(), "127.0.0.1:" + std::to_string(server->tls_port()));
}

TEST_F(ImapServerTest, AnEmptyListenAddressDisablesThatListener) {
  auto server = start(options(false));
  ASSERT_TRUE(server);
  EXPECT_NE(server->port(), 0);
  EXPECT_EQ(server->tls_port(), 0);
  EXPECT_EQ(server->tls_address(), "");
}

TEST_F(ImapServerTest, RejectsUnusableOptionsWithAClearMessage) {
  ImapServerOptions none;
  auto result = ImapServer::start(none, line_factory(probe_));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("no listener"), std::string::npos) << result.error().message;

  ImapServerOptions no_cert;
  no_cert.tls_listen = "127.0.0.1:0";
  result = ImapServer::start(no_cert, line_factory(probe_));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("imap.tls_listen needs a certificate"), std::string::npos);

  ImapServerOptions bad_address;
  bad_address.listen = "localhost";
  result = ImapServer::start(bad_address, line_factory(probe_));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("imap.listen"), std::string::npos) << result.error().message;

  ImapServerOptions no_factory = options(false);
  result = ImapServer::start(no_factory, nullptr);
  ASSERT_FALSE(result.ok());
}

TEST_F(ImapServerTest, APortInUseIsReportedWithTheAddress) {
  auto first = start(options(false));
  ASSERT_TRUE(first);
  ImapServerOptions second = options(false);
  second.listen = first->address();
  auto result = ImapServer::start(second, line_factory(probe_));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("cannot listen on " + first->address() + ": address already in use"),
            std::string::npos)
      << result.error().message;
}

TEST_F(ImapServerTest, GreetsAndAnswersPipelinedCommandsInOrder) {
  auto server = start(options(false));
  ASSERT_TRUE(server);
  Client client(server->port());
  EXPECT_EQ(client.line(), "* OK test ready\r\n");
  client.send("a NOOP\r\nb NOOP\r\nc TLS\r\n");
  EXPECT_EQ(client.line(), "a OK NOOP done\r\n");
  EXPECT_EQ(client.line(), "b OK NOOP done\r\n");
  EXPECT_EQ(client.line(), "* TLS no STARTTLS no LOOPBACK yes\r\n");
  EXPECT_EQ(client.line(), "c OK TLS done\r\n");
  // A command split over several TCP segments.
  client.send("d NO");
  std::this_thread::sleep_for(50ms);
  client.send("OP\r\n");
  EXPECT_EQ(client.line(), "d OK NOOP done\r\n");
  client.send("e LOGOUT\r\n");
  EXPECT_EQ(client.line(), "* BYE logging out\r\n");
  EXPECT_EQ(client.line(), "e OK LOGOUT done\r\n");
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(probe_.overlapping_calls, 0);
}

TEST_F(ImapServerTest, ImplicitTlsGreetsAfterTheHandshake) {
  auto server = start(options());
  ASSERT_TRUE(server);
  Client client(server->tls_port());
  ASSERT_TRUE(client.start_tls());
  EXPECT_EQ(client.line(), "* OK test ready\r\n");
  client.send("a TLS\r\n");
  EXPECT_EQ(client.line(), "* TLS yes STARTTLS no LOOPBACK yes\r\n");
  EXPECT_EQ(client.line(), "a OK TLS done\r\n");
  client.send("b LOGOUT\r\n");
  EXPECT_EQ(client.line_starting("b "), "b OK LOGOUT done\r\n");
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(ImapServerTest, RefusesTlsOlderThan12) {
  auto server = start(options());
  ASSERT_TRUE(server);
  Client client(server->tls_port());
  EXPECT_FALSE(client.start_tls(TLS1_1_VERSION));
  ERR_clear_error();
}

TEST_F(ImapServerTest, StartTlsUpgradesThePlainListener) {
  auto server = start(options());
  ASSERT_TRUE(server);
  Client client(server->port());
  EXPECT_EQ(client.line(), "* OK test ready\r\n");
  client.send("a TLS\r\n");
  EXPECT_EQ(client.line(), "* TLS no STARTTLS yes LOOPBACK yes\r\n");
  EXPECT_EQ(client.line(), "a OK TLS done\r\n");
  client.send("b STARTTLS\r\n");
  EXPECT_EQ(client.line(), "b OK Begin TLS\r\n");
  ASSERT_TRUE(client.start_tls());
  client.send("c TLS\r\n");
  EXPECT_EQ(client.line(), "* TLS yes STARTTLS yes LOOPBACK yes\r\n");
  EXPECT_EQ(client.line(), "c OK TLS done\r\n");
  EXPECT_EQ(probe_.tls_started, 1);
}

TEST_F(ImapServerTest, AFailedStartTlsHandshakeClosesTheConnection) {
  auto server = start(options());
  ASSERT_TRUE(server);
  Client client(server->port());
  client.line();
  client.send("b STARTTLS\r\n");
  EXPECT_EQ(client.line(), "b OK Begin TLS\r\n");
  client.send("c NOOP\r\n");  // plaintext where a ClientHello belongs
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(probe_.tls_started, 0);
}

TEST_F(ImapServerTest, IdleConnectionsGetAnAutologoutByeAfterTheSessionsTimeout) {
  auto server = start(options(false));
  ASSERT_TRUE(server);
  Client client(server->port(), 10000ms);
  client.line();
  client.send("a TIMEOUT 1\r\n");  // the session's timeout is read again after every command
  EXPECT_EQ(client.line(), "a OK TIMEOUT done\r\n");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(client.line(), "* BYE Autologout; idle for too long\r\n");
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 3000ms);
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(ImapServerTest, TrafficKeepsAConnectionAlive) {
  auto server = start(options(false));
  ASSERT_TRUE(server);
  Client client(server->port());
  client.line();
  client.send("a TIMEOUT 1\r\n");
  client.line();
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(500ms);
    client.send("n NOOP\r\n");
    EXPECT_EQ(client.line(), "n OK NOOP done\r\n");
  }
}

TEST_F(ImapServerTest, WakeUpsReachAnIdlingClient) {
  auto server = start(options(false));
  ASSERT_TRUE(server);
  Client client(server->port());
  client.line();
  client.send("a IDLE\r\n");
  EXPECT_EQ(client.line(), "+ idling\r\n");
  std::thread waker([this] { probe_.wake_all(); });
  waker.join();
  EXPECT_EQ(client.line(), "* 1 EXISTS\r\n");
  probe_.wake_all();
  EXPECT_EQ(client.line(), "* 1 EXISTS\r\n");
  client.send("DONE\r\n");
  EXPECT_EQ(client.line(), "a OK IDLE done\r\n");
}

TEST_F(ImapServerTest, SessionCallsNeverOverlapEvenUnderWakeStorms) {
  auto server = start(options(false));
  ASSERT_TRUE(server);
  Client client(server->port());
  client.line();
  std::atomic<bool> done{false};
  std::thread waker([&] {
    while (!done) probe_.wake_all();
  });
  for (int i = 0; i < 50; ++i) {
    client.send("n NOOP\r\n");
    EXPECT_EQ(client.line_starting("n "), "n OK NOOP done\r\n");
  }
  done = true;
  waker.join();
  EXPECT_EQ(probe_.overlapping_calls, 0);
}

TEST_F(ImapServerTest, BlockingSessionCallsOfDifferentConnectionsRunInParallel) {
  auto server = start(options(false));
  ASSERT_TRUE(server);
  Client first(server->port());
  Client second(server->port());
  first.line();
  second.line();
  const auto started = std::chrono::steady_clock::now();
  first.send("a SLOW 600\r\n");
  second.send("b SLOW 600\r\n");
  EXPECT_EQ(first.line(), "a OK SLOW done\r\n");
  EXPECT_EQ(second.line(), "b OK SLOW done\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1100ms);
  // And a blocked call does not hold up the I/O of a third connection.
  Client third(server->port());
  first.send("c SLOW 800\r\n");
  EXPECT_EQ(third.line(), "* OK test ready\r\n");
  third.send("d NOOP\r\n");
  const auto quick = std::chrono::steady_clock::now();
  EXPECT_EQ(third.line(), "d OK NOOP done\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - quick, 500ms);
}

TEST_F(ImapServerTest, ASlowReaderStopsTheServerFromReadingMore) {
  ImapServerOptions server_options = options(false);
  server_options.max_pending_output = 64 * 1024;
  auto server = start(server_options);
  ASSERT_TRUE(server);
  Client client(server->port());
  client.line();
  // Far more than the kernel buffers can hold, and not read for now.
  client.send("a BIG 40000000\r\n");
  std::this_thread::sleep_for(300ms);
  client.send("b NOOP\r\n");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(probe_.command_count(), 1U) << "the command after the unread response was handled";
  EXPECT_EQ(client.line_starting("a "), "a OK BIG done\r\n");
  EXPECT_EQ(client.line(), "b OK NOOP done\r\n");
  EXPECT_EQ(probe_.command_count(), 2U);
}

TEST_F(ImapServerTest, StreamedOutputIsWrittenInOrderAndBlocksTheSessionForASlowReader) {
  ImapServerOptions server_options = options(false);
  server_options.max_pending_output = 64 * 1024;
  auto server = start(server_options);
  ASSERT_TRUE(server);
  Client client(server->port());
  client.line();
  client.send("a STREAM 40000000\r\n");
  std::this_thread::sleep_for(500ms);
  EXPECT_LT(probe_.streamed.load(), 20000000U)
      << "the session was not held back while the client read nothing";
  std::size_t lines = 0;
  for (;;) {
    const std::string next = client.line();
    ASSERT_FALSE(next.empty()) << "stream ended after " << lines << " lines";
    if (next.starts_with("a ")) {
      EXPECT_EQ(next, "a OK STREAM done\r\n");
      break;
    }
    ASSERT_EQ(next.size(), 1000U);
    ++lines;
  }
  EXPECT_EQ(lines, 40000U);
  EXPECT_EQ(probe_.streamed.load(), 40000000U);
}

TEST_F(ImapServerTest, ClosingReleasesASessionBlockedInAStreamedWrite) {
  ImapServerOptions server_options = options(false);
  server_options.max_pending_output = 64 * 1024;
  auto server = start(server_options);
  ASSERT_TRUE(server);
  {
    Client client(server->port());
    client.line();
    client.send("a STREAM 40000000\r\n");
    std::this_thread::sleep_for(300ms);
  }  // the client goes away without reading
  const auto started = std::chrono::steady_clock::now();
  server->stop(1000ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3000ms);
  EXPECT_EQ(probe_.destroyed, 1);
}

TEST_F(ImapServerTest, AClientThatStopsReadingIsDisconnectedAfterTheTimeout) {
  ImapServerOptions server_options = options(false);
  server_options.max_pending_output = 64 * 1024;
  auto server = start(server_options);
  ASSERT_TRUE(server);
  Client client(server->port());
  client.line();
  client.send("a TIMEOUT 1\r\n");
  client.line();
  client.send("b BIG 40000000\r\n");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server->connections() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(server->connections(), 0U);
}

TEST_F(ImapServerTest, AHalfClosingClientStillGetsItsAnswers) {
  auto server = start(options(false));
  ASSERT_TRUE(server);
  Client client(server->port());
  client.line();
  client.send("a NOOP\r\nb NOOP\r\n");
  client.shutdown_send();
  EXPECT_EQ(client.line(), "a OK NOOP done\r\n");
  EXPECT_EQ(client.line(), "b OK NOOP done\r\n");
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(ImapServerTest, ConnectionsOverTheLimitGetAByeAndAreClosed) {
  ImapServerOptions server_options = options(false);
  server_options.max_connections = 2;
  auto server = start(server_options);
  ASSERT_TRUE(server);
  Client first(server->port());
  Client second(server->port());
  EXPECT_EQ(first.line(), "* OK test ready\r\n");
  EXPECT_EQ(second.line(), "* OK test ready\r\n");
  Client third(server->port());
  EXPECT_EQ(third.line(), "* BYE Too many connections; try again later\r\n");
  EXPECT_TRUE(third.closed_by_server());
  first.send("a LOGOUT\r\n");
  EXPECT_TRUE(first.closed_by_server());
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (server->connections() > 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  Client fourth(server->port());
  EXPECT_EQ(fourth.line(), "* OK test ready\r\n");
}

TEST_F(ImapServerTest, AFailingSessionFactoryClosesOnlyThatConnection) {
  auto server = start(options(false));
  ASSERT_TRUE(server);
  probe_.factory_failures_left = 1;
  Client failed(server->port());
  EXPECT_TRUE(failed.closed_by_server());
  Client fine(server->port());
  EXPECT_EQ(fine.line(), "* OK test ready\r\n");
}

TEST_F(ImapServerTest, StopSaysByeToEveryConnectionAndDestroysEverySession) {
  auto server = start(options());
  ASSERT_TRUE(server);
  Client plain(server->port());
  Client secure(server->tls_port());
  ASSERT_TRUE(secure.start_tls());
  Client idling(server->port());
  plain.line();
  secure.line();
  idling.line();
  idling.send("a IDLE\r\n");
  idling.line();
  const auto started = std::chrono::steady_clock::now();
  std::thread stopper([&] { server->stop(3000ms); });
  EXPECT_EQ(plain.line(), "* BYE Server shutting down\r\n");
  EXPECT_EQ(secure.line(), "* BYE Server shutting down\r\n");
  EXPECT_EQ(idling.line(), "* BYE Server shutting down\r\n");
  EXPECT_TRUE(plain.closed_by_server());
  EXPECT_TRUE(secure.closed_by_server());
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
  EXPECT_EQ(probe_.shutdowns, 3);
  EXPECT_EQ(probe_.destroyed, 3);
  EXPECT_EQ(server->connections(), 0U);
  server->stop(0ms);  // idempotent
}

TEST_F(ImapServerTest, StopWaitsForABlockedCallThenSaysBye) {
  auto server = start(options(false));
  ASSERT_TRUE(server);
  Client client(server->port());
  client.line();
  client.send("a SLOW 500\r\n");
  std::this_thread::sleep_for(100ms);
  std::thread stopper([&] { server->stop(3000ms); });
  EXPECT_EQ(client.line(), "a OK SLOW done\r\n");
  EXPECT_EQ(client.line(), "* BYE Server shutting down\r\n");
  stopper.join();
  EXPECT_EQ(probe_.destroyed, 1);
}

}  // namespace
}  // namespace mailtrixy::imap
