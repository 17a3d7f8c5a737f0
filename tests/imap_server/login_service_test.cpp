// The bridge's LoginService (src/app/login_service.cpp): bridge passwords checked by the account
// store, the sync engine's mailbox handed out (its worker started when needed), the reconnect URL
// for accounts that must sign in again.
#include "../../src/app/login_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/crypto/aead.hpp"
#include "mailtrixy/mail/fake_remote_mailbox.hpp"
#include "mailtrixy/store/store.hpp"
#include "mailtrixy/sync/sync_engine.hpp"
#include "support/temp_dir.hpp"

namespace mailtrixy::app {
namespace {

using namespace std::chrono_literals;
using Outcome = mail::LoginResult::Outcome;

auth::TokenSet tokens() {
  auth::TokenSet set;
  set.access_token = Secret<std::string>("EwB-access");
  set.refresh_token = Secret<std::string>("M.C5-refresh");
  set.expires_in = 3599s;
  set.expires_at = std::chrono::system_clock::now() + 3599s;
  set.scopes = {"Mail.ReadWrite", "offline_access"};
  return set;
}

class LoginServiceTest : public ::testing::Test {
 protected:
  LoginServiceTest() {
    auto opened = store::Store::open(store::OpenOptions{dir_.path(), crypto::Key::generate(), false, {}});
    if (!opened) throw std::runtime_error(opened.error().message);
    store_ = std::move(opened.value());
    auth::LoginRateLimiterOptions limits;
    limits.free_failures = 2;
    limits.first_lockout = 60s;
    accounts_ = std::make_unique<auth::AccountStore>(*store_, auth::system_clock(), limits);
    sync::SyncOptions options;
    options.poll_interval = 60s;
    options.idle_poll_interval = 60s;
    engine_ = std::make_unique<sync::SyncEngine>(*store_, options);
    if (!engine_->open()) throw std::runtime_error("cannot open the body cache");
    auto linked = accounts_->link({"0ab1", "7cd2", "Alice@Example.com", "Alice"}, tokens());
    if (!linked) throw std::runtime_error(linked.error().message);
    key_ = linked->account.key;
    password_ = linked->bridge_password.reveal();
  }
  ~LoginServiceTest() override { engine_->stop(); }

  BridgeLoginService service(bool can_start = true) {
    return BridgeLoginService(
        *accounts_, *engine_,
        [this, can_start](const std::string& key) -> std::shared_ptr<sync::SyncedMailbox> {
          ++starts_;
          if (!can_start) return nullptr;
          return engine_->start_account(key, std::make_shared<mail::FakeRemoteMailbox>());
        },
        "https://bridge.example:8443/");
  }

  testing::TempDir dir_{"login-service-test"};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<auth::AccountStore> accounts_;
  std::unique_ptr<sync::SyncEngine> engine_;
  std::string key_;
  std::string password_;
  std::atomic<int> starts_{0};
};

TEST_F(LoginServiceTest, TheRightPasswordGivesTheSyncEnginesMailboxStartingItOnce) {
  auto logins = service();
  auto first = logins.login("alice@example.com", password_, "127.0.0.1");
  ASSERT_EQ(first.outcome, Outcome::ok) << first.message;
  EXPECT_EQ(first.account_key, key_);
  EXPECT_EQ(first.address, "Alice@Example.com");
  ASSERT_TRUE(first.mailbox);
  EXPECT_EQ(first.mailbox, std::static_pointer_cast<mail::MailboxBackend>(engine_->mailbox(key_)));
  EXPECT_EQ(starts_, 1);

  auto second = logins.login("ALICE@example.com", password_, "127.0.0.1");
  ASSERT_EQ(second.outcome, Outcome::ok);
  EXPECT_EQ(second.mailbox, first.mailbox);
  EXPECT_EQ(starts_, 1) << "a running account's worker was started again";
}

TEST_F(LoginServiceTest, AWrongPasswordOrUnknownUserIsRefusedWithoutAMailbox) {
  auto logins = service();
  auto wrong = logins.login("alice@example.com", "not-the-password", "127.0.0.1");
  EXPECT_EQ(wrong.outcome, Outcome::wrong_credentials);
  EXPECT_FALSE(wrong.mailbox);
  EXPECT_EQ(wrong.message.find("not-the-password"), std::string::npos);
  auto unknown = logins.login("nobody@example.com", password_, "127.0.0.2");
  EXPECT_EQ(unknown.outcome, Outcome::wrong_credentials);
  EXPECT_FALSE(unknown.mailbox);
  EXPECT_EQ(starts_, 0);
}

TEST_F(LoginServiceTest, RepeatedFailuresAreRateLimited) {
  auto logins = service();
  mail::LoginResult last;
  for (int i = 0; i < 4; ++i) last = logins.login("alice@example.com", "wrong", "192.0.2.7");
  EXPECT_EQ(last.outcome, Outcome::rate_limited);
  EXPECT_GT(last.retry_after.count(), 0);
  // Even the right password waits out the lockout from that address.
  auto right = logins.login("alice@example.com", password_, "192.0.2.7");
  EXPECT_EQ(right.outcome, Outcome::rate_limited);
  EXPECT_FALSE(right.mailbox);
}

TEST_F(LoginServiceTest, AnAccountThatNeedsSignInGetsTheReconnectPage) {
  ASSERT_TRUE(accounts_->mark_needs_sign_in(key_, "refresh token expired").ok());
  auto logins = service();
  auto result = logins.login("alice@example.com", password_, "127.0.0.1");
  EXPECT_EQ(result.outcome, Outcome::needs_sign_in);
  EXPECT_EQ(result.reconnect_url, "https://bridge.example:8443/settings/email-accounts");
  EXPECT_EQ(result.account_key, key_);
  EXPECT_FALSE(result.mailbox);
  EXPECT_EQ(starts_, 0);
}

TEST_F(LoginServiceTest, AMailboxThatCannotBeStartedMakesTheLoginUnavailable) {
  auto logins = service(false);
  auto result = logins.login("alice@example.com", password_, "127.0.0.1");
  EXPECT_EQ(result.outcome, Outcome::unavailable);
  EXPECT_FALSE(result.mailbox);
  EXPECT_FALSE(result.message.empty());
}

TEST(ReconnectUrl, IsTheAccountsPageUnderThePublicUrl) {
  EXPECT_EQ(BridgeLoginService::reconnect_url("https://localhost:8443"),
            "https://localhost:8443/settings/email-accounts");
  EXPECT_EQ(BridgeLoginService::reconnect_url("https://mail.example.org//"),
            "https://mail.example.org/settings/email-accounts");
}

}  // namespace
}  // namespace mailtrixy::app
