#!/usr/bin/env bash
# State larger than memory (issue 5): `tally test` over one tumbling hour of KEYS distinct
# customers (each orders once, then REPEATS more orders of random earlier customers), with and
# without --memory-budget; prints time and peak RSS of both and checks that their outputs agree
# (same windows, values equal to 1e-9). Env: KEYS (10000000), REPEATS (KEYS/5), BUDGET (64MB),
# TALLY (binary, default the release build), WORK (folder, default a temporary one, removed).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TALLY="${TALLY:-$ROOT/.build/release/tally}"
KEYS="${KEYS:-10000000}"
REPEATS="${REPEATS:-$((KEYS / 5))}"
BUDGET="${BUDGET:-64MB}"
WORK="${WORK:-}"
if [ -z "$WORK" ]; then WORK="$(mktemp -d /tmp/tally-spill.XXXXXX)"; trap 'rm -rf "$WORK"' EXIT; fi
mkdir -p "$WORK"; cd "$WORK"

python3 - "$KEYS" "$REPEATS" > events.jsonl <<'PY'
import random, sys
random.seed(42)
n, r = int(sys.argv[1]), int(sys.argv[2])
base = 1_700_002_800_000 - 1_700_002_800_000 % 3_600_000
step = 3_000_000 / (n + r)          # 50 minutes of event time, one tumbling hour
out = sys.stdout
buf = []
for i in range(n + r):
    c = i if i < n else random.randrange(n)
    buf.append('{"event_type":"OrderCreated","customer_id":"c%d","total":%d.%02d,"ts":%d}\n'
               % (c, random.randint(1, 999), random.randint(0, 99), base + int(i * step) + random.randint(0, 500)))
    if len(buf) >= 100000:
        out.write(''.join(buf)); buf = []
buf.append('{"event_type":"Flush","customer_id":"c0","ts":%d}\n' % (base + 36_000_000))
out.write(''.join(buf))
PY
cat > q.json <<'JSON'
{"name":"per_customer","source":"orders","where":[{"field":"event_type","op":"eq","value":"OrderCreated"}],
 "groupBy":["customer_id"],"time":{"field":"ts","format":"epoch_ms"},
 "window":{"type":"tumbling","size":"1h","grace":"2s"},
 "aggregates":[{"name":"n","fn":"count"},{"name":"revenue","fn":"sum","field":"total"},
   {"name":"avg_total","fn":"avg","field":"total"},{"name":"min_total","fn":"min","field":"total"},
   {"name":"max_total","fn":"max","field":"total"}]}
JSON

measure() {  # name, then tally test arguments
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$name.time" "$TALLY" test q.json --input events.jsonl "$@" > "$name.jsonl" 2> "$name.err"
  read -r secs kb < "$name.time"
  printf '%-28s %8.1f s   peak RSS %6d MB   %s\n' "$name" "$secs" "$((kb / 1024))" "$(grep -h 'spilled' "$name.err" || true)"
}
echo "$((KEYS + REPEATS)) events, $KEYS distinct customers, one tumbling hour"
measure "no budget"
measure "budget $BUDGET" --memory-budget "$BUDGET" --state spill-state
LC_ALL=C sort -S 2G -o a.sorted "no budget.jsonl"
LC_ALL=C sort -S 2G -o b.sorted "budget $BUDGET.jsonl"
python3 - a.sorted b.sorted <<'PY'
import json, sys
n = diff = 0
with open(sys.argv[1]) as a, open(sys.argv[2]) as b:
    for la, lb in zip(a, b):
        n += 1
        if la == lb: continue
        ra, rb = json.loads(la), json.loads(lb)
        same = ra["key"] == rb["key"] and ra["window"] == rb["window"] and all(
            (x is None and y is None) or (x is not None and y is not None and abs(x - y) <= 1e-9 * max(1, abs(x)))
            for x, y in ((ra["values"][k], rb["values"][k]) for k in ra["values"]))
        diff += not same
    extra = sum(1 for _ in a) + sum(1 for _ in b)
print(f"outputs: {n} windows compared, {diff} differ, {extra} unmatched" + (" -> exact" if diff == extra == 0 else " -> DIFFERENT"))
sys.exit(1 if diff or extra else 0)
PY
