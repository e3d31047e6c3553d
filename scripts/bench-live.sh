#!/usr/bin/env bash
# Live benchmark, side by side with the peers of ../shared/bench/peers on the same broker and data:
# for each run, a fresh patched mock broker (orders, 4 partitions) loaded with the peers' 1M order
# events by kcat, then `tally run` (release) on bench/queries/{tumbling,hopping}.json. events/s =
# events / (time from the first event counted to the last one), read from GET /queries every 20 ms;
# peak RSS from /usr/bin/time; results checked against the peers' reference.
# Env: RUNS (default 3), QUERIES (default "tumbling hopping"), TALLY (binary; default the release
# build), PEERS (regex passed to run.sh; default: skip the peers, reuse its build), TALLY_ARGS
# (more arguments for every `tally run`, e.g. "--kafka-property consumer.queued.min.messages=50000").
# Works in ./.bench-peers (ignored by git), built by ../shared/bench/peers/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-3}
PEERS_DIR=$(cd ../shared/bench/peers && pwd)
OUT=$ROOT/.bench-peers
bash scripts/install-deps.sh
mkdir -p "$OUT"
command -v kcat >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y -qq kcat >/dev/null; }
# The peers (and the patched broker, data and reference they need).
PEERS=${PEERS:-'^$'} BENCH_OUT=$OUT RUNS=$RUNS bash "$PEERS_DIR/run.sh" > "$OUT/peers.log" 2>&1 || { tail -20 "$OUT/peers.log"; exit 1; }
swift build -c release --product tally 2>&1 | tail -1
# TALLY: the binary to measure (default the release build), e.g. a copy of an earlier build for A/B runs.
TALLY=${TALLY:-$ROOT/.build/release/tally}
N=$(wc -l < "$OUT/data/orders.tsv")
RES=$OUT/data/tally-results.jsonl; : > "$RES"
for run in $(seq "$RUNS"); do
  for q in ${QUERIES:-tumbling hopping}; do
    out_topic=$(python3 -c "import json;print(json.load(open('bench/queries/$q.json'))['name'])")
    "$OUT/build/mockbroker" orders:4 "$out_topic:4" "$out_topic.dlq:1" > "$OUT/data/broker.addr" 2>/dev/null & BPID=$!
    for _ in $(seq 300); do [ -s "$OUT/data/broker.addr" ] && break; sleep 0.1; done
    BS=$(head -1 "$OUT/data/broker.addr")
    [ -n "$BS" ] || { echo "the mock broker gave no address within 30 s" >&2; kill $BPID; exit 1; }
    kcat -P -b "$BS" -t orders -K $'\t' -X linger.ms=100 -X batch.num.messages=10000 \
         -X queue.buffering.max.messages=1000000 -X queue.buffering.max.kbytes=1048576 -l "$OUT/data/orders.tsv"
    rm -rf "$OUT/data/tally-state"
    PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    /usr/bin/time -f '%M' -o "$OUT/data/tally-time.txt" "$TALLY" run --queries "bench/queries/$q.json" \
      --bootstrap "$BS" --state "$OUT/data/tally-state" --http "127.0.0.1:$PORT" ${TALLY_ARGS:-} > /dev/null 2> "$OUT/data/tally.err" & TPID=$!
    python3 - "$PORT" "$N" "$out_topic" > "$OUT/data/tally-rate.json" <<'PY'
import json, sys, time, urllib.request
port, n, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0 = t1 = None
deadline = time.time() + 300
while time.time() < deadline:
    try:
        q = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/queries/{name}", timeout=2))
    except Exception:
        time.sleep(0.02); continue
    seen = q["events"] + q["filtered"] + q["late"] + q["rejected"]
    now = time.time()
    if seen > 0 and t0 is None: t0 = now - 0.02
    if seen >= n: t1 = now; break
    time.sleep(0.02)
print(json.dumps({"seconds": round(t1 - t0, 3), "eps": round(n / (t1 - t0))}))
PY
    pkill -TERM -P $TPID; wait $TPID || true
    kcat -C -b "$BS" -t "$out_topic" -e -q -f '%k\t%s\n' > "$OUT/data/tally-out.tsv"
    kill $BPID; wait $BPID 2>/dev/null || true
    kind=$([ $q = tumbling ] && echo tumbling || echo hopping)
    chk=$(python3 bench/check_tally.py "$OUT/data/expected_$kind.json" "$OUT/data/tally-out.tsv")
    python3 - "$q" "$run" "$(cat "$OUT/data/tally-rate.json")" "$(tail -1 "$OUT/data/tally-time.txt")" "$chk" >> "$RES" <<'PY'
import json, sys
r = json.loads(sys.argv[3]); r.update({"peer": f"tally-{sys.argv[1]}", "run": int(sys.argv[2]),
    "rss_mb": round(int(sys.argv[4]) / 1024, 1), "check": json.loads(sys.argv[5])})
print(json.dumps(r))
PY
    tail -1 "$RES"
  done
done
cat "$OUT/data/results.jsonl" "$RES" > "$OUT/data/all.jsonl" 2>/dev/null || cp "$RES" "$OUT/data/all.jsonl"
python3 "$OUT/summarize.py" "$OUT/data/all.jsonl"
