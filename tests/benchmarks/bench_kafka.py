"""Kafka store figures, printed (not a timed test):

  python tests/benchmarks/bench_kafka.py [BOOTSTRAP] [--commands N]

- events/s appended through imagetrail (tag commands) vs a plain kafka-python
  transactional producer sending the same transactions (same record count and sizes);
- events/s of a full projection rebuild (from an empty local cache) vs a plain
  read_committed read of the topic;
- the median wall time of one `imagetrail tag` CLI command on Kafka and on SQLite.

Without BOOTSTRAP it starts the broker with compose/kafka-local.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

ROOT = Path(__file__).resolve().parents[2]


def broker(given: str | None) -> str:
    if given:
        return given
    out = subprocess.run([ROOT / "compose" / "kafka-local", "start"], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def app_on(store: str):
    from imagetrail.engine.service.application import ImageTrail
    from imagetrail.engine.adapters.registry.resolver import Resolver
    from imagetrail.engine.adapters.store_urls import parse_store
    from imagetrail.engine.settings import Settings

    return ImageTrail(parse_store(Settings(store=store)), Resolver())


def imagetrail_appends(store: str, commands: int) -> tuple[float, list[list[bytes]]]:
    """Run tag commands through the engine; return events/s and the transactions as written."""
    app = app_on(store)
    from imagetrail.engine.domain.trigger_definition import TriggerChange
    from imagetrail.engine.service.deployments import Deployments

    Deployments(app).create_deployment("bench", "web", ["nginx:1"])
    Deployments(app).set_triggers("bench", "web", TriggerChange("app:live", containers=("nginx",)))
    start_id = app.recorder.max_notification_id() or 0
    started = time.perf_counter()
    for i in range(commands):
        app.tag("bench", f"quay.io/org/app@sha256:{i:064x}", ["app:live"])  # moves the tag, rolls out web
    elapsed = time.perf_counter() - started
    notes = app.recorder.select_notifications(start=start_id, limit=10 ** 6, inclusive_of_start=False)
    batches: dict[str, list[bytes]] = {}
    for n in notes:  # group the written events by command, to replay the same transactions plainly
        batches.setdefault(n.state.split(b'"correlation_id":')[1][:40].decode(), []).append(n.state)
    return len(notes) / elapsed, list(batches.values())


def plain_appends(bootstrap: str, transactions: list[list[bytes]]) -> float:
    topic = f"bench-plain-{uuid.uuid4().hex[:8]}"
    with KafkaAdminClient(bootstrap_servers=bootstrap) as admin:
        admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}})
    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"bench-{topic}", linger_ms=0)
    producer.init_transactions()
    count = sum(len(t) for t in transactions)
    started = time.perf_counter()
    for records in transactions:
        producer.begin_transaction()
        for value in records:
            producer.send(topic, value=value, key=b"k" * 36, partition=0)
        producer.commit_transaction()
    elapsed = time.perf_counter() - started
    producer.close()
    return count / elapsed


def rebuild_rate(store: str) -> tuple[float, int]:
    """A full rebuild from an empty cache: mirror catch-up from the topic plus the projection."""
    from imagetrail.projections.runner import rebuild
    from imagetrail.projections.views import open_view

    with tempfile.TemporaryDirectory() as cache:
        os.environ["IMAGETRAIL_KAFKA_CACHE_DIR"] = cache
        started = time.perf_counter()
        app = app_on(store)
        count = rebuild(app, open_view(app.views_path))
        return count / (time.perf_counter() - started), count


def plain_read_rate(bootstrap: str, topic: str) -> float:
    started = time.perf_counter()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed",
                             auto_offset_reset="earliest", enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    end, count = consumer.end_offsets([tp])[tp], 0
    while consumer.position(tp) < end:
        for records in consumer.poll(timeout_ms=500, max_records=2000).values():
            count += len(records)
    consumer.close()
    return count / (time.perf_counter() - started)


def cli_median(store: str, runs: int, env: dict[str, str]) -> float:
    times = []
    for i in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "imagetrail", "--store", store, "-n", "bench", "tag",
                        f"quay.io/org/cli@sha256:{i:064x}", "cli:live"], env={**os.environ, **env},
                       check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bootstrap", nargs="?")
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--cli-runs", type=int, default=15)
    args = parser.parse_args()
    bootstrap = broker(args.bootstrap)
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    store = f"kafka://{bootstrap}/{topic}"
    with tempfile.TemporaryDirectory() as work:
        os.environ["IMAGETRAIL_KAFKA_CACHE_DIR"] = f"{work}/cache"
        through, transactions = imagetrail_appends(store, args.commands)
        plain = plain_appends(bootstrap, transactions)
        rebuilt, events = rebuild_rate(store)
        read = plain_read_rate(bootstrap, topic)
        kafka_cli = cli_median(f"kafka://{bootstrap}/{topic}-cli", args.cli_runs,
                               {"IMAGETRAIL_KAFKA_CACHE_DIR": f"{work}/cli"})
        sqlite_cli = cli_median(f"sqlite:///{work}/cli.db", args.cli_runs, {})
    print(f"Kafka broker {bootstrap}; {args.commands} tag commands = {events} events "
          f"in {len(transactions)} transactions")
    print(f"{'append, through imagetrail (tag commands)':48} {through:10.0f} events/s")
    print(f"{'append, plain transactional producer, same txns':48} {plain:10.0f} events/s")
    print(f"{'projection rebuild from an empty cache':48} {rebuilt:10.0f} events/s")
    print(f"{'plain read_committed read of the topic':48} {read:10.0f} events/s")
    print(f"{'imagetrail tag, one CLI command, Kafka (median)':48} {kafka_cli * 1000:10.0f} ms")
    print(f"{'imagetrail tag, one CLI command, SQLite (median)':48} {sqlite_cli * 1000:10.0f} ms")


if __name__ == "__main__":
    main()
