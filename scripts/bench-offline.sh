#!/usr/bin/env bash
# Offline benchmark: `tally test` (release) over 1M order events, tumbling 60 s and hopping 5 m / 1 m
# per customer (the queries of ../shared/bench/peers), output to /dev/null. Prints the median of RUNS.
# Env: N (events, default 1000000), RUNS (default 5). Works in .bench/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}; RUNS=${RUNS:-5}
bash scripts/install-deps.sh
swift build -c release --product tally 2>&1 | tail -1
mkdir -p .bench
DATA=.bench/orders-$N.jsonl
[ -f "$DATA" ] || python3 data/generate.py "$N" "$DATA" --compact
printf "%-10s %10s %14s %s\n" query median_s events_per_s runs_s
for q in tumbling hopping; do
  times=()
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s.%N)
    .build/release/tally test "bench/queries/$q.json" --input "$DATA" > /dev/null 2> .bench/last.err
    t1=$(date +%s.%N)
    times+=("$(python3 -c "print($t1 - $t0)")")
  done
  python3 - "$q" "$N" "${times[@]}" <<'PY'
import statistics, sys
q, n, ts = sys.argv[1], int(sys.argv[2]), [float(t) for t in sys.argv[3:]]
m = statistics.median(ts)
print(f"{q:<10} {m:10.3f} {n / m:14,.0f} {' '.join(f'{t:.3f}' for t in ts)}")
PY
done
tail -1 .bench/last.err
