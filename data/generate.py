#!/usr/bin/env python3
"""Deterministic order events for Tally's demo, tests and benchmark.

Usage: generate.py [N] [OUT] [--bad K] [--seed S]
  N     events (default 20000)        OUT  output file (default data/orders.jsonl; - for stdout)
  --bad K   also insert K malformed lines (default 0) at fixed pseudo-random places
  --compact only the fields of ../shared/bench/peers/gen.py, 10,000 customers (the benchmark's shape)
Each line is one JSON object:
  {"event_type":"OrderCreated","order_id":1000000,"customer_id":"c42","total":123.45,"items":3,
   "timestamp":1764000000000,"region":"eu","customer":{"tier":"gold"},"created_at":"2025-11-24T16:00:00.000Z"}
Events are about 2 ms apart in event time with +-500 ms of disorder (as ../shared/bench/peers/gen.py),
so the field names match the peer benchmark's queries.
"""
import datetime, random, sys

flags = {"--bad", "--seed"}
argv = sys.argv[1:]
opts, args, i = {}, [], 0
while i < len(argv):
    if argv[i] in flags: opts[argv[i]] = argv[i + 1]; i += 2
    elif argv[i].startswith("--"): opts[argv[i]] = True; i += 1
    else: args.append(argv[i]); i += 1
COMPACT = "--compact" in opts
N = int(args[0]) if args else 20000
OUT = args[1] if len(args) > 1 else "data/orders.jsonl"
BAD = int(opts.get("--bad", 0))
rng = random.Random(int(opts.get("--seed", 7)))

BASE_MS = 1_764_000_000_000
TYPES, WEIGHTS = ("OrderCreated", "OrderShipped", "OrderCancelled"), (0.6, 0.3, 0.1)
REGIONS = ("eu", "us", "apac")
TIERS = ("gold", "silver", "bronze")
BROKEN = ['{"event_type":"OrderCreated","customer_id":"c1","total":', 'not json at all',
          '["an","array"]', '{"event_type":"OrderCreated","customer_id":"c2","total":"12.5","timestamp":%d}',
          '{"event_type":"OrderCreated","total":10.0,"timestamp":%d}',
          '{"event_type":"OrderCreated","customer_id":"c3","total":1.0,"timestamp":"yesterday"}']
bad_at = set(rng.sample(range(N), BAD)) if BAD else set()

out = sys.stdout if OUT == "-" else open(OUT, "w")
buf = []
for i in range(N):
    ts = BASE_MS + 2 * i + rng.randint(-500, 500)
    if i in bad_at:
        b = rng.choice(BROKEN)
        buf.append((b % ts if "%d" in b else b) + "\n")
    et = rng.choices(TYPES, WEIGHTS)[0]
    if COMPACT:
        cust = rng.randint(0, 9999)
        buf.append(f'{{"event_type":"{et}","order_id":{1000000 + i},"customer_id":"c{cust}",'
                   f'"total":{rng.randint(100, 50000) / 100.0:.2f},"items":{rng.randint(1, 8)},"timestamp":{ts}}}\n')
        continue
    cust = rng.randint(0, 999)
    total = rng.randint(100, 50000) / 100.0
    iso = datetime.datetime.fromtimestamp(ts / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    buf.append(f'{{"event_type":"{et}","order_id":{1000000 + i},"customer_id":"c{cust}","total":{total:.2f},'
               f'"items":{rng.randint(1, 8)},"timestamp":{ts},"region":"{REGIONS[cust % 3]}",'
               f'"customer":{{"tier":"{TIERS[cust % 7 % 3]}"}},"created_at":"{iso}"}}\n')
    if len(buf) >= 10000:
        out.writelines(buf); buf.clear()
out.writelines(buf)
if out is not sys.stdout:
    out.close()
print(f"wrote {N} events ({BAD} malformed lines) to {OUT}", file=sys.stderr)
