// The sign-in flow and the token manager against the real mailtrixy-emulator over HTTPS: the
// emulator enforces what Microsoft enforces (exact redirect URI, secret, PKCE, single-use codes,
// rotation, revocation) and counts token requests (/_emulator/stats), so these tests prove the
// behaviour end to end below the web pages.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <cstdio>
#include <future>
#include <set>
#include <thread>

#include "auth_test_support.hpp"
#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/auth/integration.hpp"
#include "mailtrixy/auth/oauth.hpp"
#include "mailtrixy/auth/token_manager.hpp"

namespace mailtrixy::auth {
namespace {

using namespace std::chrono_literals;
using testing::files_containing;
using testing::open_store;
using testing::TempDir;

constexpr const char* kEmulatorClientId = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
constexpr const char* kEmulatorSecret = "Emu~Secret.Value_0123456789abcdef";
constexpr const char* kRedirectUri = "https://bridge.example:8443/email-oauth/microsoft/callback";

// Runs the emulator binary until destroyed (SIGTERM, then wait).
class Emulator {
 public:
  Emulator(const std::filesystem::path& dir, int access_token_lifetime) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> args = {MAILTRIXY_EMULATOR,
                                     "--listen", "127.0.0.1:0",
                                     "--cert", (dir / "emulator.crt").string(),
                                     "--key", (dir / "emulator.key").string(),
                                     "--client", std::string(kEmulatorClientId) + ":" + kEmulatorSecret,
                                     "--redirect-uri", kRedirectUri,
                                     "--user", "alice@outlook.com:alice-pw",
                                     "--user", "bob@contoso.onmicrosoft.com:bob-pw",
                                     "--access-token-lifetime", std::to_string(access_token_lifetime)};
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

class EmulatorFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(MAILTRIXY_EMULATOR)) GTEST_SKIP() << "no emulator binary at " << MAILTRIXY_EMULATOR;
  }

  void start(int access_token_lifetime = 3599, const std::string& secret = kEmulatorSecret) {
    emulator_ = std::make_unique<Emulator>(dir_.path(), access_token_lifetime);
    net::HttpClientOptions client_options;
    client_options.extra_ca_file = emulator_->ca_file();
    auto client = net::HttpClient::create(client_options);
    ASSERT_TRUE(client.ok()) << client.error().message;
    client_ = std::move(client).value();
    key_ = std::make_unique<crypto::Key>(crypto::Key::generate());
    store_ = open_store(dir_ / "data", *key_);
    config::Settings settings = testing::settings_for(emulator_->url(), emulator_->ca_file());
    settings.microsoft.client_id = kEmulatorClientId;
    settings.microsoft.client_secret = Secret<std::string>(secret);
    auto integration = Integration::load(settings, *store_, testing::no_environment());
    ASSERT_TRUE(integration.ok()) << integration.error().message;
    integration_ = std::move(integration).value();
    accounts_ = std::make_unique<AccountStore>(*store_);
    flow_ = std::make_unique<SignInFlow>(*integration_, *accounts_, *client_);
  }

  void TearDown() override {
    manager_.reset();
    flow_.reset();
    client_.reset();
    emulator_.reset();
  }

  // What the browser does: post the emulator's sign-in form and follow nothing (the 302 to our
  // callback is where the bridge takes over).
  CallbackQuery sign_in_at_microsoft(const SignInStart& start, const std::string& login, const std::string& password,
                                     const std::string& consent) {
    net::HttpClientRequest request;
    request.method = "POST";
    request.url = start.authorize_url;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    request.body = net::form_encode({{"login", login}, {"password", password}, {"consent", consent}});
    auto response = client_->send(request);
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().message);
    if (!response.ok()) return {};
    EXPECT_EQ(response->status, 302) << response->body.substr(0, 400);
    const std::string location(response->header("location").value_or(""));
    EXPECT_TRUE(location.starts_with(std::string(kRedirectUri) + "?")) << location;
    const auto query = location.find('?');
    return parse_callback_query(query == std::string::npos ? "" : location.substr(query + 1));
  }

  SignInOutcome sign_in(const std::string& login = "alice@outlook.com", const std::string& password = "alice-pw",
                        const std::string& consent = "accept") {
    auto start_result = flow_->begin_sign_in("browser-1");
    EXPECT_TRUE(start_result.ok());
    const CallbackQuery callback = sign_in_at_microsoft(*start_result, login, password, consent);
    return flow_->finish_sign_in(callback, "browser-1");
  }

  rapidjson::Document control(const std::string& method, const std::string& path) {
    net::HttpClientRequest request;
    request.method = method;
    request.url = emulator_->url() + "/_emulator/" + path;
    auto response = client_->send(request);
    rapidjson::Document document;
    EXPECT_TRUE(response.ok());
    if (response.ok()) document.Parse(response->body.data(), response->body.size());
    return document;
  }

  int token_requests() { return control("GET", "stats")["token_requests"].GetInt(); }

  TempDir dir_;
  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<net::HttpClient> client_;
  std::unique_ptr<crypto::Key> key_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Integration> integration_;
  std::unique_ptr<AccountStore> accounts_;
  std::unique_ptr<SignInFlow> flow_;
  std::unique_ptr<TokenManager> manager_;
};

TEST_F(EmulatorFlowTest, SignsInPersonalAndWorkAccounts) {
  start();
  const SignInOutcome alice = sign_in();
  ASSERT_TRUE(alice.ok()) << alice.error->title << ": " << alice.error->explanation << " / " << alice.error->description;
  EXPECT_EQ(alice.success->account.address, "alice@outlook.com");
  const SignInOutcome bob = sign_in("bob@contoso.onmicrosoft.com", "bob-pw");
  ASSERT_TRUE(bob.ok()) << bob.error->explanation << " / " << bob.error->description;
  EXPECT_EQ(bob.success->account.address, "bob@contoso.onmicrosoft.com");

  // The keys are the id token's oid + tid, as the emulator reports them.
  const rapidjson::Document users = control("GET", "users");
  std::set<std::string> expected;
  for (const auto& user : users.GetArray()) {
    expected.insert(std::string(user["token_oid"].GetString()) + "." + user["tid"].GetString());
  }
  EXPECT_TRUE(expected.count(alice.success->account.key)) << alice.success->account.key;
  EXPECT_TRUE(expected.count(bob.success->account.key)) << bob.success->account.key;

  // Signing in again keeps the key.
  const SignInOutcome again = sign_in();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.success->relinked);
  EXPECT_EQ(again.success->account.key, alice.success->account.key);
  EXPECT_EQ(accounts_->list()->size(), 2U);
}

TEST_F(EmulatorFlowTest, DeclinedConsentAndAWrongSecretAreExplained) {
  start(3599, "Wrong~Secret.Value");
  const SignInOutcome declined = sign_in("alice@outlook.com", "alice-pw", "decline");
  ASSERT_FALSE(declined.ok());
  EXPECT_EQ(declined.error->kind, SignInError::Kind::consent_declined);
  EXPECT_EQ(declined.error->error, "access_denied");

  const SignInOutcome wrong = sign_in();
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error->kind, SignInError::Kind::invalid_client_secret) << wrong.error->description;
  EXPECT_EQ(integration_->status().state, IntegrationState::broken);
}

TEST_F(EmulatorFlowTest, OneRefreshForAHundredCallersAndRevocationNeedsSignIn) {
  start(5);
  const SignInOutcome alice = sign_in();
  ASSERT_TRUE(alice.ok()) << alice.error->explanation;
  const std::string key = alice.success->account.key;
  manager_ = std::make_unique<TokenManager>(*integration_, *accounts_, *client_);
  // Wait until the 5-second token is inside its 2.5-second margin.
  std::this_thread::sleep_for(2700ms);
  const int before = token_requests();
  std::vector<std::future<std::string>> results;
  for (int i = 0; i < 100; ++i) {
    results.push_back(std::async(std::launch::async, [&] {
      auto token = manager_->access_token(key);
      return token.ok() ? token->reveal() : "error: " + token.error().message;
    }));
  }
  std::set<std::string> tokens;
  for (auto& result : results) tokens.insert(result.get());
  ASSERT_EQ(tokens.size(), 1U) << *tokens.begin();
  EXPECT_NE(tokens.begin()->substr(0, 6), "error:");
  EXPECT_EQ(token_requests() - before, 1);

  // The refreshed token works against Graph.
  net::HttpClientRequest me;
  me.url = emulator_->url() + "/v1.0/me";
  me.headers = {{"Authorization", "Bearer " + *tokens.begin()}};
  auto me_response = client_->send(me);
  ASSERT_TRUE(me_response.ok());
  EXPECT_EQ(me_response->status, 200);

  // Revoked: the next refresh turns the account into needs sign-in.
  control("POST", "users/alice@outlook.com/revoke");
  std::this_thread::sleep_for(5100ms);  // the refreshed access token has expired
  TokenFailure failure = TokenFailure::none;
  auto revoked = manager_->access_token(key, &failure);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(failure, TokenFailure::needs_sign_in);
  EXPECT_NE(revoked.error().message.find("AADSTS50173"), std::string::npos) << revoked.error().message;
  EXPECT_EQ((*accounts_->find(key))->status, AccountStatus::needs_sign_in);

  // Nothing the emulator issued, nor the client secret, is in the data directory in plain text.
  ASSERT_TRUE(store_->flush().ok());
  const rapidjson::Document issued = control("GET", "tokens");
  int checked = 0;
  for (const char* kind : {"access_tokens", "refresh_tokens"}) {
    for (const auto& token : issued[kind].GetArray()) {
      EXPECT_TRUE(files_containing(dir_ / "data", token["token"].GetString()).empty()) << kind;
      ++checked;
    }
  }
  EXPECT_GE(checked, 4);
  EXPECT_TRUE(files_containing(dir_ / "data", kEmulatorSecret).empty());
}

TEST_F(EmulatorFlowTest, AnExpiredSecretBreaksTheIntegration) {
  start(5);
  const SignInOutcome alice = sign_in();
  ASSERT_TRUE(alice.ok()) << alice.error->explanation;
  manager_ = std::make_unique<TokenManager>(*integration_, *accounts_, *client_);
  control("POST", std::string("clients/") + kEmulatorClientId + "/expire-secret");
  std::this_thread::sleep_for(5100ms);
  TokenFailure failure = TokenFailure::none;
  auto token = manager_->access_token(alice.success->account.key, &failure);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(failure, TokenFailure::integration_broken);
  EXPECT_EQ(integration_->status().error_code, "AADSTS7000222");
  EXPECT_EQ((*accounts_->find(alice.success->account.key))->status, AccountStatus::active);
}

}  // namespace
}  // namespace mailtrixy::auth
