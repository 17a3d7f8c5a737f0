#include "mailtrixy/mail/remote_mailbox.hpp"

#include <gtest/gtest.h>

namespace mailtrixy::mail {
namespace {

TEST(MailRemoteContract, FlagUpdateIsEmptyOnlyWithoutEngagedFields) {
  RemoteFlagUpdate update;
  EXPECT_TRUE(update.empty());
  update.keywords = std::vector<std::string>{};
  EXPECT_FALSE(update.empty()) << "clearing every category is a real write";
  RemoteFlagUpdate seen;
  seen.seen = false;
  EXPECT_FALSE(seen.empty());
}

TEST(MailRemoteContract, DeltaPageIsLastWhenItCarriesTheDeltaLink) {
  DeltaPage page;
  page.next_link = "next";
  EXPECT_FALSE(page.last_page());
  page.next_link.clear();
  page.delta_link = "delta";
  EXPECT_TRUE(page.last_page());
}

}  // namespace
}  // namespace mailtrixy::mail
