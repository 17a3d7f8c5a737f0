// What encryption costs the store: the same records written and read through the plain API
// (baseline) and through the AES-256-GCM layer, in one run, reported as ratios.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "mailtrixy/crypto/random.hpp"
#include "mailtrixy/store/store.hpp"

namespace {

using mailtrixy::store::Family;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

template <typename Body>
double ops_per_second(int count, Body body) {
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) body(i);
  return count / seconds_since(start);
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "store_bench: %s failed\n", what);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int records = argc > 1 ? std::atoi(argv[1]) : 50000;
  const std::size_t value_size = argc > 2 ? static_cast<std::size_t>(std::atoi(argv[2])) : 512;
  char pattern[] = "/tmp/mailtrixy-bench-XXXXXX";
  const std::filesystem::path dir = ::mkdtemp(pattern);

  auto store = mailtrixy::store::Store::open(
      mailtrixy::store::OpenOptions{.data_dir = dir, .key = mailtrixy::crypto::Key::generate(), .read_only = false, .migrations = {}});
  check(store.ok(), "open");
  auto& db = **store;
  const std::string value = mailtrixy::crypto::random_bytes(value_size);
  std::vector<std::string> keys;
  keys.reserve(static_cast<std::size_t>(records));
  for (int i = 0; i < records; ++i) keys.push_back("account/" + std::to_string(i));

  const double plain_put = ops_per_second(records, [&](int i) {
    check(db.put(Family::messages, keys[static_cast<std::size_t>(i)], value).ok(), "put");
  });
  const double sealed_put = ops_per_second(records, [&](int i) {
    check(db.put_encrypted(Family::bodies, keys[static_cast<std::size_t>(i)], value).ok(), "put_encrypted");
  });
  const double plain_get = ops_per_second(records, [&](int i) {
    check(db.get(Family::messages, keys[static_cast<std::size_t>(i)]).ok(), "get");
  });
  const double sealed_get = ops_per_second(records, [&](int i) {
    check(db.get_encrypted(Family::bodies, keys[static_cast<std::size_t>(i)]).ok(), "get_encrypted");
  });
  const auto batch_start = Clock::now();
  constexpr int kBatches = 200;
  for (int b = 0; b < kBatches; ++b) {
    auto batch = db.batch();
    for (int i = 0; i < 100; ++i) batch.put_encrypted(Family::tokens, "batch/" + std::to_string(b * 100 + i), value);
    check(db.write(batch, true).ok(), "write");
  }
  const double synced_batches = kBatches / seconds_since(batch_start);

  std::printf("store_bench: %d records of %zu bytes\n", records, value_size);
  std::printf("  put           plain %10.0f ops/s   encrypted %10.0f ops/s   encrypted/plain %.2f\n", plain_put,
              sealed_put, sealed_put / plain_put);
  std::printf("  get           plain %10.0f ops/s   encrypted %10.0f ops/s   encrypted/plain %.2f\n", plain_get,
              sealed_get, sealed_get / plain_get);
  std::printf("  synced batch of 100 encrypted puts: %.0f batches/s\n", synced_batches);
  store->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
