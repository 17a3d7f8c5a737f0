#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz/ (see docs/fuzzing.md). Builds them first with clang
# (+ ASan/UBSan) in build-fuzz/ (FUZZ_BUILD_DIR overrides), only the fuzz targets and what they link.
#
#   scripts/fuzz.sh [TARGET...]          `make fuzz`: each target FUZZ_SECONDS (default 60) on a
#                                        scratch copy of its corpus + regressions; afterwards the
#                                        new inputs that add coverage are merged (-merge=1) into
#                                        tests/fuzz/corpus/TARGET/, so the corpus grows only by
#                                        what is new. Crashes go to tests/fuzz/crashes/ (ignored).
#   scripts/fuzz.sh --brief [TARGET...]  `make test`: each target FUZZ_TEST_SECONDS (default 10) on
#                                        a scratch copy; the tree is not modified. Crash inputs are
#                                        kept in build-fuzz/crashes/.
# Either mode exits non-zero when any target crashes, leaks, trips a sanitizer or times out.
#
# How a crash becomes a regression test:
#   1. Reproduce:  build-fuzz/fuzz_TARGET tests/fuzz/crashes/TARGET-crash-<sha1>   (prints the stack)
#      Minimise:   build-fuzz/fuzz_TARGET -minimize_crash=1 -runs=10000 <file>
#   2. Fix the code under test (not the harness, unless the harness was wrong).
#   3. Copy the input to tests/fuzz/regressions/TARGET/<what-it-was>.bin (a name that says what
#      broke). ctest's fuzz.TARGET.replay runs every file there in the normal and the ASan build;
#      no cmake re-run is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

brief=false
if [ "${1:-}" = "--brief" ]; then
  brief=true
  shift
fi
build=${FUZZ_BUILD_DIR:-build-fuzz}
if $brief; then seconds=${FUZZ_TEST_SECONDS:-10}; else seconds=${FUZZ_SECONDS:-60}; fi

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz.sh: clang++ is not installed; run 'make deps' (it installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi

targets=${*:-$(sed -n 's/^ *mailtrixy_fuzz_target(\([a-z0-9_]*\).*/\1/p' tests/fuzz/CMakeLists.txt)}
if [ -z "$targets" ]; then
  echo "no fuzz targets in tests/fuzz/CMakeLists.txt"
  exit 0
fi

generator=$(command -v ninja >/dev/null 2>&1 && echo "-G Ninja" || true)
if [ ! -f "$build/CMakeCache.txt" ]; then
  # shellcheck disable=SC2086
  CC=clang CXX=clang++ cmake -S . -B "$build" $generator -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMAILTRIXY_FUZZ=ON -DMAILTRIXY_WERROR=OFF
fi
# shellcheck disable=SC2046
cmake --build "$build" -j "$(nproc)" --target $(for t in $targets; do echo "fuzz_$t"; done)

# UBSan reports are errors, not warnings (tests/fuzz/ubsan.supp lists the third-party ones we
# cannot fix, with reasons); leaks are findings too.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/fuzz/ubsan.supp}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/mailtrixy-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
if $brief; then crashes="$build/crashes"; else crashes=tests/fuzz/crashes; fi
mkdir -p "$crashes"

failed=()
for target in $targets; do
  binary="$build/fuzz_$target"
  corpus="tests/fuzz/corpus/$target"
  work="$scratch/$target"
  mkdir -p "$work" "$corpus"
  cp -r "$corpus/." "$work/"
  # The regressions seed the run too (read only: libFuzzer writes new inputs to the first directory).
  regressions=()
  if [ -d "tests/fuzz/regressions/$target" ]; then regressions=("tests/fuzz/regressions/$target"); fi
  echo "== fuzz_$target for $seconds s =="
  # -timeout: one input running this long is a hang. The run's own log is kept short: libFuzzer
  # prints its final stats (exec/s, cov:, corpus size) at the end.
  if ! "$binary" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$crashes/$target-" "$work" "${regressions[@]}" \
    </dev/null 2>"$scratch/$target.log"; then
    tail -n 60 "$scratch/$target.log"
    echo "fuzz_$target FAILED: the input is in $crashes/ (see the top of scripts/fuzz.sh)" >&2
    failed+=("$target")
    continue
  fi
  grep -E '^#[0-9]+.*(DONE|pulse)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
    "$scratch/$target.log" | tail -n 4 || true
  if ! $brief; then
    # Only inputs that add coverage to the kept corpus move into it.
    before=$(find "$corpus" -type f | wc -l)
    "$binary" -merge=1 -timeout=25 -max_len=65536 "$corpus" "$work" 2>"$scratch/$target.merge.log" ||
      { tail -n 20 "$scratch/$target.merge.log"; failed+=("$target (merge)"); continue; }
    echo "corpus/$target: $before -> $(find "$corpus" -type f | wc -l) files"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: no crashes in $(echo "$targets" | wc -w) targets"
