#!/usr/bin/env bash
# `tally bench` on a real Kafka-protocol broker: starts Tansu (scripts/install-tansu.sh) on a free
# port with the topics the bench needs, runs the live and latency steps with librdkafka 2.16, and
# stops it. Extra arguments go to `tally bench` (e.g. --runs 5). Needs a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
tansu="$(bash scripts/install-tansu.sh)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
url="tcp://127.0.0.1:$port"
RUST_LOG=warn "$tansu/bin/tansu" broker --listener-url "$url" --advertised-listener-url "$url" \
  --storage-engine memory://tansu/ >/dev/null 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
topics="orders:8 orders_agg:8 orders_agg_hop:8 orders_agg.dlq:1 orders_agg_hop.dlq:1 latency_agg:8 latency_agg.dlq:1"
for r in $(seq 1 10); do topics="$topics bench_latency_$r:8"; done
for t in $topics; do
  "$tansu/bin/tansu" topic create --broker "$url" --partitions "${t#*:}" "${t%%:*}" >/dev/null
done
LD_LIBRARY_PATH="$tansu/lib" .build/release/tally bench --bootstrap "127.0.0.1:$port" --steps live,latency "$@"
