#pragma once
// Runs the real mailtrixy-emulator (the stand-in for Microsoft) and signs a user in through it,
// as tests/auth/emulator_flow_test.cpp does, so the graph tests go through real HTTPS, real
// tokens and the emulator's throttling, faults and stats.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/auth/integration.hpp"
#include "mailtrixy/auth/oauth.hpp"
#include "mailtrixy/auth/token_manager.hpp"
#include "mailtrixy/config/settings.hpp"
#include "mailtrixy/crypto/aead.hpp"
#include "mailtrixy/net/http_client.hpp"
#include "mailtrixy/store/store.hpp"

#include "support/temp_dir.hpp"

namespace mailtrixy::graph::testing {

inline constexpr const char* kClientId = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
inline constexpr const char* kSecret = "Emu~Secret.Value_0123456789abcdef";
inline constexpr const char* kRedirectUri = "https://bridge.example:8443/email-oauth/microsoft/callback";
inline constexpr const char* kUser = "alice@outlook.com";

// Each module's temp directories carry its name.
class TempDir : public mailtrixy::testing::TempDir {
 public:
  TempDir() : mailtrixy::testing::TempDir("mailtrixy-graph") {}
};

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string sample_message(int n, const std::string& subject) {
  return "From: Bob Sender <bob@example.com>\r\nTo: alice@outlook.com\r\nSubject: " + subject +
         "\r\nDate: Mon, 05 Jan 2026 10:" + (n < 10 ? "0" : "") + std::to_string(n % 60) +
         ":00 +0000\r\nMessage-ID: <m" + std::to_string(n) + "@example.com>\r\nMIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\nBody of message " + std::to_string(n) + ".\r\n";
}

struct EmulatorOptions {
  int access_token_lifetime = 3599;
  int latency_ms = 0;
  std::filesystem::path seed;  // empty: no seed
};

// The emulator binary, until destroyed (SIGTERM, then wait).
class Emulator {
 public:
  Emulator(const std::filesystem::path& dir, const EmulatorOptions& options) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> args = {MAILTRIXY_EMULATOR,
                                     "--listen", "127.0.0.1:0",
                                     "--cert", (dir / "emulator.crt").string(),
                                     "--key", (dir / "emulator.key").string(),
                                     "--client", std::string(kClientId) + ":" + kSecret,
                                     "--redirect-uri", kRedirectUri,
                                     "--user", std::string(kUser) + ":alice-pw",
                                     "--access-token-lifetime", std::to_string(options.access_token_lifetime),
                                     "--latency", std::to_string(options.latency_ms),
                                     "--threads", "8"};
    if (!options.seed.empty()) {
      args.push_back("--seed");
      args.push_back(std::string(kUser) + "=" + options.seed.string());
    }
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_ = ::fdopen(out[0], "r");
    char line[512];
    while (std::fgets(line, sizeof line, stdout_) != nullptr) {
      const std::string text(line);
      const auto at = text.find("listening on ");
      if (at != std::string::npos) {
        url_ = text.substr(at + 13);
        while (!url_.empty() && (url_.back() == '\n' || url_.back() == '\r')) url_.pop_back();
        break;
      }
    }
    if (url_.empty()) throw std::runtime_error("the emulator did not start");
    ca_file_ = dir / "emulator.crt";
  }
  ~Emulator() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    if (stdout_ != nullptr) std::fclose(stdout_);
  }
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  const std::string& url() const { return url_; }
  const std::filesystem::path& ca_file() const { return ca_file_; }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  std::string url_;
  std::filesystem::path ca_file_;
};

// An emulator with alice signed in: a store, the integration, the account and a TokenManager.
class SignedInEmulator {
 public:
  SignedInEmulator(const std::filesystem::path& dir, const EmulatorOptions& options) {
    emulator = std::make_unique<Emulator>(dir, options);
    net::HttpClientOptions client_options;
    client_options.extra_ca_file = emulator->ca_file();
    client_options.threads = 2;
    auto client = net::HttpClient::create(client_options);
    if (!client) throw std::runtime_error(client.error().message);
    http = std::move(client).value();
    key = std::make_unique<crypto::Key>(crypto::Key::generate());
    auto opened = store::Store::open(store::OpenOptions{dir / "data", *key, false, {}});
    if (!opened) throw std::runtime_error(opened.error().message);
    store = std::move(*opened);
    config::Settings settings;
    settings.public_url = "https://bridge.example:8443";
    settings.microsoft.client_id = kClientId;
    settings.microsoft.client_secret = Secret<std::string>(kSecret);
    settings.microsoft.client_secret_source = config::Source::yaml;
    settings.microsoft.login_url = emulator->url();
    settings.microsoft.graph_url = emulator->url();
    settings.microsoft.ca_file = emulator->ca_file();
    auto loaded = auth::Integration::load(settings, *store, [](const std::string&) -> std::optional<std::string> {
      return std::nullopt;
    });
    if (!loaded) throw std::runtime_error(loaded.error().message);
    integration = std::move(loaded).value();
    accounts = std::make_unique<auth::AccountStore>(*store);
    auth::SignInFlow flow(*integration, *accounts, *http);
    auto start = flow.begin_sign_in("browser-1");
    if (!start) throw std::runtime_error(start.error().message);
    net::HttpClientRequest request;
    request.method = "POST";
    request.url = start->authorize_url;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    request.body = net::form_encode({{"login", kUser}, {"password", "alice-pw"}, {"consent", "accept"}});
    auto response = http->send(request);
    if (!response || response->status != 302) throw std::runtime_error("the emulator sign-in did not redirect");
    const std::string location(response->header("location").value_or(""));
    const auto query = location.find('?');
    const auto outcome =
        flow.finish_sign_in(auth::parse_callback_query(query == std::string::npos ? "" : location.substr(query + 1)),
                            "browser-1");
    if (!outcome.ok()) throw std::runtime_error("sign-in failed: " + outcome.error->description);
    account_key = outcome.success->account.key;
    tokens = std::make_unique<auth::TokenManager>(*integration, *accounts, *http);
  }
  ~SignedInEmulator() {
    tokens.reset();
    http.reset();
    emulator.reset();
  }

  // A control-API call; the parsed JSON answer.
  rapidjson::Document control(const std::string& method, const std::string& path, const std::string& body = "") {
    net::HttpClientRequest request;
    request.method = method;
    request.url = emulator->url() + "/_emulator/" + path;
    request.body = body;
    if (!body.empty()) request.headers = {{"Content-Type", "application/json"}};
    auto response = http->send(request);
    rapidjson::Document document;
    if (response.ok()) document.Parse(response->body.data(), response->body.size());
    return document;
  }

  std::unique_ptr<Emulator> emulator;
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<crypto::Key> key;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<auth::Integration> integration;
  std::unique_ptr<auth::AccountStore> accounts;
  std::unique_ptr<auth::TokenManager> tokens;
  std::string account_key;
};

}  // namespace mailtrixy::graph::testing
