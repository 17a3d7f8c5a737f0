#include "mailtrixy/web/sessions.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "mailtrixy/crypto/hash.hpp"
#include "test_support.hpp"

namespace mailtrixy::web {
namespace {

using std::chrono::hours;
using TimePoint = std::chrono::system_clock::time_point;

class SessionsTest : public ::testing::Test {
 protected:
  testing::TempDir temp;
  std::unique_ptr<store::Store> store = testing::open_store(temp.path() / "data");
  TimePoint now = TimePoint(std::chrono::seconds(1'800'000'000));
  SessionManager sessions{*store, [this] { return now; }};

  std::size_t stored_records() {
    std::size_t count = 0;
    EXPECT_TRUE(store
                    ->for_each_prefix(store::Family::web_sessions, kSessionKeyPrefix,
                                      [&](auto, auto) {
                                        ++count;
                                        return true;
                                      })
                    .ok());
    return count;
  }
};

TEST_F(SessionsTest, ABrowserWithoutCookieGetsAFreshAnonymousSessionThatCostsNoStorage) {
  const BrowserSession session = sessions.resume(std::nullopt);
  EXPECT_TRUE(session.is_new);
  EXPECT_FALSE(session.stored);
  EXPECT_TRUE(SessionManager::well_formed_id(session.id));
  EXPECT_EQ(stored_records(), 0u);
  EXPECT_NE(sessions.resume(std::nullopt).id, session.id);
}

TEST_F(SessionsTest, MalformedCookiesAreReplaced) {
  for (const char* bad : {"", "short", "../../etc/passwd", "a b c"}) {
    const BrowserSession session = sessions.resume(std::string(bad));
    EXPECT_TRUE(session.is_new) << bad;
    EXPECT_NE(session.id, bad);
  }
}

TEST_F(SessionsTest, AWellFormedUnknownIdStaysAnonymousSoOpenFormsKeepWorking) {
  const BrowserSession first = sessions.resume(std::nullopt);
  const BrowserSession again = sessions.resume(first.id);
  EXPECT_FALSE(again.is_new);
  EXPECT_FALSE(again.stored);
  EXPECT_EQ(again.id, first.id);
  EXPECT_TRUE(sessions.csrf_valid(again, sessions.csrf_token(first)));
}

TEST_F(SessionsTest, AddingAnAccountMovesTheSessionToANewIdAndDeletesTheOldRecord) {
  const BrowserSession anonymous = sessions.resume(std::nullopt);
  auto first = sessions.add_account(anonymous, "oid1.tid");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_NE(first->id, anonymous.id);  // no fixation: the pre-login id is worth nothing
  EXPECT_TRUE(first->stored);
  EXPECT_EQ(stored_records(), 1u);

  auto second = sessions.add_account(sessions.resume(first->id), "oid2.tid");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->id, first->id);
  EXPECT_EQ(stored_records(), 1u);
  EXPECT_FALSE(sessions.resume(first->id).stored);  // the old id no longer names a session

  const BrowserSession resumed = sessions.resume(second->id);
  EXPECT_TRUE(resumed.stored);
  EXPECT_EQ(resumed.account_keys, (std::vector<std::string>{"oid1.tid", "oid2.tid"}));

  // Signing in with the first account again moves it to the end, without duplicates.
  auto third = sessions.add_account(resumed, "oid1.tid");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(sessions.resume(third->id).account_keys, (std::vector<std::string>{"oid2.tid", "oid1.tid"}));
}

TEST_F(SessionsTest, TheStoreNeverHoldsTheSessionId) {
  auto signed_in = sessions.add_account(sessions.resume(std::nullopt), "oid.tid");
  ASSERT_TRUE(signed_in.ok());
  bool found_id = false;
  ASSERT_TRUE(store
                  ->for_each_prefix(
                      store::Family::web_sessions, "",
                      [&](std::string_view key, std::string_view value) {
                        found_id = found_id || key.find(signed_in->id) != std::string_view::npos ||
                                   value.find(signed_in->id) != std::string_view::npos;
                        EXPECT_EQ(key, std::string(kSessionKeyPrefix) + crypto::sha256_hex(signed_in->id));
                        return true;
                      })
                  .ok());
  EXPECT_FALSE(found_id);
}

TEST_F(SessionsTest, AdminRightsExpireAfterTheirLifetimeButAccountsStay) {
  auto with_account = sessions.add_account(sessions.resume(std::nullopt), "oid.tid");
  ASSERT_TRUE(with_account.ok());
  auto admin = sessions.sign_in_admin(sessions.resume(with_account->id));
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(sessions.resume(admin->id).admin);

  now += kAdminLifetime + hours(1);
  const BrowserSession later = sessions.resume(admin->id);
  EXPECT_TRUE(later.stored);
  EXPECT_FALSE(later.admin);
  EXPECT_EQ(later.account_keys, (std::vector<std::string>{"oid.tid"}));
}

TEST_F(SessionsTest, AnAdminOnlySessionDisappearsWhenAdminRightsAreSignedOut) {
  auto admin = sessions.sign_in_admin(sessions.resume(std::nullopt));
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(stored_records(), 1u);
  auto signed_out = sessions.sign_out_admin(sessions.resume(admin->id));
  ASSERT_TRUE(signed_out.ok());
  EXPECT_FALSE(signed_out->admin);
  EXPECT_FALSE(signed_out->stored);
  EXPECT_EQ(stored_records(), 0u);
  EXPECT_FALSE(sessions.resume(admin->id).admin);
}

TEST_F(SessionsTest, ExpiredSessionsAreRefusedAndPurged) {
  auto signed_in = sessions.add_account(sessions.resume(std::nullopt), "oid.tid");
  ASSERT_TRUE(signed_in.ok());
  now += kSessionLifetime + hours(1);
  const BrowserSession expired = sessions.resume(signed_in->id);
  EXPECT_TRUE(expired.is_new);
  EXPECT_NE(expired.id, signed_in->id);
  EXPECT_EQ(stored_records(), 0u);

  auto another = sessions.add_account(sessions.resume(std::nullopt), "x.y");
  ASSERT_TRUE(another.ok());
  now += kSessionLifetime + hours(1);
  EXPECT_EQ(sessions.purge_expired().value(), 1u);
  EXPECT_EQ(stored_records(), 0u);
}

TEST_F(SessionsTest, SignOutForgetsEverything) {
  auto signed_in = sessions.add_account(sessions.resume(std::nullopt), "oid.tid");
  ASSERT_TRUE(signed_in.ok());
  auto signed_out = sessions.sign_out(sessions.resume(signed_in->id));
  ASSERT_TRUE(signed_out.ok());
  EXPECT_TRUE(signed_out->account_keys.empty());
  EXPECT_FALSE(sessions.resume(signed_in->id).stored);
  EXPECT_EQ(stored_records(), 0u);
}

TEST_F(SessionsTest, CsrfTokensAreBoundToTheSessionAndToThisProcess) {
  const BrowserSession a = sessions.resume(std::nullopt);
  const BrowserSession b = sessions.resume(std::nullopt);
  const std::string token = sessions.csrf_token(a);
  EXPECT_TRUE(sessions.csrf_valid(a, token));
  EXPECT_FALSE(sessions.csrf_valid(b, token));
  EXPECT_FALSE(sessions.csrf_valid(a, ""));
  EXPECT_FALSE(sessions.csrf_valid(a, token.substr(1)));
  SessionManager restarted(*store);
  EXPECT_FALSE(restarted.csrf_valid(a, token));
}

}  // namespace
}  // namespace mailtrixy::web
