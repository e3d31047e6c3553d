#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, and runs every test on the development
# broker; then the suites that start the executable once more against a release build, the build
# users run (the optimizer may end an object's life right after its last use, which debug builds
# never do); then the suites that start brokers once more on a real Kafka-protocol broker (Tansu,
# with the librdkafka that talks to it). TALLY_SKIP_TANSU=1 leaves that last run out.
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
if [ "${TALLY_SKIP_TANSU:-}" != 1 ]; then
  # Suites whose tests start a broker through TestBroker (the choice of broker is theirs).
  brokered=$(grep -rlE 'TestBroker\(|ScaleOutTests\.Cluster\(' Tests | xargs grep -hoE '@Suite[^{]*struct [A-Za-z]+' \
      | sed -E 's/.*struct //' | sort -u | paste -sd'|')
  tansu="$(bash scripts/install-tansu.sh)"
  TALLY_TEST_BROKER=tansu TALLY_TANSU="$tansu/bin/tansu" LD_LIBRARY_PATH="$tansu/lib" \
    swift test --skip-build --filter "$brokered"
fi
