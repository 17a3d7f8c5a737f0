// Many threads writing and reading one Store at once.

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "mailtrixy/store/store.hpp"
#include "test_support.hpp"

namespace mailtrixy::store {
namespace {

std::string record_key(int thread, int batch) {
  return "t" + std::to_string(thread) + "/" + std::to_string(batch);
}

TEST(StoreConcurrency, ParallelWritersAndReadersStayConsistent) {
  constexpr int kWriters = 8;
  constexpr int kBatchesPerWriter = 1000;
  testing::TempDir temp;
  const crypto::Key key = crypto::Key::generate();
  auto opened = Store::open(testing::options_for(temp.path(), key));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Store& store = **opened;

  std::atomic<int> writers_done{0};
  std::atomic<int> failures{0};
  std::atomic<long> reader_checks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatchesPerWriter; ++b) {
        // Each batch: a plain record, its encrypted twin and the writer's progress marker.
        WriteBatch batch = store.batch();
        batch.put(Family::accounts, record_key(t, b), "account " + record_key(t, b));
        batch.put_encrypted(Family::tokens, record_key(t, b), "token " + record_key(t, b));
        batch.put(Family::settings, "last/" + std::to_string(t), std::to_string(b));
        if (!store.write(batch, b % 100 == 0).ok()) ++failures;
      }
      ++writers_done;
    });
  }
  // Readers check the batch invariant while writes are in flight: once a writer's marker says
  // batch b is written, both records of b are visible and open correctly.
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 random(static_cast<unsigned>(r));
      while (writers_done.load() < kWriters) {
        const int t = static_cast<int>(random() % kWriters);
        const auto marker = store.get(Family::settings, "last/" + std::to_string(t));
        if (!marker.ok()) {
          ++failures;
          continue;
        }
        if (!marker->has_value()) continue;
        const int b = std::stoi(**marker);
        const auto account = store.get(Family::accounts, record_key(t, b));
        const auto token = store.get_encrypted(Family::tokens, record_key(t, b));
        if (!account.ok() || !token.ok() || *account != "account " + record_key(t, b) ||
            *token != "token " + record_key(t, b)) {
          ++failures;
        }
        ++reader_checks;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reader_checks.load(), 0);

  for (int t = 0; t < kWriters; ++t) {
    EXPECT_EQ(store.get(Family::settings, "last/" + std::to_string(t)).value(),
              std::to_string(kBatchesPerWriter - 1));
    int accounts = 0, tokens = 0;
    const std::string prefix = "t" + std::to_string(t) + "/";
    ASSERT_TRUE(store.for_each_prefix(Family::accounts, prefix, [&](std::string_view k, std::string_view v) {
                       EXPECT_EQ(v, "account " + std::string(k));
                       ++accounts;
                       return true;
                     }).ok());
    ASSERT_TRUE(store.for_each_prefix_encrypted(Family::tokens, prefix, [&](std::string_view k, std::string_view v) {
                       EXPECT_EQ(v, "token " + std::string(k));
                       ++tokens;
                       return true;
                     }).ok());
    EXPECT_EQ(accounts, kBatchesPerWriter);
    EXPECT_EQ(tokens, kBatchesPerWriter);
  }
}

}  // namespace
}  // namespace mailtrixy::store
