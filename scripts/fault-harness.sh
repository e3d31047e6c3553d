#!/usr/bin/env bash
# Fault-injection harness, long form: streams EVENTS generated events (default 1,000,000) into
# `tally broker` while a release `tally run` processes them, SIGKILLs the engine KILLS times
# (default 100) at random moments and at every failpoint, then checks every final result, every
# dead letter and the accounting identity of two definitions against a plain reference.
# The short form (24k events, 8 kills) runs in `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product tally 2>&1 | tail -1
swift build --build-tests 2>&1 | tail -1
TALLY_BIN="$PWD/.build/release/tally" \
TALLY_FAULT_EVENTS="${EVENTS:-1000000}" TALLY_FAULT_KILLS="${KILLS:-100}" TALLY_FAULT_SEED="${SEED:-11}" \
  swift test --skip-build --filter 'FaultInjectionTests/nothingLost' 2>&1 | grep -E 'fault harness|✔|✘|passed|failed' 
