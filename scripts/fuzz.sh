#!/usr/bin/env bash
# make fuzz: builds every fuzz target with clang + libFuzzer (+ ASan/UBSan) in build-fuzz/ and runs
# each for FUZZ_SECONDS (default 60) on its corpus in tests/fuzz/corpus/<name>/. New interesting
# inputs are added to the corpus; crashes are written to tests/fuzz/crashes/ — copy each one into
# the target's corpus once fixed, so that `make test` replays it for ever.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
generator=$(command -v ninja >/dev/null 2>&1 && echo "-G Ninja" || true)
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz $generator -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMAILTRIXY_FUZZ=ON -DMAILTRIXY_WERROR=OFF
fi
targets=$(sed -n 's/^ *mailtrixy_fuzz_target(\([a-z0-9_]*\).*/\1/p' tests/fuzz/CMakeLists.txt)
if [ -z "$targets" ]; then
  echo "no fuzz targets in tests/fuzz/CMakeLists.txt"
  exit 0
fi
cmake --build build-fuzz -j "$(nproc)" --target $(for t in $targets; do echo "fuzz_$t"; done)
mkdir -p tests/fuzz/crashes
for target in $targets; do
  echo "== fuzz_$target for $seconds s =="
  mkdir -p "tests/fuzz/corpus/$target"
  ./build-fuzz/fuzz_"$target" -max_total_time="$seconds" -artifact_prefix="tests/fuzz/crashes/$target-" \
    -max_len=65536 "tests/fuzz/corpus/$target"
done
