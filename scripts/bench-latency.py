#!/usr/bin/env python3
"""Ingest-to-queryable latency probe (issue 5): how long after an event is produced can it be read
over HTTP?

Starts `tally broker` and `tally run` (release build) on bench/queries/tumbling.json, then, for
SECONDS (default 20): a separate process produces order events at RATE events/s (default 100,000)
in 5 ms ticks, and this process sends a probe event every 20 ms under a group key of its own and
polls GET /queries/orders_agg/keys/<key> over one keep-alive connection until it is counted.
Latency = time from just before the probe's produce() call (linger.ms=0) to the first answer that
counts it. Prints p50/p90/p99/max, the achieved load, and the engine's own histogram
(tally_ingest_latency_seconds in /metrics). Needs `pip install confluent-kafka`.
Env: RATE, SECONDS, TALLY (binary), RUN_ARGS (more `tally run` arguments).
"""
import http.client, json, multiprocessing, os, random, shutil, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TALLY = os.environ.get("TALLY", os.path.join(ROOT, ".build/release/tally"))
RATE = int(os.environ.get("RATE", "100000"))
SECONDS = float(os.environ.get("SECONDS", "20"))


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def load(bootstrap, rate, stop_at, counter):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2, "compression.codec": "lz4",
                  "queue.buffering.max.messages": 1000000})
    tick = 0.005
    per_tick = max(1, int(rate * tick))
    sent, order, t = 0, 1, time.time()
    types = ["OrderCreated"] * 6 + ["OrderPaid"] * 2 + ["OrderShipped", "OrderCancelled"]
    while time.time() < stop_at:
        now_ms = int(time.time() * 1000)
        for _ in range(per_tick):
            c = "c%d" % random.randrange(10000)
            v = '{"event_type":"%s","order_id":%d,"customer_id":"%s","total":%.2f,"items":%d,"timestamp":%d}' % (
                random.choice(types), order, c, random.uniform(5, 500), random.randrange(1, 9), now_ms)
            while True:
                try:
                    p.produce("orders", v.encode(), c.encode()); break
                except BufferError:
                    p.poll(0.001)
            order += 1
        sent += per_tick
        p.poll(0)
        t += tick
        delay = t - time.time()
        if delay > 0:
            time.sleep(delay)
    p.flush(10)
    counter.value = sent


def main():
    from confluent_kafka import Producer
    work = tempfile.mkdtemp(prefix="tally-latency-")
    procs = []
    try:
        broker = subprocess.Popen([TALLY, "broker", "--topic", "orders:4", "--topic", "orders_agg:4",
                                   "--topic", "orders_agg.dlq:1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(broker)
        bootstrap = broker.stdout.readline().strip()
        port = free_port()
        engine = subprocess.Popen([TALLY, "run", "--queries", os.path.join(ROOT, "bench/queries/tumbling.json"),
                                   "--bootstrap", bootstrap, "--state", os.path.join(work, "state"),
                                   "--http", "127.0.0.1:%d" % port] + os.environ.get("RUN_ARGS", "").split(),
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "engine.err"), "w"))
        procs.append(engine)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

        def get(path):
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()

        deadline = time.time() + 30
        while True:
            try:
                if get("/health")[0] == 200: break
            except (ConnectionError, OSError, http.client.HTTPException):
                conn.close(); time.sleep(0.1)
            if time.time() > deadline: sys.exit("engine did not start: see %s" % work)

        counter = multiprocessing.Value("q", 0)
        start = time.time() + 1
        stop_at = start + SECONDS
        loader = multiprocessing.Process(target=load, args=(bootstrap, RATE, stop_at, counter))
        loader.start()
        probe = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "socket.nagle.disable": True})
        time.sleep(max(0, start + 2 - time.time()))  # let the load settle
        latencies, i = [], 0
        while time.time() < stop_at:
            key = "probe-%d" % i
            i += 1
            body = '{"event_type":"OrderCreated","order_id":0,"customer_id":"%s","total":1.0,"items":1,"timestamp":%d}' % (
                key, int(time.time() * 1000))
            t0 = time.perf_counter()
            probe.produce("orders", body.encode(), key.encode())
            probe.poll(0)
            while True:
                status, data = get("/queries/orders_agg/keys/" + key)
                if status == 200 and b'"count":1' in data:
                    latencies.append(time.perf_counter() - t0); break
                if time.perf_counter() - t0 > 10:
                    latencies.append(float("inf")); break
            time.sleep(0.02)
        loader.join()
        metrics = get("/metrics")[1].decode()
        engine.terminate(); engine.wait(30)

        ms = sorted(x * 1000 for x in latencies)
        q = lambda f: ms[min(len(ms) - 1, int(f * len(ms)))]
        produced = counter.value
        print("load: %d events in %.0f s (%.0f events/s asked %d)" % (produced, SECONDS + 1, produced / (SECONDS + 1), RATE))
        print("probes: %d  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms" % (len(ms), q(0.5), q(0.9), q(0.99), ms[-1]))
        print(json.dumps({"rate": RATE, "probes": len(ms), "p50_ms": round(q(0.5), 3), "p90_ms": round(q(0.9), 3),
                          "p99_ms": round(q(0.99), 3), "max_ms": round(ms[-1], 3)}))
        print("engine histogram (tally_ingest_latency_seconds, Kafka timestamps have 1 ms resolution):")
        for line in metrics.splitlines():
            if line.startswith("tally_ingest_latency_seconds"):
                print("  " + line)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try: p.wait(10)
                except subprocess.TimeoutExpired: p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
