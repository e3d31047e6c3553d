"""Compare Tally's output records (lines "key<TAB>json" as dumped by kcat -f '%k\t%s\n') with the
peer benchmark's reference (../shared/bench/peers/reference.py: {"<customer_id>|<start>": [count,
sum, min, max]}). Usage: check_tally.py EXPECTED_JSON RESULTS_FILE -> one JSON line.
A window matches when count/min/max are equal and sum/avg agree within 1e-6 relative; 'missing'
windows are still open when the stream ends (no later event closes them)."""
import json, sys
exp = json.load(open(sys.argv[1]))
got, emitted = {}, 0
for line in open(sys.argv[2]):
    line = line.rstrip("\n")
    if not line: continue
    _, v = line.split("\t", 1)
    r = json.loads(v)
    got[f"{r['key']['customer_id']}|{r['window']['start']}"] = r["values"]
    emitted += 1
close = lambda a, b: abs(a - b) <= 1e-6 * max(1.0, abs(b))
ok = bad = extra = 0
for key, v in got.items():
    e = exp.get(key)
    if e is None: extra += 1; continue
    c, s, mn, mx = e
    if v["count"] == c and close(v["sum"], s) and v["min"] == mn and v["max"] == mx and close(v["avg"], s / c): ok += 1
    else: bad += 1
missing = len([k for k in exp if k not in got])
print(json.dumps({"expected": len(exp), "emitted": emitted, "distinct": len(got), "match": ok,
                  "mismatch": bad, "extra": extra, "missing": missing}))
