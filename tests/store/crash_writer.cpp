// The victim of store_test's crash test: opens the store and writes generation after
// generation (see crash_protocol.hpp) until it is killed, appending each committed generation
// number to a progress file.
//
// usage: store_crash_writer DATA_DIR MASTER_KEY_HEX PROGRESS_FILE

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <string>

#include "crash_protocol.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/store/store.hpp"

using namespace mailtrixy;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DATA_DIR MASTER_KEY_HEX PROGRESS_FILE\n", argv[0]);
    return 2;
  }
  auto key_bytes = crypto::hex_decode(argv[2]);
  if (!key_bytes) {
    std::fprintf(stderr, "bad key: %s\n", key_bytes.error().message.c_str());
    return 2;
  }
  auto key = crypto::Key::from_bytes(*key_bytes);
  if (!key) {
    std::fprintf(stderr, "bad key: %s\n", key.error().message.c_str());
    return 2;
  }
  const int progress = ::open(argv[3], O_WRONLY | O_APPEND | O_CLOEXEC);
  if (progress < 0) {
    std::perror("progress file");
    return 2;
  }
  auto opened = store::Store::open(
      store::OpenOptions{.data_dir = argv[1], .key = *key, .read_only = false, .migrations = {}});
  if (!opened) {
    std::fprintf(stderr, "open failed: %s\n", opened.error().message.c_str());
    return 3;
  }
  store::Store& db = **opened;

  int generation = 0;
  const auto last = db.get(store::Family::settings, store::crash::kLastGenerationKey);
  if (!last) {
    std::fprintf(stderr, "read failed: %s\n", last.error().message.c_str());
    return 3;
  }
  if (last->has_value()) {
    const std::string& text = **last;
    std::from_chars(text.data(), text.data() + text.size(), generation);
    ++generation;
  }

  for (;; ++generation) {
    store::WriteBatch batch = db.batch();
    for (int item = 0; item < store::crash::kKeysPerGeneration; ++item) {
      const std::string key_text = store::crash::record_key(generation, item);
      const std::string value = store::crash::record_value(generation, item);
      if (store::crash::is_encrypted_item(item)) {
        batch.put_encrypted(store::Family::bodies, key_text, value);
      } else {
        batch.put(store::Family::messages, key_text, value);
      }
    }
    batch.put(store::Family::settings, store::crash::kLastGenerationKey, std::to_string(generation));
    if (auto written = db.write(batch, generation % 3 == 0); !written) {
      std::fprintf(stderr, "write failed: %s\n", written.error().message.c_str());
      return 3;
    }
    const std::string line = std::to_string(generation) + "\n";
    if (::write(progress, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 4;
  }
}
