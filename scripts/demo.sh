#!/usr/bin/env bash
# The demo: validates the example definitions, then runs them live on an embedded broker loaded
# with data/orders.jsonl, serving HTTP on 127.0.0.1:8080 until Ctrl-C (a final checkpoint, then exit).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product tally 2>&1 | tail -1
TALLY=.build/release/tally
HTTP=${HTTP:-127.0.0.1:8080}
echo "== tally check queries/"
$TALLY check queries/
cat <<MSG
== tally run --queries queries/ --replay data/orders.jsonl --state .tally-demo/state --http $HTTP
   In another terminal, try:
     curl -s http://$HTTP/health
     curl -s http://$HTTP/queries
     curl -s http://$HTTP/queries/revenue_per_customer/keys/c42
     curl -s http://$HTTP/queries/paid_by_region_tier/keys/eu/gold
     curl -s http://$HTTP/metrics | grep tally_
   Ctrl-C stops it after a final checkpoint; run the same command again and it resumes from there.
MSG
mkdir -p .tally-demo
exec $TALLY run --queries queries/ --replay data/orders.jsonl --state .tally-demo/state --http "$HTTP"
