#include "mailtrixy/net/http_client.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mailtrixy/net/certificate.hpp"
#include "mailtrixy/net/http_server.hpp"
#include "test_support.hpp"

namespace mailtrixy::net {
namespace {

using namespace std::chrono_literals;
using testing::run_command;
using testing::TempDir;

// An HTTPS server on 127.0.0.1:0 with a generated localhost certificate, recording the peer
// port of every request (one port = one TCP connection).
class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ensure_self_signed_certificate(dir_ / "server.crt", dir_ / "server.key").ok());
  }

  void start_server(HttpHandler handler, bool tls = true) {
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    if (tls) options.tls = TlsFiles{dir_ / "server.crt", dir_ / "server.key"};
    options.threads = 2;
    auto started = HttpServer::start(options, [this, handler = std::move(handler)](const HttpRequest& request) {
      {
        std::lock_guard lock(mutex_);
        ports_.insert(request.remote_port);
        ++requests_;
      }
      return handler(request);
    });
    ASSERT_TRUE(started.ok()) << started.error().message;
    server_ = std::move(*started);
  }

  std::unique_ptr<HttpClient> make_client(bool trust_server = true, HttpClientOptions options = {}) {
    if (trust_server) options.extra_ca_file = dir_ / "server.crt";
    auto client = HttpClient::create(options);
    EXPECT_TRUE(client.ok()) << (client.ok() ? "" : client.error().message);
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::string base(const std::string& host = "127.0.0.1") const {
    return (server_->tls() ? "https://" : "http://") + host + ":" + std::to_string(server_->port());
  }

  std::size_t distinct_connections() {
    std::lock_guard lock(mutex_);
    return ports_.size();
  }

  TempDir dir_;
  std::unique_ptr<HttpServer> server_;
  std::mutex mutex_;
  std::set<std::uint16_t> ports_;
  int requests_ = 0;
};

HttpResponse echo(const HttpRequest& request) {
  HttpResponse response;
  response.status = 200;
  response.headers.emplace_back("Content-Type", "text/plain");
  response.headers.emplace_back("X-Method", request.method);
  response.headers.emplace_back("X-Target", request.target);
  response.headers.emplace_back("X-Host", std::string(request.header("host").value_or("")));
  response.headers.emplace_back("X-Content-Type", std::string(request.header("content-type").value_or("")));
  response.body = request.body;
  return response;
}

TEST_F(ClientTest, GetsOverHttpsWithTheExtraCa) {
  start_server(echo);
  auto client = make_client();
  HttpClientRequest request;
  request.url = base() + "/v1.0/me?$select=id,mail";
  HttpFailure failure = HttpFailure::protocol;
  auto response = client->send(request, &failure);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(failure, HttpFailure::none);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("x-method").value_or(""), "GET");
  EXPECT_EQ(response->header("X-TARGET").value_or(""), "/v1.0/me?$select=id,mail");
  EXPECT_EQ(response->header("x-host").value_or(""), "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_FALSE(response->header("x-missing").has_value());
  EXPECT_EQ(response->body, "");
}

TEST_F(ClientTest, PostsAFormBody) {
  start_server(echo);
  auto client = make_client();
  HttpClientRequest request;
  request.method = "POST";
  request.url = base() + "/common/oauth2/v2.0/token";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = form_encode({{"grant_type", "authorization_code"}, {"scope", "openid offline_access"},
                              {"redirect_uri", "https://localhost:8443/cb"}});
  auto response = client->send(request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->header("x-method").value_or(""), "POST");
  EXPECT_EQ(response->header("x-content-type").value_or(""), "application/x-www-form-urlencoded");
  EXPECT_EQ(response->body,
            "grant_type=authorization_code&scope=openid%20offline_access&redirect_uri=https%3A%2F%2Flocalhost%3A8443%2Fcb");
}

TEST_F(ClientTest, EmptyPostCarriesContentLengthZero) {
  start_server([](const HttpRequest& request) {
    return HttpResponse::text(200, std::string(request.header("content-length").value_or("missing")));
  });
  auto client = make_client();
  HttpClientRequest request;
  request.method = "POST";
  request.url = base() + "/x";
  auto response = client->send(request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "0");
}

TEST_F(ClientTest, ReusesOneKeepAliveConnection) {
  start_server(echo);
  auto client = make_client();
  for (int i = 0; i < 10; ++i) {
    HttpClientRequest request;
    request.url = base() + "/n/" + std::to_string(i);
    auto response = client->send(request);
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->header("x-target").value_or(""), "/n/" + std::to_string(i));
  }
  EXPECT_EQ(distinct_connections(), 1U);
  EXPECT_EQ(client->connections_opened(), 1U);
  EXPECT_EQ(client->idle_connections(), 1U);
}

TEST_F(ClientTest, ConcurrentRequestsUseSeveralConnectionsAndKeepAFewIdle) {
  start_server([](const HttpRequest& request) {
    HttpResponse response = echo(request);
    response.delay = 100ms;  // keeps the requests overlapping
    return response;
  });
  HttpClientOptions options;
  options.max_idle_connections_per_host = 3;
  options.threads = 2;
  auto client = make_client(true, options);
  std::vector<std::future<bool>> results;
  for (int i = 0; i < 8; ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      HttpClientRequest request;
      request.url = base() + "/c/" + std::to_string(i);
      auto response = client->send(request);
      return response.ok() && response->status == 200;
    }));
  }
  for (auto& result : results) EXPECT_TRUE(result.get());
  EXPECT_EQ(client->connections_opened(), 8U);
  EXPECT_EQ(client->idle_connections(), 3U);
  // A second round reuses the idle three before opening new ones.
  for (int i = 0; i < 3; ++i) {
    HttpClientRequest request;
    request.url = base() + "/again";
    ASSERT_TRUE(client->send(request).ok());
  }
  EXPECT_EQ(client->connections_opened(), 8U);
}

TEST_F(ClientTest, SendAsyncCallsBackOnce) {
  start_server(echo);
  auto client = make_client();
  std::promise<std::pair<int, HttpFailure>> done;
  std::atomic<int> calls{0};
  HttpClientRequest request;
  request.url = base() + "/async";
  client->send_async(request, [&](Result<HttpClientResponse> result, HttpFailure failure) {
    ++calls;
    done.set_value({result.ok() ? result->status : -1, failure});
  });
  auto outcome = done.get_future().get();
  EXPECT_EQ(outcome.first, 200);
  EXPECT_EQ(outcome.second, HttpFailure::none);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(ClientTest, RefusesAServerItDoesNotTrust) {
  start_server(echo);
  auto client = make_client(false);
  HttpClientRequest request;
  request.url = base() + "/token?client_secret=hunter2";
  HttpFailure failure = HttpFailure::none;
  auto response = client->send(request, &failure);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(failure, HttpFailure::tls);
  const std::string& message = response.error().message;
  EXPECT_NE(message.find("not trusted"), std::string::npos) << message;
  EXPECT_NE(message.find("https://127.0.0.1:" + std::to_string(server_->port())), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_EQ(message.find("/token"), std::string::npos) << message;
  EXPECT_EQ(requests_, 0);
}

TEST_F(ClientTest, RefusesACertificateForAnotherName) {
  // A certificate trusted by the client (its own CA file) but issued for example.test only.
  const auto cert = dir_ / "other.crt";
  const auto key = dir_ / "other.key";
  const auto made = run_command("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                                "-subj /CN=example.test -addext subjectAltName=DNS:example.test -keyout " +
                                key.string() + " -out " + cert.string() + " 2>&1");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  HttpServerOptions options;
  options.tls = TlsFiles{cert, key};
  auto server = HttpServer::start(options, echo);
  ASSERT_TRUE(server.ok()) << server.error().message;
  HttpClientOptions client_options;
  client_options.extra_ca_file = cert;
  auto client = HttpClient::create(client_options);
  ASSERT_TRUE(client.ok());
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    HttpClientRequest request;
    request.url = "https://" + host + ":" + std::to_string((*server)->port()) + "/";
    HttpFailure failure = HttpFailure::none;
    auto response = (*client)->send(request, &failure);
    ASSERT_FALSE(response.ok()) << host;
    EXPECT_EQ(failure, HttpFailure::tls) << host;
    EXPECT_NE(response.error().message.find("not valid for " + host), std::string::npos) << response.error().message;
  }
}

TEST_F(ClientTest, TimesOutWithoutHoldingTheCaller) {
  start_server([](const HttpRequest& request) {
    HttpResponse response = echo(request);
    response.delay = 3000ms;
    return response;
  });
  auto client = make_client();
  HttpClientRequest request;
  request.url = base() + "/slow?code=abc";
  request.timeout = 300ms;
  const auto started = std::chrono::steady_clock::now();
  HttpFailure failure = HttpFailure::none;
  auto response = client->send(request, &failure);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(failure, HttpFailure::timeout);
  EXPECT_LT(elapsed, 2000ms);
  EXPECT_GE(elapsed, 250ms);
  EXPECT_NE(response.error().message.find("300 ms"), std::string::npos) << response.error().message;
  EXPECT_EQ(response.error().message.find("code=abc"), std::string::npos);
  // The timed-out connection is not reused: the next request works on a fresh one.
  server_->stop(0ms);
}

TEST_F(ClientTest, TransfersLargeBodiesBothWays) {
  start_server(echo);
  auto client = make_client();
  std::string payload(24 * 1024 * 1024, 'x');
  for (std::size_t i = 0; i < payload.size(); i += 4096) payload[i] = static_cast<char>('a' + (i / 4096) % 26);
  HttpClientRequest request;
  request.method = "PUT";
  request.url = base() + "/upload";
  request.body = payload;
  request.timeout = 60s;
  auto response = client->send(request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body.size(), payload.size());
  EXPECT_TRUE(response->body == payload);
}

TEST_F(ClientTest, RefusesAResponseOverTheLimit) {
  start_server([](const HttpRequest&) { return HttpResponse::text(200, std::string(100000, 'y')); });
  HttpClientOptions options;
  options.max_response_body_bytes = 1000;
  auto client = make_client(true, options);
  HttpClientRequest request;
  request.url = base() + "/big";
  HttpFailure failure = HttpFailure::none;
  auto response = client->send(request, &failure);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(failure, HttpFailure::response_too_large);
}

TEST_F(ClientTest, ReturnsErrorStatusesAsResponses) {
  start_server([](const HttpRequest&) {
    HttpResponse response = HttpResponse::text(401, R"({"error":"invalid_client"})", "application/json");
    response.headers.emplace_back("Retry-After", "7");
    return response;
  });
  auto client = make_client();
  HttpClientRequest request;
  request.url = base() + "/token";
  auto response = client->send(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->header("retry-after").value_or(""), "7");
  EXPECT_EQ(response->body, R"({"error":"invalid_client"})");
}

TEST_F(ClientTest, PlainHttpWorksToo) {
  start_server(echo, false);
  auto client = make_client(false);
  HttpClientRequest request;
  request.url = base() + "/plain";
  auto response = client->send(request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->header("x-target").value_or(""), "/plain");
}

// A port nobody listens on (bound, then closed).
std::uint16_t unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(HttpClientErrors, ConnectionRefusedIsAConnectFailureWithoutTheQuery) {
  auto client = HttpClient::create();
  ASSERT_TRUE(client.ok());
  HttpClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/me?access_token=SECRET123";
  HttpFailure failure = HttpFailure::none;
  auto response = (*client)->send(request, &failure);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(failure, HttpFailure::connect);
  EXPECT_NE(response.error().message.find("refused"), std::string::npos) << response.error().message;
  EXPECT_EQ(response.error().message.find("SECRET123"), std::string::npos);
  EXPECT_EQ(response.error().message.find("/me"), std::string::npos);
}

TEST(HttpClientErrors, UnknownHostIsAResolveFailure) {
  auto client = HttpClient::create();
  ASSERT_TRUE(client.ok());
  HttpClientRequest request;
  request.url = "https://no-such-host.invalid/path";
  HttpFailure failure = HttpFailure::none;
  auto response = (*client)->send(request, &failure);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(failure, HttpFailure::resolve) << response.error().message;
  EXPECT_NE(response.error().message.find("no-such-host.invalid"), std::string::npos);
}

TEST(HttpClientErrors, BadRequestsAreRefusedBeforeSending) {
  auto client = HttpClient::create();
  ASSERT_TRUE(client.ok());
  const std::vector<std::pair<std::string, HttpHeaders>> cases = {
      {"not a url", {}},
      {"ftp://example.com/file", {}},
      {"https://user:pw@example.com/", {}},
      {"https://example.com/#fragment", {}},
      {"https://example.com/", {{"Host", "evil.example"}}},
      {"https://example.com/", {{"X-Bad", "a\r\nInjected: yes"}}},
      {"https://example.com/", {{"Bad Name", "x"}}},
  };
  for (const auto& [url, headers] : cases) {
    HttpClientRequest request;
    request.url = url;
    request.headers = headers;
    HttpFailure failure = HttpFailure::none;
    auto response = (*client)->send(request, &failure);
    EXPECT_FALSE(response.ok()) << url;
    EXPECT_EQ(failure, HttpFailure::invalid_request) << url;
    if (!response.ok()) {
      EXPECT_EQ(response.error().message.find("pw@"), std::string::npos);
    }
  }
  EXPECT_EQ((*client)->connections_opened(), 0U);
}

TEST(HttpClientErrors, UnreadableCaFileIsACreateError) {
  TempDir dir;
  HttpClientOptions options;
  options.extra_ca_file = dir / "missing.pem";
  auto missing = HttpClient::create(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing.pem"), std::string::npos);
  testing::write_text(dir / "empty.pem", "not a certificate\n");
  options.extra_ca_file = dir / "empty.pem";
  auto empty = HttpClient::create(options);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("no PEM certificate"), std::string::npos);
}

// A raw HTTP/1.1 server that answers the first request on each connection with keep-alive and,
// on the first connection only, closes without answering the second request: the situation of a
// server dropping an idle keep-alive connection just as the client reuses it.
class FlakyKeepAliveServer {
 public:
  FlakyKeepAliveServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 8);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~FlakyKeepAliveServer() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  static bool read_request(int fd) {
    std::string data;
    char buffer[4096];
    while (data.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      data.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  }
  static void answer(int fd) {
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
    ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
  }
  void run() {
    for (;;) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      const int number = ++connections_;
      if (read_request(fd)) {
        answer(fd);
        if (number == 1) {
          read_request(fd);  // the reused connection's request: dropped unanswered
        } else {
          while (read_request(fd)) answer(fd);
        }
      }
      ::close(fd);
    }
  }

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::thread thread_;
};

TEST(HttpClientRetry, RetriesOnceWhenAReusedConnectionDiesBeforeAnswering) {
  FlakyKeepAliveServer server;
  auto client = HttpClient::create();
  ASSERT_TRUE(client.ok());
  HttpClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto first = (*client)->send(request);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = (*client)->send(request);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->body, "ok");
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ((*client)->connections_opened(), 2U);
}

TEST(HttpClientRetry, AFreshConnectionThatDiesIsAnError) {
  // Accepts, reads the request and closes: no retry on a fresh connection.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::listen(listener, 8);
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  std::atomic<int> accepted{0};
  std::thread server([&] {
    for (;;) {
      const int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      ++accepted;
      char buffer[4096];
      (void)::recv(fd, buffer, sizeof buffer, 0);
      ::close(fd);
    }
  });
  auto client = HttpClient::create();
  ASSERT_TRUE(client.ok());
  HttpClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/";
  HttpFailure failure = HttpFailure::none;
  auto response = (*client)->send(request, &failure);
  EXPECT_FALSE(response.ok());
  EXPECT_EQ(failure, HttpFailure::connection_lost);
  EXPECT_EQ(accepted.load(), 1);
  ::shutdown(listener, SHUT_RDWR);
  ::close(listener);
  server.join();
}

TEST_F(ClientTest, StopCompletesRequestsInFlightWithShutDown) {
  start_server([](const HttpRequest& request) {
    HttpResponse response = echo(request);
    response.delay = 5000ms;
    return response;
  });
  auto client = make_client();
  std::promise<HttpFailure> done;
  HttpClientRequest request;
  request.url = base() + "/never";
  client->send_async(request, [&](Result<HttpClientResponse>, HttpFailure failure) { done.set_value(failure); });
  std::this_thread::sleep_for(200ms);
  const auto started = std::chrono::steady_clock::now();
  client->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2000ms);
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(1s), std::future_status::ready);
  EXPECT_EQ(future.get(), HttpFailure::shut_down);
  // After stop, requests fail at once.
  HttpFailure failure = HttpFailure::none;
  EXPECT_FALSE(client->send(request, &failure).ok());
  EXPECT_EQ(failure, HttpFailure::shut_down);
  server_->stop(0ms);
}

TEST(HttpClientEncoding, EncodesFormComponents) {
  EXPECT_EQ(url_encode_component("a b&c=d/é~-._"), "a%20b%26c%3Dd%2F%C3%A9~-._");
  EXPECT_EQ(form_encode({{"k 1", "v+1"}, {"x", ""}}), "k%201=v%2B1&x=");
}

}  // namespace
}  // namespace mailtrixy::net
