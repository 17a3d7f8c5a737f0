#include "mailtrixy/smtp/server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "mailtrixy/net/certificate.hpp"
#include "smtp/session_test_support.hpp"
#include "support/temp_dir.hpp"

namespace mailtrixy::smtp {
namespace {

using testing::kUser;
using testing::plain_credentials;

std::uint16_t port_of(const std::string& address) {
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

// A blocking test client: plain TCP, upgraded to TLS on request (no certificate check: the test
// server's certificate is self-signed and the point here is the protocol).
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("connect failed");
    }
  }
  ~Client() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (context_ != nullptr) SSL_CTX_free(context_);
    ::close(fd_);
  }

  bool start_tls() {
    context_ = SSL_CTX_new(TLS_client_method());
    ssl_ = SSL_new(context_);
    SSL_set_fd(ssl_, fd_);
    return SSL_connect(ssl_) == 1;
  }

  void send(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const auto n = ssl_ != nullptr ? SSL_write(ssl_, data.data() + sent, static_cast<int>(data.size() - sent))
                                     : ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      sent += static_cast<std::size_t>(n);
    }
  }

  // One complete reply (all its lines); "" when the connection closed or nothing came in time.
  std::string reply(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      // A reply ends with a line whose fourth character is a space.
      std::size_t start = 0;
      for (;;) {
        const std::size_t end = buffer_.find("\r\n", start);
        if (end == std::string::npos) break;
        if (end - start >= 4 && buffer_[start + 3] == ' ') {
          std::string reply = buffer_.substr(0, end + 2);
          buffer_.erase(0, end + 2);
          return reply;
        }
        start = end + 2;
      }
      if (!fill(deadline)) return "";
    }
  }

  // True when the server closed the connection (EOF) within the timeout.
  bool closed(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) {
    }
    return eof_;
  }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd descriptor{fd_, POLLIN, 0};
      if (::poll(&descriptor, 1, static_cast<int>(left.count())) <= 0) return false;
    }
    char chunk[4096];
    const auto n = ssl_ != nullptr ? SSL_read(ssl_, chunk, sizeof chunk) : ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;
  bool eof_ = false;
};

class SmtpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(net::ensure_self_signed_certificate(dir / "server.crt", dir / "server.key"));
    options.listen = "127.0.0.1:0";
    options.tls_listen = "127.0.0.1:0";
    options.tls = net::TlsFiles{dir / "server.crt", dir / "server.key"};
    options.io_threads = 1;
    options.worker_threads = 2;
  }
  void start() {
    auto started = SmtpServer::start(options, logins, queue);
    ASSERT_TRUE(started) << started.error().message;
    server = std::move(*started);
  }

  mailtrixy::testing::TempDir dir{"mailtrixy-smtp-server"};
  ServerOptions options;
  testing::FakeLogins logins;
  testing::RecordingQueue queue;
  std::unique_ptr<SmtpServer> server;
};

TEST_F(SmtpServerTest, PlainListenerOffersStarttlsAndAcceptsAPipelinedMessage) {
  start();
  Client client(port_of(server->address()));
  EXPECT_EQ(client.reply(), "220 localhost ESMTP MailTrixy Bridge ready\r\n");
  client.send("EHLO test\r\n");
  const std::string ehlo = client.reply();
  EXPECT_NE(ehlo.find("250-PIPELINING\r\n"), std::string::npos);
  EXPECT_NE(ehlo.find("250 STARTTLS\r\n"), std::string::npos);
  client.send("AUTH PLAIN " + plain_credentials() + "\r\n");
  EXPECT_EQ(client.reply(), "235 2.7.0 Authentication successful\r\n");
  client.send(std::string("MAIL FROM:<") + kUser + ">\r\nRCPT TO:<bob@x.org>\r\nDATA\r\n");
  EXPECT_EQ(client.reply(), "250 2.1.0 Sender ok\r\n");
  EXPECT_EQ(client.reply(), "250 2.1.5 Recipient ok\r\n");
  EXPECT_EQ(client.reply(), "354 End data with <CR><LF>.<CR><LF>\r\n");
  client.send("Subject: hi\r\n\r\n..stuffed\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(client.reply(), "250 2.0.0 Ok: queued as q1\r\n");
  EXPECT_EQ(client.reply(), "221 2.0.0 Bye\r\n");
  EXPECT_TRUE(client.closed());
  std::lock_guard lock(queue.mutex);
  ASSERT_EQ(queue.submissions.size(), 1u);
  EXPECT_EQ(queue.submissions[0].mime, "Subject: hi\r\n\r\n.stuffed\r\n");
  EXPECT_EQ(queue.submissions[0].client.substr(0, 10), "127.0.0.1:");
}

TEST_F(SmtpServerTest, StarttlsUpgradesAndDropsPipelinedPlaintext) {
  start();
  Client client(port_of(server->address()));
  client.reply();
  client.send("EHLO test\r\n");
  client.reply();
  // A command injected after STARTTLS in the same packet must be ignored.
  client.send("STARTTLS\r\nNOOP injected\r\n");
  EXPECT_EQ(client.reply(), "220 2.0.0 Ready to start TLS\r\n");
  ASSERT_TRUE(client.start_tls());
  client.send("EHLO test\r\n");
  const std::string ehlo = client.reply();
  EXPECT_EQ(ehlo.substr(0, 26), "250-localhost Hello test\r\n");
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
  EXPECT_NE(ehlo.find("AUTH PLAIN LOGIN"), std::string::npos);
  client.send("AUTH PLAIN " + plain_credentials() + "\r\n");
  EXPECT_EQ(client.reply(), "235 2.7.0 Authentication successful\r\n");
}

TEST_F(SmtpServerTest, ImplicitTlsListener) {
  start();
  Client client(port_of(server->tls_address()));
  ASSERT_TRUE(client.start_tls());
  EXPECT_EQ(client.reply(), "220 localhost ESMTP MailTrixy Bridge ready\r\n");
  client.send("EHLO test\r\n");
  const std::string ehlo = client.reply();
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
  EXPECT_NE(ehlo.find("250 AUTH PLAIN LOGIN\r\n"), std::string::npos);
}

TEST_F(SmtpServerTest, IdleClientTimesOut) {
  options.session.command_timeout = std::chrono::seconds(1);
  start();
  Client client(port_of(server->address()));
  client.reply();
  EXPECT_EQ(client.reply(std::chrono::seconds(5)), "421 4.4.2 localhost Error: timeout exceeded\r\n");
  EXPECT_TRUE(client.closed());
}

TEST_F(SmtpServerTest, SilentTlsHandshakeTimesOut) {
  options.tls_handshake_timeout = std::chrono::seconds(1);
  start();
  Client client(port_of(server->tls_address()));
  EXPECT_TRUE(client.closed(std::chrono::seconds(5)));
}

TEST_F(SmtpServerTest, ShutdownSays421ToConnectedClients) {
  start();
  Client client(port_of(server->address()));
  client.reply();
  client.send("EHLO test\r\n");
  client.reply();
  server->stop(std::chrono::seconds(2));
  EXPECT_EQ(client.reply(), "421 4.3.2 Service shutting down\r\n");
  EXPECT_TRUE(client.closed());
}

TEST_F(SmtpServerTest, TooManyConnections) {
  options.max_connections = 1;
  start();
  Client first(port_of(server->address()));
  first.reply();
  Client second(port_of(server->address()));
  EXPECT_EQ(second.reply(), "421 4.3.2 Too many connections; try again later\r\n");
  EXPECT_TRUE(second.closed());
}

TEST_F(SmtpServerTest, StartErrorsNameTheSetting) {
  start();
  ServerOptions taken = options;
  taken.listen = server->address();
  taken.tls_listen = "";
  auto clash = SmtpServer::start(taken, logins, queue);
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().message.rfind("smtp.listen: cannot listen on " + server->address(), 0), 0u)
      << clash.error().message;

  ServerOptions no_tls;
  no_tls.tls_listen = "127.0.0.1:0";
  auto missing = SmtpServer::start(no_tls, logins, queue);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("smtp.tls_listen needs a certificate"), std::string::npos);

  ServerOptions bad;
  bad.listen = "nonsense";
  auto malformed = SmtpServer::start(bad, logins, queue);
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().message.rfind("smtp.listen: ", 0), 0u);
}

TEST_F(SmtpServerTest, PlainOnlyListenerWithoutTlsHasNoStarttls) {
  options.tls.reset();
  options.tls_listen = "";
  start();
  EXPECT_EQ(server->tls_address(), "");
  Client client(port_of(server->address()));
  client.reply();
  client.send("EHLO test\r\nSTARTTLS\r\n");
  const std::string ehlo = client.reply();
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(client.reply().substr(0, 10), "454 4.7.0 ");
}

}  // namespace
}  // namespace mailtrixy::smtp
