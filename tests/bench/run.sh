#!/usr/bin/env bash
# make bench: runs every benchmark against the build directory given (default build/).
# Benchmarks print numbers and ratios to a baseline measured in the same run.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/../.."
echo "== store: encryption overhead (baseline: plain RocksDB records) =="
"$build/store_bench" 50000 512
echo "== password hashing (hash-password, scrypt) =="
start=$(date +%s%N)
for _ in 1 2 3 4 5; do echo "bench-password" | "$build/mailtrixy" hash-password >/dev/null; done
echo "  $(( ($(date +%s%N) - start) / 5000000 )) ms per hash-password run (5 runs)"
echo "== emulator: Graph list and \$value requests/s over keep-alive TLS, memory with 100,000 messages =="
python3 tests/bench/emulator_bench.py "$build"
echo "== sync: initial sync of a 10,000-message INBOX, steady-state requests of an idle mailbox =="
python3 tests/bench/sync_bench.py "$build"
echo "== imap: UID FETCH of 10,000 envelopes, SELECT of 100,000, 1,000 idle connections, 10 clients mixed (baseline: Dovecot) =="
python3 tests/bench/imap_bench.py "$build"
echo "== smtp: 1,000 messages of 20 KB from 10 clients through the queue (baseline: direct sendMail) =="
python3 tests/bench/smtp_bench.py "$build"
