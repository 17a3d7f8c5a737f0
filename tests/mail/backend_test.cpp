#include "mailtrixy/mail/backend.hpp"

#include <gtest/gtest.h>

namespace mailtrixy::mail {
namespace {

TEST(MailBackendContract, ChangeSubscriptionUnsubscribesExactlyOnce) {
  int unsubscribed = 0;
  {
    ChangeSubscription subscription([&] { ++unsubscribed; });
    EXPECT_TRUE(subscription.active());
    ChangeSubscription moved = std::move(subscription);
    EXPECT_FALSE(subscription.active());  // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_TRUE(moved.active());
    ChangeSubscription other([&] { unsubscribed += 10; });
    other = std::move(moved);  // drops other's own subscription first
    EXPECT_EQ(unsubscribed, 10);
    other.reset();
    EXPECT_EQ(unsubscribed, 11);
    other.reset();
    EXPECT_EQ(unsubscribed, 11);
  }
  EXPECT_EQ(unsubscribed, 11);
  ChangeSubscription empty;
  EXPECT_FALSE(empty.active());
}

}  // namespace
}  // namespace mailtrixy::mail
