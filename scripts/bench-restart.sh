#!/bin/bash
# Restart time with 1M windows in state (issue 5): 1M events with 1M distinct customers in one
# open minute go through `tally run` (release) on bench/queries/tumbling.json; after SIGTERM (final
# checkpoint) the engine is started again 3 times on the same state, each timed from launch to
# /health 200. Works in a temporary folder; needs the release build.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=${TALLY:-$ROOT/.build/release/tally}
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
W=$(mktemp -d /tmp/tally-restart.XXXXXX); trap 'rm -rf "$W"' EXIT; cd "$W"
python3 - <<'PY'
import random
base = 1764000000000
with open("events.jsonl", "w") as f:
    for i in range(1000000):
        f.write('{"event_type":"OrderCreated","customer_id":"k%d","total":%.2f,"timestamp":%d}\n' % (i, random.uniform(1, 500), base + (i % 50000)))
PY
$T broker --topic orders:8 --topic orders_agg:8 --topic orders_agg.dlq:1 > broker.out 2>/dev/null & BP=$!
for i in $(seq 100); do [ -s broker.out ] && break; sleep 0.1; done; BS=$(head -1 broker.out)
$T run --queries $ROOT/bench/queries/tumbling.json --bootstrap $BS --state st --http 127.0.0.1:$PORT > /dev/null 2> run1.err & TP=$!
sleep 2
$T produce --bootstrap $BS --topic orders --key-field customer_id events.jsonl 2>&1 | tail -1
for i in $(seq 120); do n=$(curl -s localhost:$PORT/queries/orders_agg | python3 -c 'import json,sys; q=json.load(sys.stdin); print(q["events"])' 2>/dev/null || echo 0); [ "$n" = 1000000 ] && break; sleep 1; done
echo "counted $n; slices open: $(curl -s localhost:$PORT/metrics | grep tally_window_slices_open)"
kill -TERM $TP; wait $TP; echo "stopped: $(tail -1 run1.err | cut -c1-120)"
du -sh st
for r in 1 2 3; do
  t0=$(date +%s.%N)
  $T run --queries $ROOT/bench/queries/tumbling.json --bootstrap $BS --state st --http 127.0.0.1:$PORT > /dev/null 2> run2.err & TP=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' localhost:$PORT/health)" = 200 ]; do sleep 0.01; done
  t1=$(date +%s.%N)
  echo "restart $r: $(python3 -c "print(round($t1-$t0,3))") s to /health 200; $(grep -a 'restored' run2.err | sed 's/.*\] //')"
  kill -TERM $TP; wait $TP
done
kill $BP
