#pragma once
// Helpers for the auth tests: a temporary data directory with an open store, a controllable
// clock, and a small stand-in for Microsoft (token endpoint and /v1.0/me) on a real HTTPS server
// with a generated certificate, so every test goes through the real HttpClient and TLS.

#include <gtest/gtest.h>

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "mailtrixy/auth/clock.hpp"
#include "mailtrixy/auth/integration.hpp"
#include "mailtrixy/config/settings.hpp"
#include "mailtrixy/crypto/aead.hpp"
#include "mailtrixy/net/certificate.hpp"
#include "mailtrixy/net/http_client.hpp"
#include "mailtrixy/net/http_server.hpp"
#include "mailtrixy/store/store.hpp"

#include "support/temp_dir.hpp"

namespace mailtrixy::auth::testing {

inline constexpr const char* kClientId = "11112222-bbbb-3333-cccc-4444dddd5555";
inline constexpr const char* kClientSecret = "Xy8Q~secret.value_of-the_app~42";

// Each module's temp directories carry its name.
class TempDir : public mailtrixy::testing::TempDir {
 public:
  TempDir() : mailtrixy::testing::TempDir("mailtrixy-auth") {}
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Every file under `dir` that contains `needle` (binary search through the raw bytes).
inline std::vector<std::string> files_containing(const std::filesystem::path& dir, const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    if (read_file(entry.path()).find(needle) != std::string::npos) hits.push_back(entry.path().string());
  }
  return hits;
}

// A clock the test moves by hand. Copies share the time.
class FakeClock {
 public:
  FakeClock() : millis_(std::make_shared<std::atomic<std::int64_t>>(1'800'000'000'000)) {}
  Clock clock() const {
    auto millis = millis_;
    return [millis] { return std::chrono::system_clock::time_point(std::chrono::milliseconds(millis->load())); };
  }
  std::chrono::system_clock::time_point now() const { return clock()(); }
  void advance(std::chrono::milliseconds by) { millis_->fetch_add(by.count()); }

 private:
  std::shared_ptr<std::atomic<std::int64_t>> millis_;
};

inline std::unique_ptr<store::Store> open_store(const std::filesystem::path& data_dir, const crypto::Key& key,
                                                bool read_only = false) {
  store::OpenOptions options{data_dir, key, read_only, {}};
  auto opened = store::Store::open(options);
  if (!opened) throw std::runtime_error(opened.error().message);
  return std::move(*opened);
}

inline config::Environment no_environment() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

// Settings for a bridge whose Microsoft lives at `base_url`.
inline config::Settings settings_for(const std::string& base_url, const std::filesystem::path& ca_file) {
  config::Settings settings;
  settings.public_url = "https://bridge.example:8443";
  settings.microsoft.client_id = kClientId;
  settings.microsoft.client_secret = Secret<std::string>(kClientSecret);
  settings.microsoft.client_secret_source = config::Source::yaml;
  settings.microsoft.login_url = base_url;
  settings.microsoft.graph_url = base_url;
  settings.microsoft.ca_file = ca_file;
  return settings;
}

// base64url without padding, for building id tokens.
inline std::string b64url(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], kAlphabet[v & 63]};
  }
  if (bytes.size() - i == 1) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63]};
  } else if (bytes.size() - i == 2) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63]};
  }
  return out;
}

inline std::string make_id_token(const std::string& claims_json) {
  return b64url(R"({"typ":"JWT","alg":"RS256","kid":"k1"})") + "." + b64url(claims_json) + ".c2lnbmF0dXJl";
}

// Decodes application/x-www-form-urlencoded.
inline std::map<std::string, std::string> parse_form(std::string_view body) {
  const auto decode = [](std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '+') {
        out.push_back(' ');
      } else if (text[i] == '%' && i + 2 < text.size()) {
        out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(text[i]);
      }
    }
    return out;
  };
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t end = body.find('&', start);
    if (end == std::string_view::npos) end = body.size();
    const auto pair = body.substr(start, end - start);
    const auto eq = pair.find('=');
    out[decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
    start = end + 1;
  }
  return out;
}

// The stand-in for Microsoft. The test sets `token` and `me` to decide the answers; every token
// request's form is recorded.
class FakeMicrosoft {
 public:
  using Handler = std::function<net::HttpResponse(const std::map<std::string, std::string>& form)>;

  explicit FakeMicrosoft(const std::filesystem::path& dir) {
    cert_ = dir / "fake-ms.crt";
    if (!net::ensure_self_signed_certificate(cert_, dir / "fake-ms.key").ok()) {
      throw std::runtime_error("cannot create the fake Microsoft certificate");
    }
    net::HttpServerOptions options;
    options.tls = net::TlsFiles{cert_, dir / "fake-ms.key"};
    options.threads = 4;
    auto started = net::HttpServer::start(options, [this](const net::HttpRequest& request) { return handle(request); });
    if (!started) throw std::runtime_error(started.error().message);
    server_ = std::move(*started);
    net::HttpClientOptions client_options;
    client_options.extra_ca_file = cert_;
    auto client = net::HttpClient::create(client_options);
    if (!client) throw std::runtime_error(client.error().message);
    client_ = std::move(*client);
  }

  ~FakeMicrosoft() {
    client_.reset();
    server_->stop(std::chrono::milliseconds(0));
  }
  FakeMicrosoft(const FakeMicrosoft&) = delete;
  FakeMicrosoft& operator=(const FakeMicrosoft&) = delete;

  std::string base_url() const { return "https://127.0.0.1:" + std::to_string(server_->port()); }
  const std::filesystem::path& ca_file() const { return cert_; }
  net::HttpClient& client() { return *client_; }

  void on_token(Handler handler) {
    std::lock_guard lock(mutex_);
    token_ = std::move(handler);
  }
  void on_me(std::function<net::HttpResponse(const net::HttpRequest&)> handler) {
    std::lock_guard lock(mutex_);
    me_ = std::move(handler);
  }
  int token_requests() const { return token_requests_.load(); }
  std::vector<std::map<std::string, std::string>> token_forms() {
    std::lock_guard lock(mutex_);
    return forms_;
  }
  std::string last_token_path() {
    std::lock_guard lock(mutex_);
    return last_token_path_;
  }

  static net::HttpResponse json(int status, std::string body) {
    return net::HttpResponse::text(status, std::move(body), "application/json; charset=utf-8");
  }

  static net::HttpResponse aad_error(int status, const std::string& error, int code, const std::string& text) {
    return json(status, R"({"error":")" + error + R"(","error_description":"AADSTS)" + std::to_string(code) + ": " +
                            text +
                            R"(\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2026-01-09 02:02:12Z","error_codes":[)" +
                            std::to_string(code) +
                            R"(],"timestamp":"2026-01-09 02:02:12Z","trace_id":"0000aaaa-11bb-cccc-dd22-eeeeee333333","correlation_id":"aaaa0000-bb11-2222-33cc-444444dddddd","error_uri":"https://login.microsoftonline.com/error?code=)" +
                            std::to_string(code) + R"("})");
  }

 private:
  net::HttpResponse handle(const net::HttpRequest& request) {
    if (request.path.ends_with("/oauth2/v2.0/token") && request.method == "POST") {
      ++token_requests_;
      Handler handler;
      {
        std::lock_guard lock(mutex_);
        forms_.push_back(parse_form(request.body));
        last_token_path_ = request.path;
        handler = token_;
      }
      if (!handler) return json(500, "{}");
      return handler(parse_form(request.body));
    }
    if (request.path == "/v1.0/me") {
      std::function<net::HttpResponse(const net::HttpRequest&)> handler;
      {
        std::lock_guard lock(mutex_);
        handler = me_;
      }
      if (!handler) return json(404, "{}");
      return handler(request);
    }
    return json(404, R"({"error":"not found"})");
  }

  std::filesystem::path cert_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<net::HttpClient> client_;
  std::mutex mutex_;
  Handler token_;
  std::function<net::HttpResponse(const net::HttpRequest&)> me_;
  std::vector<std::map<std::string, std::string>> forms_;
  std::string last_token_path_;
  std::atomic<int> token_requests_{0};
};

}  // namespace mailtrixy::auth::testing
