#include "mailtrixy/mail/error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace mailtrixy::mail {
namespace {

TEST(MailErrorContract, EveryCodeHasADistinctName) {
  std::vector<std::string_view> names;
  for (auto code :
       {ErrorCode::not_found, ErrorCode::already_exists, ErrorCode::no_permission, ErrorCode::too_big,
        ErrorCode::unavailable, ErrorCode::needs_sign_in, ErrorCode::quota, ErrorCode::invalid,
        ErrorCode::sync_state_not_found, ErrorCode::not_supported, ErrorCode::internal}) {
    names.push_back(to_string(code));
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
  EXPECT_EQ(names.size(), 11u);
}

TEST(MailErrorContract, MoveOnlyValuesTravelThroughResults) {
  MailResult<std::unique_ptr<int>> result = std::make_unique<int>(5);
  ASSERT_TRUE(result.ok());
  std::unique_ptr<int> taken = std::move(result).value();
  EXPECT_EQ(*taken, 5);
}

}  // namespace
}  // namespace mailtrixy::mail
