// A writer killed with SIGKILL in the middle of large batches leaves every batch either fully
// present or fully absent, and loses nothing it reported as written.

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "crash_protocol.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/store/store.hpp"
#include "test_support.hpp"

namespace mailtrixy::store {
namespace {

using namespace std::chrono_literals;

// The number on the last complete line of the progress file, or -1.
int last_reported_generation(const std::filesystem::path& path) {
  const std::string text = testing::read_file(path);
  int generation = -1;
  std::size_t start = 0;
  for (std::size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    std::from_chars(text.data() + start, text.data() + end, generation);
    start = end + 1;
  }
  return generation;
}

// Kills and reaps the writer however the test ends, so no process outlives a failed assertion.
class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (pid_ > 0) kill_and_wait();
  }
  pid_t pid() const { return pid_; }
  // The wait status, after SIGKILL if it was still running.
  int kill_and_wait() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  // True (and the wait status) when it has already ended.
  bool ended(int& status) {
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    pid_ = -1;
    return true;
  }

 private:
  pid_t pid_;
};

int parse_generation(std::string_view key) {
  int generation = -1;
  if (key.size() > 1 && key[0] == 'g') std::from_chars(key.data() + 1, key.data() + 9, generation);
  return generation;
}

// Checks that generations 0..last are complete and nothing beyond exists (a batch in flight
// vanished entirely); returns last, or -2 after a failed check.
int check_generations(const Store& store) {
  const auto last_text = store.get(Family::settings, crash::kLastGenerationKey);
  EXPECT_TRUE(last_text.ok());
  if (!last_text.ok() || !last_text->has_value()) {
    ADD_FAILURE() << "no generation marker";
    return -2;
  }
  const int last = std::stoi(**last_text);
  std::map<int, int> plain_count, encrypted_count;
  const auto count = [&](std::map<int, int>& counts) {
    return [&counts](std::string_view k, std::string_view v) {
      const int generation = parse_generation(k);
      const int item = std::stoi(std::string(k.substr(10)));
      EXPECT_EQ(v, crash::record_value(generation, item)) << k;
      ++counts[generation];
      return true;
    };
  };
  EXPECT_TRUE(store.for_each_prefix(Family::messages, "g", count(plain_count)).ok());
  const auto decrypted = store.for_each_prefix_encrypted(Family::bodies, "g", count(encrypted_count));
  EXPECT_TRUE(decrypted.ok()) << decrypted.error().message;

  const int half = crash::kKeysPerGeneration / 2;
  EXPECT_EQ(static_cast<int>(plain_count.size()), last + 1);
  EXPECT_EQ(static_cast<int>(encrypted_count.size()), last + 1);
  for (int generation = 0; generation <= last; ++generation) {
    EXPECT_EQ(plain_count[generation], half) << "generation " << generation;
    EXPECT_EQ(encrypted_count[generation], half) << "generation " << generation;
  }
  for (const auto* counts : {&plain_count, &encrypted_count}) {
    const int newest = counts->empty() ? -1 : counts->rbegin()->first;
    EXPECT_LE(newest, last) << "records of generation " << newest << " exist, yet the batch "
                            << "that wrote them also moved the marker, which says " << last;
  }
  return ::testing::Test::HasFailure() ? -2 : last;
}

TEST(StoreCrash, BatchesAreAllOrNothingAfterKill9) {
  testing::TempDir temp;
  const auto data_dir = temp.path() / "data";
  const crypto::Key key = crypto::Key::generate();
  const std::string key_hex = crypto::hex_encode(key.reveal());
  const std::string writer = MAILTRIXY_STORE_CRASH_WRITER;
  const std::string data_dir_text = data_dir.string();

  int previous_last = -1;
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const auto progress_path = temp.path() / ("progress-" + std::to_string(round));
    std::ofstream(progress_path).close();
    const std::string progress_text = progress_path.string();
    // Everything the child needs is prepared before fork(): between fork and exec it may only
    // call async-signal-safe functions.
    std::vector<char*> args = {const_cast<char*>(writer.c_str()), const_cast<char*>(data_dir_text.c_str()),
                               const_cast<char*>(key_hex.c_str()), const_cast<char*>(progress_text.c_str()),
                               nullptr};
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execv(writer.c_str(), args.data());
      ::_exit(127);
    }
    ChildProcess child(pid);

    // Wait until the writer is committing batches, then let it run a while and kill it.
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    bool started = false;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (last_reported_generation(progress_path) > previous_last) {
        started = true;
        break;
      }
      if (child.ended(status)) break;
      std::this_thread::sleep_for(5ms);
    }
    ASSERT_TRUE(started) << "the writer did not start writing (wait status " << status << ")";
    const auto kill_at = std::chrono::steady_clock::now() + 300ms + round * 37ms;
    if (round == 0) {
      // While the writer runs: a second writer is turned away, and a reader sees whole batches
      // only, also after catching up with the writer.
      const auto second_writer = Store::open(testing::options_for(data_dir, key));
      ASSERT_FALSE(second_writer.ok());
      EXPECT_NE(second_writer.error().message.find("in use by another process"), std::string::npos)
          << second_writer.error().message;
      auto reader = Store::open(testing::options_for(data_dir, key, true));
      ASSERT_TRUE(reader.ok()) << reader.error().message;
      const int seen = check_generations(**reader);
      EXPECT_GE(seen, 0);
      std::this_thread::sleep_for(50ms);
      ASSERT_TRUE((*reader)->refresh().ok());
      EXPECT_GE(check_generations(**reader), seen);
    }
    std::this_thread::sleep_until(kill_at);
    status = child.kill_and_wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the writer ended on its own (status " << status << ")";
    const int reported = last_reported_generation(progress_path);

    auto opened = Store::open(testing::options_for(data_dir, key));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    const int last = check_generations(**opened);
    // Nothing the writer saw committed is lost: a non-synced write survives a process crash.
    EXPECT_GE(last, reported);
    EXPECT_GT(last, previous_last) << "no progress this round";
    previous_last = last;
    RecordProperty("round_" + std::to_string(round) + "_generations", last + 1);
  }
}

}  // namespace
}  // namespace mailtrixy::store
