#!/usr/bin/env bash
# A release `tally` with the Swift runtime linked in (no Swift toolchain needed where it runs; it
# still needs librdkafka and librocksdb from the system), stripped: .build/static/tally.
# Prints its size and the mean time of 40 `tally --help` launches (perf stat when available).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product tally --static-swift-stdlib --scratch-path .build/static-scratch 2>&1 | tail -1
mkdir -p .build/static
strip -o .build/static/tally .build/static-scratch/release/tally
echo "size: $(stat -c %s .build/static/tally | awk '{printf "%.1f MB", $1 / 1048576}') (.build/static/tally)"
if ldd .build/static/tally | grep -q -E 'libFoundation\.so|_FoundationICU'; then
  echo "error: the executable links full Foundation/ICU" >&2; exit 1
fi
if command -v perf >/dev/null && perf stat -r 40 .build/static/tally --help > /dev/null 2> .build/static/startup.txt; then
  grep elapsed .build/static/startup.txt
else
  python3 - <<'PY'
import statistics, subprocess, time
ts = []
for _ in range(40):
    t = time.perf_counter(); subprocess.run([".build/static/tally", "--help"], stdout=subprocess.DEVNULL); ts.append(time.perf_counter() - t)
print(f"--help: median {statistics.median(ts) * 1000:.1f} ms over 40 launches")
PY
fi
