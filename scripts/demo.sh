#!/usr/bin/env bash
# The demo: validates the example definitions and runs each over the sample events offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product tally 2>&1 | tail -1
TALLY=.build/release/tally
echo "== tally check queries/"
$TALLY check queries/
for q in queries/*.json; do
  name=$(basename "$q" .json)
  echo "== tally test $q --input data/orders.jsonl  (first 3 of the results; all in .tally-demo/$name.jsonl)"
  mkdir -p .tally-demo
  $TALLY test "$q" --input data/orders.jsonl --dead-letter ".tally-demo/$name.dlq.jsonl" > ".tally-demo/$name.jsonl"
  head -3 ".tally-demo/$name.jsonl"
done
