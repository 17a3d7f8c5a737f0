#include "mailtrixy/auth/accounts.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "auth_test_support.hpp"
#include "mailtrixy/auth/health.hpp"
#include "mailtrixy/auth/integration.hpp"
#include "mailtrixy/auth/login_rate_limiter.hpp"

namespace mailtrixy::auth {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::files_containing;
using testing::open_store;
using testing::TempDir;

constexpr const char* kOid = "00000000-0000-0000-1D0F-DDBD1DAB94FE";
constexpr const char* kTid = "9188040d-6c67-4c5b-b112-36a304b66dad";

MicrosoftProfile alice() { return {kOid, kTid, "Alice@Outlook.com", "Alice Smith"}; }

TokenSet tokens(const std::string& suffix, std::chrono::system_clock::time_point now) {
  TokenSet set;
  set.access_token = Secret<std::string>("EwB-access-" + suffix);
  set.refresh_token = Secret<std::string>("M.C5-refresh-" + suffix);
  set.expires_in = 3599s;
  set.expires_at = now + 3599s;
  set.scopes = {"Mail.ReadWrite", "offline_access"};
  return set;
}

class AccountStoreTest : public ::testing::Test {
 protected:
  AccountStoreTest() : key_(crypto::Key::generate()), store_(open_store(dir_.path(), key_)) {
    accounts_ = std::make_unique<AccountStore>(*store_, clock_.clock());
  }
  TempDir dir_;
  crypto::Key key_;
  std::unique_ptr<store::Store> store_;
  FakeClock clock_;
  std::unique_ptr<AccountStore> accounts_;
};

TEST_F(AccountStoreTest, LinksAnAccountWithItsTokensAndAPassword) {
  std::vector<std::pair<std::string, bool>> events;
  accounts_->subscribe_account_connected(
      [&](const Account& account, bool relinked) { events.emplace_back(account.key, relinked); });
  auto linked = accounts_->link(alice(), tokens("1", clock_.now()));
  ASSERT_TRUE(linked.ok()) << linked.error().message;
  EXPECT_FALSE(linked->relinked);
  EXPECT_EQ(linked->account.key, std::string("00000000-0000-0000-1d0f-ddbd1dab94fe.") + kTid);
  EXPECT_EQ(linked->account.address, "Alice@Outlook.com");
  EXPECT_EQ(linked->account.status, AccountStatus::active);
  EXPECT_EQ(linked->account.created, clock_.now());
  EXPECT_EQ(linked->bridge_password.reveal().size(), 24U);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].first, linked->account.key);
  EXPECT_FALSE(events[0].second);

  auto stored = accounts_->load_tokens(linked->account.key);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->refresh_token.reveal(), "M.C5-refresh-1");
  EXPECT_EQ((*stored)->access_token.reveal(), "EwB-access-1");
  EXPECT_EQ((*stored)->access_token_lifetime, 3599s);

  auto by_address = accounts_->find_by_address("alice@OUTLOOK.com");
  ASSERT_TRUE(by_address.ok());
  ASSERT_TRUE(by_address->has_value());
  EXPECT_EQ((*by_address)->key, linked->account.key);
}

TEST_F(AccountStoreTest, RelinkingTheSameOidAndTidKeepsTheKeyAndData) {
  auto first = accounts_->link(alice(), tokens("1", clock_.now()));
  ASSERT_TRUE(first.ok());
  const std::string key = first->account.key;
  ASSERT_TRUE(store_->put(store::Family::uids, key + "/inbox/1", "graph-id-1").ok());
  ASSERT_TRUE(accounts_->mark_needs_sign_in(key, "AADSTS50173: revoked").ok());

  clock_.advance(1h);
  MicrosoftProfile again = alice();
  again.address = "alice@outlook.com";  // same person, address spelled differently
  std::vector<bool> relinks;
  accounts_->subscribe_account_connected([&](const Account&, bool relinked) { relinks.push_back(relinked); });
  auto second = accounts_->link(again, tokens("2", clock_.now()));
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->relinked);
  EXPECT_EQ(second->account.key, key);
  EXPECT_EQ(second->account.status, AccountStatus::active);
  EXPECT_EQ(second->account.created, first->account.created);
  EXPECT_EQ(second->account.last_sign_in, clock_.now());
  EXPECT_NE(second->bridge_password.reveal(), first->bridge_password.reveal());
  EXPECT_EQ(relinks, std::vector<bool>{true});
  auto uid = store_->get(store::Family::uids, key + "/inbox/1");
  ASSERT_TRUE(uid.ok());
  EXPECT_EQ(uid->value_or(""), "graph-id-1");
  auto all = accounts_->list();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1U);
  // The old password no longer works, the new one does.
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", first->bridge_password.reveal(), "10.0.0.1").outcome,
            LoginAttempt::Outcome::wrong_credentials);
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", second->bridge_password.reveal(), "10.0.0.1").outcome,
            LoginAttempt::Outcome::ok);
}

TEST_F(AccountStoreTest, RelinkCanKeepTheExistingPassword) {
  auto first = accounts_->link(alice(), tokens("1", clock_.now()));
  ASSERT_TRUE(first.ok());
  auto second = accounts_->link(alice(), tokens("2", clock_.now()), AccountStore::PasswordOnRelink::keep);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->bridge_password.empty());
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", first->bridge_password.reveal(), "c").outcome,
            LoginAttempt::Outcome::ok);
}

TEST_F(AccountStoreTest, LinkRefusesIncompleteInput) {
  MicrosoftProfile no_tid = alice();
  no_tid.tid.clear();
  EXPECT_FALSE(accounts_->link(no_tid, tokens("1", clock_.now())).ok());
  TokenSet no_refresh = tokens("1", clock_.now());
  no_refresh.refresh_token = Secret<std::string>();
  EXPECT_FALSE(accounts_->link(alice(), no_refresh).ok());
  auto all = accounts_->list();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(AccountStoreTest, VerifiesPasswordsAndReportsNeedsSignIn) {
  auto linked = accounts_->link(alice(), tokens("1", clock_.now()));
  ASSERT_TRUE(linked.ok());
  const std::string password = linked->bridge_password.reveal();
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", password, "10.0.0.1").outcome, LoginAttempt::Outcome::ok);
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", password + "x", "10.0.0.1").outcome,
            LoginAttempt::Outcome::wrong_credentials);
  EXPECT_EQ(accounts_->verify_password("nobody@outlook.com", password, "10.0.0.1").outcome,
            LoginAttempt::Outcome::wrong_credentials);
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", "", "10.0.0.1").outcome,
            LoginAttempt::Outcome::wrong_credentials);
  ASSERT_TRUE(accounts_->mark_needs_sign_in(linked->account.key, "revoked").ok());
  const LoginAttempt needs = accounts_->verify_password("alice@outlook.com", password, "10.0.0.1");
  EXPECT_EQ(needs.outcome, LoginAttempt::Outcome::needs_sign_in);
  ASSERT_TRUE(needs.account.has_value());
  EXPECT_EQ(needs.account->needs_sign_in_reason, "revoked");
  // A wrong password for an account needing sign-in says nothing about its state.
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", "wrong", "10.0.0.1").outcome,
            LoginAttempt::Outcome::wrong_credentials);
}

TEST_F(AccountStoreTest, RateLimitsGuessingPerClientAndPerAccount) {
  auto linked = accounts_->link(alice(), tokens("1", clock_.now()));
  ASSERT_TRUE(linked.ok());
  const std::string password = linked->bridge_password.reveal();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(accounts_->verify_password("alice@outlook.com", "guess", "203.0.113.9").outcome,
              LoginAttempt::Outcome::wrong_credentials);
  }
  // The sixth failure locks; even the right password is refused without being checked.
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", "guess", "203.0.113.9").outcome,
            LoginAttempt::Outcome::wrong_credentials);
  const LoginAttempt limited = accounts_->verify_password("alice@outlook.com", password, "203.0.113.9");
  EXPECT_EQ(limited.outcome, LoginAttempt::Outcome::rate_limited);
  EXPECT_GT(limited.retry_after.count(), 0);
  // The account is locked for other clients too.
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", password, "198.51.100.1").outcome,
            LoginAttempt::Outcome::rate_limited);
  clock_.advance(2s);
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", password, "198.51.100.1").outcome,
            LoginAttempt::Outcome::ok);
  // Success cleared the account; the guessing client is clear again too after its lockout.
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", password, "203.0.113.9").outcome, LoginAttempt::Outcome::ok);
}

TEST(LoginRateLimiter, LockoutDoublesUpToTheCapAndIsForgotten) {
  FakeClock clock;
  LoginRateLimiterOptions options;
  options.free_failures = 2;
  options.first_lockout = 1000ms;
  options.max_lockout = 5000ms;
  options.forget_after = 60000ms;
  LoginRateLimiter limiter(options, clock.clock());
  EXPECT_EQ(limiter.retry_after("1.2.3.4", "a@b"), 0ms);
  limiter.record_failure("1.2.3.4", "a@b");
  limiter.record_failure("1.2.3.4", "a@b");
  EXPECT_EQ(limiter.retry_after("1.2.3.4", "a@b"), 0ms);
  std::vector<long> lockouts;
  for (int i = 0; i < 5; ++i) {
    limiter.record_failure("1.2.3.4", "a@b");
    lockouts.push_back(static_cast<long>(limiter.retry_after("1.2.3.4", "").count()));
    clock.advance(std::chrono::milliseconds(lockouts.back()));
  }
  EXPECT_EQ(lockouts, (std::vector<long>{1001, 2001, 4001, 5001, 5001}));
  // Per account, another client address is refused as well; other accounts are not.
  limiter.record_failure("1.2.3.4", "a@b");
  EXPECT_GT(limiter.retry_after("9.9.9.9", "A@B").count(), 0);
  EXPECT_EQ(limiter.retry_after("9.9.9.9", "c@d"), 0ms);
  // After forget_after without failures the counter starts again.
  clock.advance(61s);
  limiter.record_failure("1.2.3.4", "a@b");
  EXPECT_EQ(limiter.retry_after("1.2.3.4", "a@b"), 0ms);
}

TEST(LoginRateLimiter, StaysBoundedUnderManyAddresses) {
  FakeClock clock;
  LoginRateLimiterOptions options;
  options.max_tracked_keys = 100;
  LoginRateLimiter limiter(options, clock.clock());
  for (int i = 0; i < 1000; ++i) {
    limiter.record_failure("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), "");
    clock.advance(1ms);
  }
  // Recent offenders are still tracked after the pruning.
  for (int i = 0; i < 5; ++i) limiter.record_failure("10.0.3.231", "");
  limiter.record_failure("10.0.3.231", "");
  EXPECT_GT(limiter.retry_after("10.0.3.231", "").count(), 0);
}

TEST_F(AccountStoreTest, RemoveDeletesTheAccountAndEveryRecordUnderItsKey) {
  auto a = accounts_->link(alice(), tokens("1", clock_.now()));
  auto b = accounts_->link({"11111111-2222-3333-4444-555555555555", kTid, "bob@outlook.com", "Bob"},
                           tokens("2", clock_.now()));
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string ka = a->account.key;
  const std::string kb = b->account.key;
  for (const auto family : {store::Family::folders, store::Family::uids, store::Family::messages,
                            store::Family::bodies, store::Family::outbox}) {
    ASSERT_TRUE(store_->put(family, ka + "/x/1", "a").ok());
    ASSERT_TRUE(store_->put(family, kb + "/x/1", "b").ok());
  }
  // A key that shares a's text but not its '/' boundary stays.
  ASSERT_TRUE(store_->put(store::Family::uids, ka + "0/x", "other").ok());

  auto removed = accounts_->remove(ka);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(accounts_->find(ka)->has_value());
  EXPECT_FALSE(accounts_->load_tokens(ka)->has_value());
  for (const auto family : {store::Family::folders, store::Family::uids, store::Family::messages,
                            store::Family::bodies, store::Family::outbox}) {
    EXPECT_FALSE(store_->get(family, ka + "/x/1")->has_value());
    EXPECT_TRUE(store_->get(family, kb + "/x/1")->has_value());
  }
  EXPECT_TRUE(store_->get(store::Family::uids, ka + "0/x")->has_value());
  EXPECT_TRUE(accounts_->find(kb)->has_value());
  auto again = accounts_->remove(ka);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  // Tokens cannot be stored for a removed account (a refresh racing the removal).
  EXPECT_FALSE(accounts_->store_tokens(ka, StoredTokens{}).ok());
}

TEST_F(AccountStoreTest, ResetPasswordReplacesTheOldOne) {
  auto linked = accounts_->link(alice(), tokens("1", clock_.now()));
  ASSERT_TRUE(linked.ok());
  auto fresh = accounts_->reset_password(linked->account.key);
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->reveal(), linked->bridge_password.reveal());
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", linked->bridge_password.reveal(), "c").outcome,
            LoginAttempt::Outcome::wrong_credentials);
  EXPECT_EQ(accounts_->verify_password("alice@outlook.com", fresh->reveal(), "c").outcome, LoginAttempt::Outcome::ok);
  EXPECT_FALSE(accounts_->reset_password("missing.key").ok());
}

TEST_F(AccountStoreTest, StoreTokensUpdatesLastRefresh) {
  auto linked = accounts_->link(alice(), tokens("1", clock_.now()));
  ASSERT_TRUE(linked.ok());
  clock_.advance(30min);
  StoredTokens next{Secret<std::string>("rt-2"), Secret<std::string>("at-2"), clock_.now() + 1h, 3600s, {"x"}};
  ASSERT_TRUE(accounts_->store_tokens(linked->account.key, next).ok());
  auto account = accounts_->find(linked->account.key);
  EXPECT_EQ((*account)->last_refresh, clock_.now());
  auto stored = accounts_->load_tokens(linked->account.key);
  EXPECT_EQ((*stored)->refresh_token.reveal(), "rt-2");
}

TEST(BridgePassword, IsLongRandomAndReadable) {
  std::set<std::string> seen;
  std::set<char> letters;
  for (int i = 0; i < 200; ++i) {
    const std::string password = generate_bridge_password().reveal();
    ASSERT_EQ(password.size(), 24U);
    EXPECT_TRUE(seen.insert(password).second);
    for (const char c : password) {
      EXPECT_EQ(std::string("0O1lI").find(c), std::string::npos) << password;
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) != 0) << password;
      letters.insert(c);
    }
  }
  EXPECT_EQ(letters.size(), 57U);  // the whole alphabet is used
}

TEST_F(AccountStoreTest, NothingSecretIsStoredInPlaintext) {
  auto linked = accounts_->link(alice(), tokens("plaintext-probe-7f3a", clock_.now()));
  ASSERT_TRUE(linked.ok());
  ASSERT_TRUE(store_->flush().ok());
  for (const std::string& needle : {std::string("EwB-access-plaintext-probe-7f3a"),
                                   std::string("M.C5-refresh-plaintext-probe-7f3a"), linked->bridge_password.reveal()}) {
    EXPECT_TRUE(files_containing(dir_.path(), needle).empty()) << needle;
  }
  // The address, by contrast, is plain (so the CLI can list accounts): the scan does find things.
  EXPECT_FALSE(files_containing(dir_.path(), "Alice@Outlook.com").empty());
}

TEST_F(AccountStoreTest, AReadOnlyStoreServesTheReadingMethods) {
  auto linked = accounts_->link(alice(), tokens("1", clock_.now()));
  ASSERT_TRUE(linked.ok());
  ASSERT_TRUE(store_->flush().ok());
  auto reader_store = open_store(dir_.path(), key_, true);
  AccountStore reader(*reader_store);
  auto listed = reader.list();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ((*listed)[0].address, "Alice@Outlook.com");
  EXPECT_FALSE(reader.reset_password(linked->account.key).ok());
}

TEST_F(AccountStoreTest, HealthListsAccountsNeedingSignIn) {
  config::Settings settings = testing::settings_for("https://login.example", "");
  auto integration = Integration::load(settings, *store_, testing::no_environment());
  ASSERT_TRUE(integration.ok());
  auto a = accounts_->link(alice(), tokens("1", clock_.now()));
  ASSERT_TRUE(a.ok());
  AuthHealth healthy = auth_health(**integration, *accounts_);
  EXPECT_TRUE(healthy.reasons.empty());
  EXPECT_TRUE(healthy.integration_ok);
  EXPECT_EQ(healthy.accounts_total, 1U);
  ASSERT_TRUE(accounts_->mark_needs_sign_in(a->account.key, "revoked").ok());
  (*integration)->mark_broken("AADSTS7000222", "AADSTS7000222: expired");
  AuthHealth sick = auth_health(**integration, *accounts_);
  ASSERT_EQ(sick.reasons.size(), 2U);
  EXPECT_NE(sick.reasons[0].find("integration broken"), std::string::npos);
  EXPECT_EQ(sick.reasons[1], "1 account needs sign-in: Alice@Outlook.com");
  EXPECT_EQ(sick.accounts_needing_sign_in, 1U);
}

}  // namespace
}  // namespace mailtrixy::auth
