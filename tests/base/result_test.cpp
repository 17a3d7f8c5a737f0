#include "mailtrixy/base/result.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace mailtrixy {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return make_error("value must be positive");
  return v;
}

TEST(Result, CarriesValueOrError) {
  const auto good = parse_positive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  const auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "value must be positive");
}

TEST(Result, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  const std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(Result, VoidSpecialisation) {
  const Result<void> ok;
  EXPECT_TRUE(ok.ok());
  const Result<void> bad = make_error("nope");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "nope");
}

}  // namespace
}  // namespace mailtrixy
