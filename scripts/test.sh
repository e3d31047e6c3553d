#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, and runs every test; then the suites
# that run the `tally` executable once more against a release build, the build users run (the
# optimizer may end an object's life right after its last use, which debug builds never do).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
swift test --skip-build
swift build -c release --product tally
# Suites whose tests start the executable (TallyBinary, ChildProcess), by name.
suites=$(grep -rlE 'TallyBinary|ChildProcess\(' Tests | xargs grep -hoE '@Suite[^{]*struct [A-Za-z]+' \
    | sed -E 's/.*struct //' | sort -u | paste -sd'|')
TALLY_BIN="$PWD/.build/release/tally" swift test --skip-build --filter "$suites"
