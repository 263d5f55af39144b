"""Round trip against a running broker with kafka-python (3.0.x).

    .venv/bin/python compose/kafka-smoke.py "$(compose/kafka-local address)"

Creates a fresh single-partition topic, commits a transaction of 3 records, aborts one, checks that a
read_committed consumer sees exactly the committed records, then checks transactional.id fencing: a
second producer with the same id fences the first, whose commit must fail. Every wait is bounded.
Exits non-zero on any failure.
"""

import sys
import threading
import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError


def bounded(fn, seconds):
    """Run fn() in a daemon thread; return ('ok', value) | ('error', exc) | ('timeout', None)."""
    out = {}

    def run():
        try:
            out["ok"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        return "timeout", None
    return ("ok", out["ok"]) if "ok" in out else ("error", out["error"])


def read_committed(bs, tp, seconds=30):
    c = KafkaConsumer(bootstrap_servers=bs, group_id=None, enable_auto_commit=False,
                      isolation_level="read_committed", auto_offset_reset="earliest")
    try:
        c.assign([tp])
        c.seek_to_beginning(tp)
        end = c.end_offsets([tp])[tp]  # the LSO under read_committed
        got, deadline = [], time.time() + seconds
        while c.position(tp) < end:  # offsets are not contiguous: loop on position, not on record offsets
            if time.time() > deadline:
                raise TimeoutError(f"consumer stuck at {c.position(tp)} < {end}")
            for records in c.poll(timeout_ms=1000).values():
                got += [r.value for r in records]
        return got, end
    finally:
        c.close()


def main(bs):
    t0 = time.time()
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    tp = TopicPartition(topic, 0)
    with KafkaAdminClient(bootstrap_servers=bs) as admin:
        res = admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1,
                                           "configs": {"retention.ms": "-1"}}})
        assert res["topics"][0]["error_code"] == 0, res
    print(f"created topic {topic}")

    p = KafkaProducer(bootstrap_servers=bs, transactional_id=f"{topic}.writer", max_block_ms=30000)
    p.init_transactions()
    p.begin_transaction()
    futures = [p.send(topic, key=b"k", value=b"v%d" % i, partition=0) for i in range(3)]
    status, err = bounded(p.commit_transaction, 30)
    assert status == "ok", (status, err)
    print("committed offsets", [f.get(timeout=10).offset for f in futures])
    p.begin_transaction()
    p.send(topic, value=b"aborted", partition=0)
    p.flush()
    status, err = bounded(p.abort_transaction, 30)
    assert status == "ok", (status, err)
    p.close()

    got, end = read_committed(bs, tp)
    print(f"read_committed: {got} (LSO {end})")
    assert got == [b"v0", b"v1", b"v2"], got

    # Fencing: the same transactional.id taken by a second producer kills the first one's transaction.
    tid = f"{topic}.shared"
    a = KafkaProducer(bootstrap_servers=bs, transactional_id=tid, max_block_ms=30000)
    a.init_transactions()
    a.begin_transaction()
    a.send(topic, value=b"zombie", partition=0)
    a.flush()
    b = KafkaProducer(bootstrap_servers=bs, transactional_id=tid, max_block_ms=30000)
    b.init_transactions()  # bumps the epoch and aborts a's open transaction
    status, err = bounded(a.commit_transaction, 30)
    assert status == "error" and isinstance(err, KafkaError), (status, err)
    print(f"fenced producer's commit failed as expected: {type(err).__name__}")
    a.close(timeout=5)
    b.begin_transaction()
    b.send(topic, value=b"winner", partition=0)
    status, err = bounded(b.commit_transaction, 30)
    assert status == "ok", (status, err)
    b.close()

    got, end = read_committed(bs, tp)
    assert got == [b"v0", b"v1", b"v2", b"winner"], got
    print(f"read_committed after fencing: {got} (LSO {end})")
    print(f"OK ({time.time() - t0:.1f}s)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: kafka-smoke.py 127.0.0.1:PORT")
    main(sys.argv[1])
