#include "mailtrixy/auth/token_manager.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "auth_test_support.hpp"

namespace mailtrixy::auth {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FakeMicrosoft;
using testing::kClientId;
using testing::kClientSecret;
using testing::open_store;
using testing::TempDir;

constexpr const char* kTid = "9188040d-6c67-4c5b-b112-36a304b66dad";

class TokenManagerTest : public ::testing::Test {
 protected:
  TokenManagerTest()
      : microsoft_(dir_.path()),
        key_(crypto::Key::generate()),
        store_(open_store(dir_ / "data", key_)),
        accounts_(*store_, clock_.clock()) {
    auto loaded = Integration::load(testing::settings_for(microsoft_.base_url(), microsoft_.ca_file()), *store_,
                                    testing::no_environment());
    if (!loaded) throw std::runtime_error(loaded.error().message);
    integration_ = std::move(*loaded);
    microsoft_.on_token([this](const std::map<std::string, std::string>& form) { return refresh(form); });
  }

  void make_manager(TokenManagerOptions options = {}) {
    manager_ = std::make_unique<TokenManager>(*integration_, accounts_, microsoft_.client(), options, clock_.clock());
  }

  // A well-behaved refresh grant: new access token, rotated refresh token.
  net::HttpResponse refresh(const std::map<std::string, std::string>& form) {
    if (form.at("grant_type") != "refresh_token") return FakeMicrosoft::json(400, R"({"error":"unsupported_grant_type"})");
    if (form.at("client_secret") != kClientSecret) {
      return FakeMicrosoft::aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.");
    }
    const int n = ++issued_;
    net::HttpResponse response = FakeMicrosoft::json(
        200, R"({"token_type":"Bearer","scope":"Mail.ReadWrite Mail.Send User.Read offline_access","expires_in":)" +
                 std::to_string(lifetime_.count()) + R"(,"access_token":"access-token-)" + std::to_string(n) +
                 R"(-zq8x","refresh_token":"refresh-token-)" + std::to_string(n) + R"(-zq8x"})");
    response.delay = delay_;
    return response;
  }

  std::string link(const std::string& oid, const std::string& address, std::chrono::seconds lifetime = 3600s) {
    TokenSet tokens;
    tokens.access_token = Secret<std::string>("access-token-initial-" + oid);
    tokens.refresh_token = Secret<std::string>("refresh-token-initial-" + oid);
    tokens.expires_in = lifetime;
    tokens.expires_at = clock_.now() + lifetime;
    auto linked = accounts_.link({oid, kTid, address, ""}, tokens);
    if (!linked) throw std::runtime_error(linked.error().message);
    return linked->account.key;
  }

  TempDir dir_;
  FakeMicrosoft microsoft_;
  crypto::Key key_;
  std::unique_ptr<store::Store> store_;
  FakeClock clock_;
  AccountStore accounts_;
  std::unique_ptr<Integration> integration_;
  std::unique_ptr<TokenManager> manager_;
  std::atomic<int> issued_{0};
  std::chrono::seconds lifetime_{3600};
  std::chrono::milliseconds delay_{0};
};

TEST_F(TokenManagerTest, ReturnsTheStoredTokenWhileItIsFresh) {
  make_manager();
  const std::string key = link("a1", "a@outlook.com");
  clock_.advance(3600s - 301s);
  TokenFailure failure = TokenFailure::storage;
  auto token = manager_->access_token(key, &failure);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->reveal(), "access-token-initial-a1");
  EXPECT_EQ(failure, TokenFailure::none);
  EXPECT_EQ(microsoft_.token_requests(), 0);
}

TEST_F(TokenManagerTest, RefreshesInsideTheMarginAndStoresTheRotatedTokenFirst) {
  make_manager();
  const std::string key = link("a1", "a@outlook.com");
  clock_.advance(3600s - 299s);
  auto token = manager_->access_token(key);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->reveal(), "access-token-1-zq8x");
  ASSERT_EQ(microsoft_.token_requests(), 1);
  const auto form = microsoft_.token_forms().at(0);
  EXPECT_EQ(form.at("refresh_token"), "refresh-token-initial-a1");
  EXPECT_EQ(form.at("client_id"), kClientId);
  EXPECT_NE(form.at("scope").find("offline_access"), std::string::npos);
  // Stored (sealed) before it was returned.
  auto stored = accounts_.load_tokens(key);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->refresh_token.reveal(), "refresh-token-1-zq8x");
  EXPECT_EQ((*stored)->access_token.reveal(), "access-token-1-zq8x");
  EXPECT_EQ((*stored)->access_token_expires_at, clock_.now() + 3600s);
  EXPECT_EQ((*accounts_.find(key))->last_refresh, clock_.now());
  // The next refresh uses the rotated refresh token.
  clock_.advance(3600s);
  ASSERT_TRUE(manager_->access_token(key).ok());
  EXPECT_EQ(microsoft_.token_forms().at(1).at("refresh_token"), "refresh-token-1-zq8x");
  EXPECT_EQ(manager_->refresh_requests(), 2U);
}

TEST_F(TokenManagerTest, AHundredConcurrentCallersCauseOneRefresh) {
  make_manager();
  const std::string key = link("a1", "a@outlook.com");
  const std::string other = link("b2", "b@outlook.com");
  clock_.advance(3601s);  // both expired
  delay_ = 300ms;         // keeps the flight open while the callers pile up
  std::vector<std::future<std::string>> results;
  for (int i = 0; i < 100; ++i) {
    results.push_back(std::async(std::launch::async, [&] {
      auto token = manager_->access_token(key);
      return token.ok() ? token->reveal() : "error: " + token.error().message;
    }));
  }
  std::set<std::string> tokens;
  for (auto& result : results) tokens.insert(result.get());
  EXPECT_EQ(tokens, std::set<std::string>{"access-token-1-zq8x"});
  EXPECT_EQ(microsoft_.token_requests(), 1);
  // Another account is independent of that flight.
  ASSERT_TRUE(manager_->access_token(other).ok());
  EXPECT_EQ(microsoft_.token_requests(), 2);
}

TEST_F(TokenManagerTest, ShortLivedTokensUseHalfTheirLifetimeAsMargin) {
  lifetime_ = 5s;
  make_manager();
  const std::string key = link("a1", "a@outlook.com", 5s);
  ASSERT_EQ(manager_->access_token(key)->reveal(), "access-token-initial-a1");
  clock_.advance(2s);
  ASSERT_EQ(manager_->access_token(key)->reveal(), "access-token-initial-a1");
  clock_.advance(1s);  // 2 s left: less than half of 5 s
  ASSERT_EQ(manager_->access_token(key)->reveal(), "access-token-1-zq8x");
  ASSERT_EQ(manager_->access_token(key)->reveal(), "access-token-1-zq8x");
  EXPECT_EQ(microsoft_.token_requests(), 1);
}

TEST_F(TokenManagerTest, InvalidGrantMarksTheAccountAndStopsRefreshingIt) {
  make_manager();
  const std::string key = link("a1", "a@outlook.com");
  microsoft_.on_token([](const std::map<std::string, std::string>&) {
    return FakeMicrosoft::aad_error(400, "invalid_grant", 50173,
                                    "The provided grant has expired due to it being revoked.");
  });
  clock_.advance(3601s);
  TokenFailure failure = TokenFailure::none;
  auto token = manager_->access_token(key, &failure);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(failure, TokenFailure::needs_sign_in);
  EXPECT_NE(token.error().message.find("AADSTS50173"), std::string::npos);
  auto account = accounts_.find(key);
  EXPECT_EQ((*account)->status, AccountStatus::needs_sign_in);
  EXPECT_EQ((*account)->needs_sign_in_reason,
            "AADSTS50173: The provided grant has expired due to it being revoked.");
  // No more requests for it: not on demand, not from the scheduler.
  EXPECT_FALSE(manager_->access_token(key, &failure).ok());
  EXPECT_EQ(failure, TokenFailure::needs_sign_in);
  manager_->run_due_refreshes();
  EXPECT_EQ(microsoft_.token_requests(), 1);
  EXPECT_EQ(integration_->status().state, IntegrationState::ok);

  // Signing in again resets it.
  microsoft_.on_token([this](const std::map<std::string, std::string>& form) { return refresh(form); });
  link("a1", "a@outlook.com");
  auto fresh = manager_->access_token(key);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ(fresh->reveal(), "access-token-initial-a1");
}

TEST_F(TokenManagerTest, InvalidClientBreaksTheIntegrationAndStopsEveryRefresh) {
  make_manager();
  const std::string a = link("a1", "a@outlook.com");
  const std::string b = link("b2", "b@outlook.com");
  microsoft_.on_token([](const std::map<std::string, std::string>&) {
    return FakeMicrosoft::aad_error(401, "invalid_client", 7000222, "The provided client secret keys are expired.");
  });
  clock_.advance(3601s);
  TokenFailure failure = TokenFailure::none;
  auto token = manager_->access_token(a, &failure);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(failure, TokenFailure::integration_broken);
  EXPECT_NE(token.error().message.find("New client secret"), std::string::npos);
  EXPECT_EQ(integration_->status().state, IntegrationState::broken);
  EXPECT_EQ(integration_->status().error_code, "AADSTS7000222");
  EXPECT_FALSE(manager_->access_token(b, &failure).ok());
  EXPECT_EQ(failure, TokenFailure::integration_broken);
  manager_->run_due_refreshes();
  EXPECT_EQ(microsoft_.token_requests(), 1);
  EXPECT_EQ((*accounts_.find(a))->status, AccountStatus::active);  // the accounts are fine

  // A new secret on the admin page: refreshing resumes at once.
  microsoft_.on_token([this](const std::map<std::string, std::string>& form) { return refresh(form); });
  ASSERT_TRUE(integration_->set_from_admin_page(kClientId, Secret<std::string>(kClientSecret)).ok());
  auto resumed = manager_->access_token(b);
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
}

TEST_F(TokenManagerTest, ServerErrorsBackOffExponentiallyWithoutAStorm) {
  TokenManagerOptions options;
  options.backoff_initial = 30s;
  options.backoff_max = 120s;
  make_manager(options);
  const std::string key = link("a1", "a@outlook.com");
  microsoft_.on_token([](const std::map<std::string, std::string>&) { return FakeMicrosoft::json(503, "busy"); });
  clock_.advance(3601s);
  TokenFailure failure = TokenFailure::none;
  EXPECT_FALSE(manager_->access_token(key, &failure).ok());
  EXPECT_EQ(failure, TokenFailure::temporarily_unavailable);
  EXPECT_EQ(microsoft_.token_requests(), 1);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(manager_->access_token(key).ok());
  manager_->run_due_refreshes();
  EXPECT_EQ(microsoft_.token_requests(), 1);  // no storm
  // Level 1 waits 15-30 s, level 2 30-60 s, level 3 60-120 s, then capped at 60-120 s.
  const std::vector<std::pair<std::chrono::seconds, std::chrono::seconds>> windows = {
      {15s, 30s}, {30s, 60s}, {60s, 120s}, {60s, 120s}};
  int expected_requests = 1;
  for (const auto& [low, high] : windows) {
    clock_.advance(low - 1s);
    EXPECT_FALSE(manager_->access_token(key).ok());
    EXPECT_EQ(microsoft_.token_requests(), expected_requests) << "retried before " << low.count() << " s";
    clock_.advance(high - low + 2s);
    EXPECT_FALSE(manager_->access_token(key).ok());
    EXPECT_EQ(microsoft_.token_requests(), ++expected_requests) << "no retry by " << high.count() << " s";
  }
  // Recovery resets the backoff.
  microsoft_.on_token([this](const std::map<std::string, std::string>& form) { return refresh(form); });
  clock_.advance(121s);
  auto token = manager_->access_token(key);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->reveal(), "access-token-1-zq8x");
}

TEST_F(TokenManagerTest, RetryAfterIsHonoured) {
  make_manager();
  const std::string key = link("a1", "a@outlook.com");
  microsoft_.on_token([](const std::map<std::string, std::string>&) {
    net::HttpResponse response = FakeMicrosoft::json(429, R"({"error":"temporarily_unavailable"})");
    response.headers.emplace_back("Retry-After", "600");
    return response;
  });
  clock_.advance(3601s);
  EXPECT_FALSE(manager_->access_token(key).ok());
  clock_.advance(590s);
  EXPECT_FALSE(manager_->access_token(key).ok());
  EXPECT_EQ(microsoft_.token_requests(), 1);
  clock_.advance(11s);
  EXPECT_FALSE(manager_->access_token(key).ok());
  EXPECT_EQ(microsoft_.token_requests(), 2);
}

TEST_F(TokenManagerTest, AStillValidTokenIsServedWhileRefreshingIsImpossible) {
  make_manager();
  const std::string key = link("a1", "a@outlook.com");
  microsoft_.on_token([](const std::map<std::string, std::string>&) { return FakeMicrosoft::json(500, "oops"); });
  clock_.advance(3600s - 120s);  // inside the margin, not expired
  auto token = manager_->access_token(key);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->reveal(), "access-token-initial-a1");
  EXPECT_EQ(microsoft_.token_requests(), 1);
}

TEST_F(TokenManagerTest, TheSchedulerRefreshesAheadOfExpiryAndIdleAccounts) {
  TokenManagerOptions options;
  options.jitter = 60s;
  make_manager(options);
  const std::string soon = link("a1", "a@outlook.com", 3600s);
  const std::string idle = link("b2", "b@outlook.com", 7 * 24 * 3600s);
  const auto start = clock_.now();
  auto next = manager_->run_due_refreshes();
  EXPECT_EQ(microsoft_.token_requests(), 0);
  EXPECT_GE(next, start + 3600s - 360s);
  EXPECT_LE(next, start + 3600s - 300s);
  clock_.advance(std::chrono::duration_cast<std::chrono::milliseconds>(next - start));
  next = manager_->run_due_refreshes();
  EXPECT_EQ(microsoft_.token_requests(), 1);
  EXPECT_EQ(microsoft_.token_forms().at(0).at("refresh_token"), "refresh-token-initial-a1");
  EXPECT_GT(next, clock_.now());
  // A day after linking, the long-lived account is refreshed too, although its token is still valid.
  clock_.advance(std::chrono::duration_cast<std::chrono::milliseconds>(start + 24h + 1s - clock_.now()));
  const int before = microsoft_.token_requests();
  manager_->run_due_refreshes();
  bool idle_refreshed = false;
  for (const auto& form : microsoft_.token_forms()) {
    if (form.at("refresh_token") == "refresh-token-initial-b2") idle_refreshed = true;
  }
  EXPECT_TRUE(idle_refreshed);
  EXPECT_EQ(microsoft_.token_requests(), before + 2);  // and the expired one, once
  EXPECT_EQ((*accounts_.find(idle))->last_refresh, clock_.now());
  EXPECT_EQ((*accounts_.find(soon))->last_refresh, clock_.now());
}

TEST_F(TokenManagerTest, TheBackgroundSchedulerRefreshesDueTokensAtStartUp) {
  make_manager();
  const std::string key = link("a1", "a@outlook.com");
  clock_.advance(3600s - 10s);
  manager_->start();
  for (int i = 0; i < 100 && microsoft_.token_requests() == 0; ++i) std::this_thread::sleep_for(50ms);
  manager_->stop();
  EXPECT_EQ(microsoft_.token_requests(), 1);
  auto stored = accounts_.load_tokens(key);
  EXPECT_EQ((*stored)->access_token.reveal(), "access-token-1-zq8x");
}

TEST_F(TokenManagerTest, InvalidateForcesARefresh) {
  make_manager();
  const std::string key = link("a1", "a@outlook.com");
  auto token = manager_->access_token(key);
  ASSERT_TRUE(token.ok());
  manager_->invalidate(key, Secret<std::string>("some-other-token"));
  EXPECT_EQ(manager_->access_token(key)->reveal(), "access-token-initial-a1");
  manager_->invalidate(key, *token);
  EXPECT_EQ(manager_->access_token(key)->reveal(), "access-token-1-zq8x");
  EXPECT_EQ(microsoft_.token_requests(), 1);
}

TEST_F(TokenManagerTest, UnknownAccountsAreReported) {
  make_manager();
  TokenFailure failure = TokenFailure::none;
  EXPECT_FALSE(manager_->access_token("nobody.nowhere", &failure).ok());
  EXPECT_EQ(failure, TokenFailure::unknown_account);
}

TEST_F(TokenManagerTest, NoTokenReachesTheDataDirectoryInPlaintext) {
  make_manager();
  const std::string key = link("a1", "a@outlook.com");
  clock_.advance(3601s);
  ASSERT_TRUE(manager_->access_token(key).ok());
  ASSERT_TRUE(store_->flush().ok());
  for (const std::string needle : {"access-token-initial-a1", "refresh-token-initial-a1", "access-token-1-zq8x",
                                   "refresh-token-1-zq8x", kClientSecret}) {
    EXPECT_TRUE(testing::files_containing(dir_ / "data", needle).empty()) << needle;
  }
}

}  // namespace
}  // namespace mailtrixy::auth
