# The project's front door. `make run` and `make test` do all set-up on a fresh Debian 12 machine.
# Build directories: build/ (RelWithDebInfo) and build-asan/ (AddressSanitizer + UBSan).

JOBS      ?= $(shell nproc)
CONFIG    ?= config/mailtrixy.yaml
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
CTEST_ARGS ?= --output-on-failure

.PHONY: all deps build build-asan run test test-unit test-asan bench fuzz clean demo browser-deps soak chaos

all: build

deps:
	@scripts/deps.sh

build/CMakeCache.txt:
	cmake -S . -B build $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build-asan/CMakeCache.txt:
	cmake -S . -B build-asan $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DMAILTRIXY_SANITIZE=ON

build: deps build/CMakeCache.txt
	cmake --build build -j $(JOBS)

build-asan: deps build-asan/CMakeCache.txt
	cmake --build build-asan -j $(JOBS)

run: build
	./build/mailtrixy serve --config $(CONFIG)

# The offline demo: the emulator with a demo mailbox plus the bridge configured for it
# (scripts/demo.sh prints the URL and the demo login; Ctrl-C stops both).
demo: deps build/CMakeCache.txt
	cmake --build build -j $(JOBS) --target mailtrixy mailtrixy-emulator
	scripts/demo.sh

# playwright-core for the browser test (tests/browser); npm ci writes node_modules/.package-lock.json,
# so this reruns only when the lock file changes or node_modules is gone.
tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund

browser-deps: tests/browser/node_modules/.package-lock.json

# Every test, in the normal build and again under ASan+UBSan, then every fuzz target briefly
# (FUZZ_TEST_SECONDS each, default 10, on a scratch copy of its corpus; scripts/fuzz.sh --brief).
test: build build-asan browser-deps
	ctest --test-dir build $(CTEST_ARGS) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-asan $(CTEST_ARGS) -j $(JOBS)
	scripts/fuzz.sh --brief

test-unit: build
	ctest --test-dir build $(CTEST_ARGS) -j $(JOBS) -L unit

bench: build
	tests/bench/run.sh build

# Load and soak (docs/soak.md): 1,000 IMAP connections and 10 SMTP senders against the emulator,
# SOAK_SECONDS (default 600) long; SOAK_CONNECTIONS, SOAK_ACCOUNTS, SOAK_SMTP_SENDERS scale it.
soak: build
	python3 tests/soak/soak.py --build build

# Crash and Graph-fault testing (docs/chaos.md): CHAOS_ROUNDS kill -9 rounds (default 30; CHAOS_SEED
# repeats a sequence), then every Graph fault against every operation.
chaos: build
	python3 tests/chaos/chaos.py --build-dir build $(if $(CHAOS_ROUNDS),--rounds $(CHAOS_ROUNDS)) \
	  $(if $(CHAOS_SEED),--seed $(CHAOS_SEED))

# Every fuzz target with libFuzzer for FUZZ_SECONDS each (default 60), merging what adds coverage
# into tests/fuzz/corpus/; see scripts/fuzz.sh and docs/fuzzing.md.
fuzz: deps
	scripts/fuzz.sh

clean:
	rm -rf build build-asan build-fuzz
