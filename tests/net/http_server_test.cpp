#include "mailtrixy/net/http_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/net/certificate.hpp"
#include "test_support.hpp"

namespace mailtrixy::net {
namespace {

using namespace std::chrono_literals;
using testing::body_of;
using testing::curl;
using testing::RawConnection;
using testing::run_command;
using testing::status_of;
using testing::TempDir;

using Clock = std::chrono::steady_clock;

long elapsed_ms(Clock::time_point since) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

// A "Date: Sun, 06 Nov 1994 08:49:37 GMT" line (std::regex is avoided: GCC 12 warns inside it
// under the sanitizers).
bool has_imf_fixdate_header(const std::string& response) {
  const auto at = response.find("\r\nDate: ");
  if (at == std::string::npos) return false;
  const std::string value = response.substr(at + 8, 31);
  const std::string shape = "Aaa, 00 Aaa 0000 00:00:00 GMT\r\n";
  if (value.size() != shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const char c = value[i];
    const bool fits = shape[i] == 'A' ? std::isupper(static_cast<unsigned char>(c)) != 0
                      : shape[i] == 'a' ? std::islower(static_cast<unsigned char>(c)) != 0
                      : shape[i] == '0' ? std::isdigit(static_cast<unsigned char>(c)) != 0
                                        : c == shape[i];
    if (!fits) return false;
  }
  return true;
}

// Collects log lines for the lifetime of the object.
class LogCapture {
 public:
  explicit LogCapture(log::Level level = log::Level::debug) {
    log::configure(level, log::Format::text);
    log::set_sink(&LogCapture::append, this);
  }
  ~LogCapture() {
    log::set_sink(nullptr, nullptr);
    log::configure(log::Level::info, log::Format::text);
  }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }

 private:
  static void append(std::string_view line, void* self) {
    auto* capture = static_cast<LogCapture*>(self);
    std::lock_guard lock(capture->mutex_);
    capture->text_.append(line);
  }
  std::mutex mutex_;
  std::string text_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new TempDir;
    const auto created = ensure_self_signed_certificate(cert(), key());
    ASSERT_TRUE(created.ok()) << created.error().message;
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  static std::filesystem::path cert() { return *certs_ / "server.crt"; }
  static std::filesystem::path key() { return *certs_ / "server.key"; }

  static HttpServerOptions tls_options() {
    HttpServerOptions options;
    options.tls = TlsFiles{cert(), key()};
    return options;
  }

  HttpServer& start(HttpServerOptions options = tls_options()) {
    auto started = HttpServer::start(std::move(options), [this](const HttpRequest& request) { return handle(request); });
    if (!started.ok()) throw std::runtime_error(started.error().message);
    server_ = std::move(started.value());
    return *server_;
  }

  std::string url(std::string_view path, std::string_view host = "127.0.0.1") const {
    return std::string(server_->tls() ? "https://" : "http://") + std::string(host) + ":" +
           std::to_string(server_->port()) + std::string(path);
  }

  // curl trusting only the generated certificate.
  static std::string curl_tls(std::string_view arguments) {
    return curl("--cacert '" + cert().string() + "' " + std::string(arguments));
  }

  HttpResponse handle(const HttpRequest& request) {
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(request);
    }
    const std::string& path = request.path;
    if (path == "/hello") return HttpResponse::text(200, "hello " + request.method + " " + request.query);
    if (path == "/echo") {
      HttpResponse response = HttpResponse::text(200, request.body, "application/octet-stream");
      response.headers.emplace_back("X-Test", std::string(request.header("x-TEST").value_or("absent")));
      return response;
    }
    if (path == "/peer") return HttpResponse::text(200, request.remote_address + ":" + std::to_string(request.remote_port));
    if (path == "/delay") {
      HttpResponse response = HttpResponse::text(200, "delayed");
      response.delay = std::chrono::milliseconds(std::stol(request.query.substr(request.query.find('=') + 1)));
      response.on_answered = [this] { ++sent_; };
      return response;
    }
    if (path == "/sent") {
      HttpResponse response = HttpResponse::text(200, "sent");
      response.on_answered = [this] { ++sent_; };
      return response;
    }
    if (path == "/answered-count") return HttpResponse::text(200, std::to_string(sent_.load()));
    if (path == "/slow") {
      std::this_thread::sleep_for(1500ms);  // deliberately blocking: occupies one server thread
      return HttpResponse::text(200, "slow");
    }
    if (path == "/throw") throw std::runtime_error("boom");
    if (path == "/bad-header") {
      HttpResponse response = HttpResponse::text(200, "never sent");
      response.headers.emplace_back("X-Bad", "a\r\nInjected: yes");
      response.on_answered = [this] { ++sent_; };
      return response;
    }
    if (path == "/no-content") return HttpResponse::text(204, "dropped");
    if (path == "/close") {
      HttpResponse response = HttpResponse::text(200, "bye");
      response.headers.emplace_back("Connection", "close");
      return response;
    }
    return HttpResponse::text(404, "no route for " + path);
  }

  static TempDir* certs_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> sent_{0};
  std::mutex mutex_;
  std::vector<HttpRequest> seen_;
};

TempDir* HttpServerTest::certs_ = nullptr;

// --- TLS as seen by a real client --------------------------------------------------------------

TEST_F(HttpServerTest, AnswersCurlOverVerifiedHttpsOnTheLoopbackAddress) {
  start();
  const auto result = run_command(curl_tls("-i '" + url("/hello?name=x") + "'"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(status_of(result.output), 200) << result.output;
  EXPECT_EQ(body_of(result.output), "hello GET name=x");
  EXPECT_NE(result.output.find("Server: mailtrixy\r\n"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("Content-Length: 16\r\n"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_TRUE(has_imf_fixdate_header(result.output)) << result.output;
}

TEST_F(HttpServerTest, CertificateVerifiesForTheLocalhostName) {
  start();
  const auto result = run_command(curl_tls("'" + url("/hello", "localhost") + "'"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "hello GET ");
}

TEST_F(HttpServerTest, CertificateVerifiesForTheIpv6Loopback) {
  HttpServerOptions options = tls_options();
  options.listen = "[::1]:0";
  auto started = HttpServer::start(options, [this](const HttpRequest& r) { return handle(r); });
  if (!started.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << started.error().message;
  server_ = std::move(started.value());
  EXPECT_EQ(server_->address(), "[::1]:" + std::to_string(server_->port()));
  const auto result = run_command(curl_tls("-g '" + url("/peer", "[::1]") + "'"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output.rfind("::1:", 0), 0u) << result.output;
}

TEST_F(HttpServerTest, ClientsThatDoNotTrustTheCertificateAreRefused) {
  start();
  // Without --cacert the self-signed certificate must fail verification: proves the tests above
  // really verify.
  const auto result = run_command(curl("'" + url("/hello") + "'"));
  EXPECT_EQ(result.exit_code, 60) << result.output;
}

TEST_F(HttpServerTest, RefusesTls11) {
  start();
  // SECLEVEL=0 lets this client offer TLS 1.1 at all; the refusal must come from the server.
  const auto result =
      run_command(curl_tls("-v --tlsv1.1 --tls-max 1.1 --ciphers 'DEFAULT:@SECLEVEL=0' '" + url("/hello") + "'"));
  EXPECT_EQ(result.exit_code, 35) << result.output;
  EXPECT_NE(result.output.find("alert protocol version"), std::string::npos) << result.output;
}

TEST_F(HttpServerTest, AcceptsTls12WithAnEcdheAeadSuite) {
  start();
  const auto result = run_command(curl_tls("-v --tlsv1.2 --tls-max 1.2 '" + url("/hello") + "'"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto suite = result.output.find("SSL connection using TLSv1.2 / ECDHE-ECDSA-");
  ASSERT_NE(suite, std::string::npos) << result.output;
  const std::string cipher = result.output.substr(suite + 43, 10);
  EXPECT_TRUE(cipher == "AES128-GCM" || cipher == "AES256-GCM" || cipher.rfind("CHACHA20", 0) == 0) << cipher;
  EXPECT_NE(result.output.find("ALPN: server accepted http/1.1"), std::string::npos) << result.output;
}

TEST_F(HttpServerTest, NegotiatesTls13ByDefault) {
  start();
  const auto result = run_command(curl_tls("-v '" + url("/hello") + "'"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("SSL connection using TLSv1.3"), std::string::npos) << result.output;
}

TEST_F(HttpServerTest, AFailedHandshakeOnlyEndsThatConnection) {
  LogCapture capture;
  start();
  RawConnection plaintext(server_->port());
  plaintext.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(plaintext.wait_closed(5s));
  const auto result = run_command(curl_tls("'" + url("/hello") + "'"));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(capture.text().find("debug TLS handshake failed"), std::string::npos) << capture.text();
}

TEST_F(HttpServerTest, LogsRequestsAtDebugLevelWithoutTheQuery) {
  LogCapture capture;
  start(HttpServerOptions{});
  const auto result = run_command(curl("'" + url("/hello?code=query-secret") + "'"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  server_->stop(1s);  // the line is written after the response; stopping waits for it
  const std::string logged = capture.text();
  EXPECT_NE(logged.find("debug HTTP request peer=127.0.0.1 method=GET path=/hello status=200 ms="), std::string::npos)
      << logged;
  EXPECT_EQ(logged.find("query-secret"), std::string::npos) << logged;
}

TEST_F(HttpServerTest, ServesPlainHttpWhenTlsIsOff) {
  start(HttpServerOptions{});
  EXPECT_FALSE(server_->tls());
  const auto result = run_command(curl("-i '" + url("/hello") + "'"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(status_of(result.output), 200);
  std::lock_guard lock(mutex_);
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_FALSE(seen_[0].tls);
}

// --- HTTP semantics ----------------------------------------------------------------------------

TEST_F(HttpServerTest, HandlerSeesTheRequestAsSent) {
  start();
  const auto result = run_command(curl_tls("-X PUT -H 'X-Test: one' -H 'X-Test: two' --data-binary 'a=b&c' '" +
                                           url("/echo/%41?q=%20x&y") + "'"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::lock_guard lock(mutex_);
  ASSERT_EQ(seen_.size(), 1u);
  const HttpRequest& request = seen_[0];
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.target, "/echo/%41?q=%20x&y");
  EXPECT_EQ(request.path, "/echo/%41");
  EXPECT_EQ(request.query, "q=%20x&y");
  EXPECT_EQ(request.version, 11);
  EXPECT_EQ(request.body, "a=b&c");
  EXPECT_EQ(request.remote_address, "127.0.0.1");
  EXPECT_NE(request.remote_port, 0);
  EXPECT_TRUE(request.tls);
  EXPECT_EQ(request.header("x-test"), "one");
  EXPECT_EQ(request.header("CONTENT-LENGTH"), "5");
  EXPECT_EQ(request.header("X-Absent"), std::nullopt);
  int x_test = 0;
  for (const auto& [name, value] : request.headers) x_test += name == "X-Test";
  EXPECT_EQ(x_test, 2) << "repeated headers stay separate";
}

TEST_F(HttpServerTest, KeepsTheConnectionAliveBetweenRequests) {
  start();
  const auto result = run_command(curl_tls("'" + url("/peer") + "' '" + url("/peer") + "'"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string half = result.output.substr(0, result.output.size() / 2);
  EXPECT_EQ(result.output, half + half) << "both requests came from the same client port";
}

TEST_F(HttpServerTest, HandlerRoutesUnknownPathsTo404) {
  start();
  const auto result = run_command(curl_tls("-i '" + url("/nowhere") + "'"));
  EXPECT_EQ(status_of(result.output), 404) << result.output;
  EXPECT_EQ(body_of(result.output), "no route for /nowhere");
}

TEST_F(HttpServerTest, RejectsAnOversizedBodyWith413) {
  HttpServerOptions options = tls_options();
  options.max_body_bytes = 1024;
  start(options);
  TempDir dir;
  testing::write_text(dir / "small", std::string(1024, 's'));
  testing::write_text(dir / "large", std::string(64 * 1024, 'l'));

  auto result = run_command(curl_tls("-i --data-binary @'" + (dir / "small").string() + "' '" + url("/echo") + "'"));
  EXPECT_EQ(status_of(result.output), 200) << result.output;
  EXPECT_EQ(body_of(result.output).size(), 1024u);

  result = run_command(curl_tls("-i --data-binary @'" + (dir / "large").string() + "' '" + url("/echo") + "'"));
  EXPECT_EQ(status_of(result.output), 413) << result.output;
  EXPECT_NE(result.output.find("the request body is larger than 1024 bytes"), std::string::npos) << result.output;

  // Without a Content-Length the limit is found while reading the chunks.
  result = run_command(curl_tls("-i -H 'Transfer-Encoding: chunked' --data-binary @'" + (dir / "large").string() +
                                "' '" + url("/echo") + "'"));
  EXPECT_EQ(status_of(result.output), 413) << result.output;
  std::lock_guard lock(mutex_);
  EXPECT_EQ(seen_.size(), 1u) << "the handler never sees an oversized request";
}

TEST_F(HttpServerTest, Rejects413OnPlainHttpWithoutLosingTheResponse) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  start(options);
  RawConnection client(server_->port());
  // The client sends the whole body right away; the server must still get its 413 across.
  client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + std::string(200000, 'x'));
  const std::string response = client.read_response();
  EXPECT_EQ(response.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos) << response;
  EXPECT_TRUE(client.wait_closed(5s));
}

TEST_F(HttpServerTest, RejectsAnOversizedHeaderWith431) {
  HttpServerOptions options;
  options.max_header_bytes = 4096;
  start(options);
  RawConnection client(server_->port());
  client.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8192, 'b') + "\r\n\r\n");
  const std::string response = client.read_response();
  EXPECT_EQ(response.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u) << response;
  EXPECT_TRUE(client.wait_closed(5s));
}

TEST_F(HttpServerTest, RejectsMalformedRequestsWith400AndCloses) {
  start(HttpServerOptions{});
  for (const std::string request : {"BLAH\r\n\r\n", "GET /hello HTTP/1.1\r\nContent-Length: twelve\r\n\r\n",
                                    "GET /hello HTTP/9.9\r\n\r\n", "GET /hello HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    RawConnection client(server_->port());
    client.send(request);
    const std::string response = client.read_response();
    EXPECT_EQ(response.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << request << " got " << response;
    EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos) << response;
    EXPECT_TRUE(client.wait_closed(5s)) << request;
  }
  std::lock_guard lock(mutex_);
  EXPECT_TRUE(seen_.empty());
}

TEST_F(HttpServerTest, AnswersHeadWithHeadersOnly) {
  start(HttpServerOptions{});
  RawConnection client(server_->port());
  client.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string head = client.read_response(true);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Length: 11\r\n"), std::string::npos) << head;  // "hello HEAD "
  // Had the body been sent, it would now sit in front of the next response.
  client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string get = client.read_response();
  EXPECT_EQ(get.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << get;
  EXPECT_EQ(body_of(get), "hello GET ");

  const auto result = run_command(curl("-I '" + url("/hello") + "'"));
  EXPECT_EQ(status_of(result.output), 200) << result.output;
}

TEST_F(HttpServerTest, SendsNoBodyWith204) {
  start(HttpServerOptions{});
  RawConnection client(server_->port());
  client.send("GET /no-content HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string first = client.read_response();
  EXPECT_EQ(first.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u) << first;
  EXPECT_EQ(first.find("Content-Length"), std::string::npos) << first;
  const std::string second = client.read_response();
  EXPECT_EQ(second.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << second;
}

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrder) {
  start(HttpServerOptions{});
  RawConnection client(server_->port());
  client.send("GET /hello?1 HTTP/1.1\r\nHost: x\r\n\r\nGET /hello?2 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(body_of(client.read_response()), "hello GET 1");
  EXPECT_EQ(body_of(client.read_response()), "hello GET 2");
}

TEST_F(HttpServerTest, SpeaksHttp10) {
  start(HttpServerOptions{});
  {
    RawConnection client(server_->port());
    client.send("GET /hello HTTP/1.0\r\n\r\n");
    const std::string response = client.read_response();
    EXPECT_EQ(response.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << response;
    EXPECT_TRUE(client.wait_closed(5s)) << "HTTP/1.0 closes by default";
  }
  {
    RawConnection client(server_->port());
    client.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const std::string response = client.read_response();
    EXPECT_NE(response.find("Connection: keep-alive\r\n"), std::string::npos) << response;
    client.send("GET /hello HTTP/1.0\r\n\r\n");
    EXPECT_EQ(body_of(client.read_response()), "hello GET ");
  }
}

TEST_F(HttpServerTest, HonoursExpect100Continue) {
  start(HttpServerOptions{});
  RawConnection client(server_->port());
  client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.read_until("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  client.send("hello");
  EXPECT_EQ(body_of(client.read_response()), "hello");
}

TEST_F(HttpServerTest, HandlerCanCloseTheConnection) {
  start(HttpServerOptions{});
  RawConnection client(server_->port());
  client.send("GET /close HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string response = client.read_response();
  EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos) << response;
  EXPECT_TRUE(client.wait_closed(5s));
}

TEST_F(HttpServerTest, ClosesIdleConnectionsAfterTheTimeout) {
  HttpServerOptions options;
  options.idle_timeout = 1s;
  start(options);
  RawConnection client(server_->port());
  client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(body_of(client.read_response()), "hello GET ");
  const auto idle_since = Clock::now();
  EXPECT_TRUE(client.wait_closed(5s));
  EXPECT_GE(elapsed_ms(idle_since), 900);
  EXPECT_LT(elapsed_ms(idle_since), 3000);
}

// --- handler contract: errors, delay, on_answered, threads ------------------------------------------

TEST_F(HttpServerTest, TurnsAThrowingHandlerInto500WithoutLoggingTheRequest) {
  LogCapture capture;
  start();
  const auto result = run_command(curl_tls("-i --data-binary 'password=hunter2-secret-body' '" +
                                           url("/throw?token-in-query") + "'"));
  EXPECT_EQ(status_of(result.output), 500) << result.output;
  EXPECT_EQ(body_of(result.output), "500 Internal Server Error\n");
  EXPECT_EQ(result.output.find("boom"), std::string::npos) << "no internals to the client";
  const std::string logged = capture.text();
  EXPECT_NE(logged.find("error HTTP handler threw; answered 500 method=POST path=/throw error=boom"),
            std::string::npos)
      << logged;
  EXPECT_EQ(logged.find("hunter2"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("token-in-query"), std::string::npos) << logged;
}

TEST_F(HttpServerTest, TurnsAnInvalidResponseInto500) {
  LogCapture capture;
  start();
  const auto result = run_command(curl_tls("-i '" + url("/bad-header") + "'"));
  EXPECT_EQ(status_of(result.output), 500) << result.output;
  EXPECT_EQ(result.output.find("Injected"), std::string::npos) << result.output;
  EXPECT_NE(capture.text().find("the value of header X-Bad contains CR, LF or NUL"), std::string::npos)
      << capture.text();
  for (int i = 0; i < 200 && sent_ == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(sent_, 1) << "on_answered still runs for the response that replaced it";
}

TEST_F(HttpServerTest, CallsOnAnsweredOnceForTheResponse) {
  start();
  const auto result = run_command(curl_tls("'" + url("/sent") + "'"));
  EXPECT_EQ(result.output, "sent");
  for (int i = 0; i < 200 && sent_ == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(sent_, 1);
}

// A client that waits for each answer must never find its previous request still in flight:
// on_answered has run before the response can reach it. Repeated, since a race would be rare.
TEST_F(HttpServerTest, OnAnsweredRunsBeforeTheClientCanReadTheResponse) {
  start();
  std::string urls;
  for (int i = 0; i < 20; ++i) urls += " '" + url("/sent") + "' '" + url("/answered-count") + "'";
  const auto result = run_command(curl_tls("-w '\\n'" + urls));
  std::string expected;
  for (int i = 1; i <= 20; ++i) expected += "sent\n" + std::to_string(i) + "\n";
  EXPECT_EQ(result.output, expected);
}

TEST_F(HttpServerTest, DelaysTheResponseWithoutHoldingAThread) {
  HttpServerOptions options = tls_options();
  options.threads = 1;
  start(options);
  auto delayed = std::async(std::launch::async, [&] {
    const auto since = Clock::now();
    const auto result = run_command(curl_tls("'" + url("/delay?ms=2000") + "'"));
    return std::make_pair(result.output, elapsed_ms(since));
  });
  std::this_thread::sleep_for(200ms);
  const auto quick = run_command(curl_tls("'" + url("/hello") + "'"));
  EXPECT_EQ(quick.output, "hello GET ");
  EXPECT_EQ(delayed.wait_for(0s), std::future_status::timeout)
      << "the only server thread answered while the delayed response was still waiting";
  const auto [output, delayed_ms] = delayed.get();
  EXPECT_EQ(output, "delayed");
  EXPECT_GE(delayed_ms, 2000);
  for (int i = 0; i < 200 && sent_ == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(sent_, 1);
}

TEST_F(HttpServerTest, CallsOnSentWhenTheClientLeavesDuringTheDelay) {
  start(HttpServerOptions{});
  {
    RawConnection client(server_->port());
    client.send("GET /delay?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n");
    std::this_thread::sleep_for(50ms);
  }
  for (int i = 0; i < 300 && sent_ == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(sent_, 1);
}

TEST_F(HttpServerTest, ASlowHandlerDoesNotBlockOtherConnections) {
  start();  // two threads
  auto slow = std::async(std::launch::async, [&] { return run_command(curl_tls("'" + url("/slow") + "'")).output; });
  std::this_thread::sleep_for(300ms);
  const auto quick = run_command(curl_tls("'" + url("/hello") + "'"));
  EXPECT_EQ(quick.output, "hello GET ");
  EXPECT_EQ(slow.wait_for(0s), std::future_status::timeout) << "answered while the slow handler still ran";
  EXPECT_EQ(slow.get(), "slow");
}

// --- start and stop ----------------------------------------------------------------------------

TEST_F(HttpServerTest, ReportsAPortInUse) {
  start(HttpServerOptions{});
  HttpServerOptions options;
  options.listen = server_->address();
  const auto second = HttpServer::start(options, [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message.rfind("cannot listen on " + server_->address() + ": address already in use", 0), 0u)
      << second.error().message;
}

TEST_F(HttpServerTest, ReportsBadListenAddressesAndOptions) {
  const auto handler = [](const HttpRequest&) { return HttpResponse{}; };
  HttpServerOptions options;
  options.listen = "localhost";
  auto result = HttpServer::start(options, handler);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("listen address \"localhost\" has no port"), std::string::npos);

  options.listen = "no-such-host.invalid:0";
  result = HttpServer::start(options, handler);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("cannot resolve host \"no-such-host.invalid\""), std::string::npos)
      << result.error().message;

  options.listen = "192.0.2.1:0";  // TEST-NET-1: not an address of this machine
  result = HttpServer::start(options, handler);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("cannot listen on 192.0.2.1:0: cannot assign requested address"),
            std::string::npos)
      << result.error().message;

  options = HttpServerOptions{};
  options.threads = 0;
  result = HttpServer::start(options, handler);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "HTTP server threads must be between 1 and 256, not 0");

  result = HttpServer::start(HttpServerOptions{}, nullptr);
  ASSERT_FALSE(result.ok());

  options = tls_options();
  options.tls->key = certs_->path() / "absent.key";
  result = HttpServer::start(options, handler);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("absent.key"), std::string::npos) << result.error().message;
}

TEST_F(HttpServerTest, StopClosesIdleKeepAliveConnectionsAtOnce) {
  start(HttpServerOptions{});
  RawConnection client(server_->port());
  client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(body_of(client.read_response()), "hello GET ");
  RawConnection silent(server_->port());  // connected, never sent anything
  std::this_thread::sleep_for(50ms);
  const auto since = Clock::now();
  server_->stop(10s);
  EXPECT_LT(elapsed_ms(since), 1000);
  EXPECT_TRUE(client.wait_closed(1s));
  EXPECT_TRUE(silent.wait_closed(1s));
  EXPECT_THROW(RawConnection another(server_->port()), std::runtime_error) << "no longer listening";
}

TEST_F(HttpServerTest, StopClosesConnectionsStillInTheTlsHandshake) {
  start();
  RawConnection handshaking(server_->port());
  std::this_thread::sleep_for(50ms);
  const auto since = Clock::now();
  server_->stop(10s);
  EXPECT_LT(elapsed_ms(since), 1000);
  EXPECT_TRUE(handshaking.wait_closed(1s));
}

TEST_F(HttpServerTest, StopLetsARequestInProgressFinish) {
  start(HttpServerOptions{});
  RawConnection client(server_->port());
  client.send("GET /delay?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  const auto since = Clock::now();
  server_->stop(5s);
  const long stop_ms = elapsed_ms(since);
  EXPECT_GE(stop_ms, 300);
  EXPECT_LT(stop_ms, 2000);
  const std::string response = client.read_response();
  EXPECT_EQ(body_of(response), "delayed") << response;
  EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos) << "the server is going away";
  EXPECT_EQ(sent_, 1);
}

TEST_F(HttpServerTest, StopGivesUpOnSlowResponsesAfterTheGracePeriod) {
  start();
  auto request = std::async(std::launch::async,
                            [&] { return run_command(curl_tls("'" + url("/delay?ms=20000") + "'")).exit_code; });
  std::this_thread::sleep_for(300ms);
  const auto since = Clock::now();
  server_->stop(300ms);
  const long stop_ms = elapsed_ms(since);
  EXPECT_GE(stop_ms, 250);
  EXPECT_LT(stop_ms, 1300) << "grace + 1 s at most";
  EXPECT_EQ(sent_, 1) << "on_answered runs for the response that was never sent";
  EXPECT_NE(request.get(), 0);
  server_->stop(1s);  // idempotent
}

TEST(HttpHelpers, FormatDatesAndReasons) {
  EXPECT_EQ(http_date(std::chrono::system_clock::time_point{}), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http_date(std::chrono::system_clock::time_point{std::chrono::seconds(784111777)}),
            "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_reason(404), "Not Found");
  EXPECT_EQ(http_reason(413), "Payload Too Large");
  EXPECT_EQ(http_reason(799), "Unknown");
  EXPECT_EQ(http_reason(-1), "Unknown");
}

TEST(HttpHelpers, RequestHeaderLookupIgnoresCase) {
  HttpRequest request;
  request.headers = {{"Content-Type", "text/plain"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(request.header("content-type"), "text/plain");
  EXPECT_EQ(request.header("X-a"), "1");
  EXPECT_EQ(request.header("Content-Typ"), std::nullopt);
  EXPECT_EQ(request.header(""), std::nullopt);
}

}  // namespace
}  // namespace mailtrixy::net
