#pragma once
// What the crash-test writer (crash_writer.cpp) writes, shared with the test that checks it.
//
// Generation g is one WriteBatch of kKeysPerGeneration records plus the marker
// settings["crash/last"] = g: even items plain in `messages`, odd items encrypted in `bodies`.
// Every third generation is written with sync=true.

#include <cstdio>
#include <string>

namespace mailtrixy::store::crash {

inline constexpr int kKeysPerGeneration = 200;
inline constexpr const char* kLastGenerationKey = "crash/last";

inline std::string record_key(int generation, int item) {
  char key[32];
  std::snprintf(key, sizeof key, "g%08d/%03d", generation, item);
  return key;
}

inline std::string record_value(int generation, int item) {
  // Large enough (~300 bytes) that a batch spans many pages of the write-ahead log.
  return "generation " + std::to_string(generation) + " item " + std::to_string(item) + " " +
         std::string(280, static_cast<char>('a' + (generation + item) % 26));
}

inline bool is_encrypted_item(int item) { return item % 2 == 1; }

}  // namespace mailtrixy::store::crash
