# The project's front door. `make run` and `make test` do all set-up on a fresh Debian 12 machine.
# Build directories: build/ (RelWithDebInfo) and build-asan/ (AddressSanitizer + UBSan).

JOBS      ?= $(shell nproc)
CONFIG    ?= config/mailtrixy.yaml
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
CTEST_ARGS ?= --output-on-failure

.PHONY: all deps build build-asan run test test-unit test-asan bench clean

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

# Every test, in the normal build and again under ASan+UBSan.
test: build build-asan
	ctest --test-dir build $(CTEST_ARGS) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-asan $(CTEST_ARGS) -j $(JOBS)

test-unit: build
	ctest --test-dir build $(CTEST_ARGS) -j $(JOBS) -L unit

bench: build
	tests/bench/run.sh build

clean:
	rm -rf build build-asan
