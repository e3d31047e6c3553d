#!/usr/bin/env python3
"""The broker's own latency floor (issue 5): how long after an event is produced can a plain
librdkafka consumer (confluent-kafka, no Tally) see it, through `tally broker`?

Starts `tally broker` with one 8-partition topic; optionally a separate process produces order
events at RATE events/s (default 100,000) in 5 ms ticks; this process sends a probe every 20 ms
(linger.ms=0) and polls a consumer assigned to every partition until the probe arrives. Prints
p50/p90/p99 of produce -> consumed. Tally's ingest-to-queryable latency cannot be lower than this
on the same broker. Needs `pip install confluent-kafka`.
Env: RATE (0 for an idle broker), PROBES (300), FETCH_WAIT_MS (fetch.wait.max.ms, default 5 as
Tally's), TALLY (binary).
"""
import multiprocessing, os, random, socket, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TALLY = os.environ.get("TALLY", os.path.join(ROOT, ".build/release/tally"))
RATE = int(os.environ.get("RATE", "100000"))
PROBES = int(os.environ.get("PROBES", "300"))
FETCH_WAIT_MS = int(os.environ.get("FETCH_WAIT_MS", "5"))


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def load(bootstrap, rate):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2, "queue.buffering.max.messages": 1000000})
    per_tick = max(1, rate // 200)
    while True:
        t = time.time()
        for _ in range(per_tick):
            c = "c%d" % random.randrange(10000)
            v = '{"event_type":"OrderCreated","customer_id":"%s","total":%.2f,"timestamp":%d}' % (c, random.uniform(5, 500), int(t * 1000))
            while True:
                try:
                    p.produce("t", key=c.encode(), value=v.encode()); break
                except BufferError:
                    p.poll(0.001)
        p.poll(0)
        d = 0.005 - (time.time() - t)
        if d > 0: time.sleep(d)


def main():
    from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_END
    port = free_port()
    broker = subprocess.Popen([TALLY, "broker", "--port", str(port), "--topic", "t:8"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    loader = None
    try:
        time.sleep(1.0)
        bootstrap = "127.0.0.1:%d" % port
        if RATE > 0:
            loader = multiprocessing.Process(target=load, args=(bootstrap, RATE), daemon=True)
            loader.start()
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "floor", "fetch.wait.max.ms": FETCH_WAIT_MS,
                             "enable.auto.commit": False, "log_level": 0})
        consumer.assign([TopicPartition("t", p, OFFSET_END) for p in range(8)])
        probe = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        time.sleep(1.0)
        latencies = []
        for i in range(PROBES):
            key = b"probe-%d" % i
            t0 = time.time()
            probe.produce("t", key=key, value=b"{}"); probe.poll(0)
            found = False
            while not found and time.time() - t0 < 2:
                for m in consumer.consume(10000, 0.0005) or []:
                    found = found or m.key() == key
            if found: latencies.append((time.time() - t0) * 1000)
            time.sleep(0.02)
        latencies.sort()
        q = lambda f: latencies[min(len(latencies) - 1, int(f * len(latencies)))]
        print("load %d events/s, fetch.wait.max.ms=%d: %d/%d probes seen; produce -> consumed p50 %.2f ms, p90 %.2f ms, p99 %.2f ms"
              % (RATE, FETCH_WAIT_MS, len(latencies), PROBES, q(.5), q(.9), q(.99)))
        consumer.close()
    finally:
        if loader: loader.terminate()
        broker.terminate()
        broker.wait()


if __name__ == "__main__":
    main()
