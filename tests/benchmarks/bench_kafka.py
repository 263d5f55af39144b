"""Kafka store figures, printed (not a timed test):

  python tests/benchmarks/bench_kafka.py [BOOTSTRAP] [--commands N] [--runs N]

Each row is a median over `runs` runs, its anchor measured in the same runs:
- events/s appended through imagetrail (tag commands) vs a plain kafka-python
  transactional producer sending the same transactions (same records, same producer settings);
- transactions/s of that plain kafka-python producer vs Kafka's own Java producer
  (org.apache.kafka.tools.ProducerPerformance, transactional) writing the same number of
  records in the same number of transactions: once with Java unpaced (its transactions are
  then large), once paced to about imagetrail's transaction size;
- events/s of a full projection rebuild (from an empty local cache) vs a plain
  read_committed read of the topic;
- the median wall time of one `imagetrail tag` CLI command on Kafka vs on SQLite.

Without BOOTSTRAP (or BENCH_KAFKA) it starts the broker with compose/kafka-local. The Java
producer's jars come from `compose/kafka-local tools-classpath` (Maven, first time only).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Figure, Scale, render  # noqa: E402

COMMANDS = int(os.environ.get("BENCH_KAFKA_COMMANDS", "200"))  # tag commands a run
CLI_RUNS = 5  # CLI commands a run


def broker(given: str | None) -> str:
    if given:
        return given
    out = subprocess.run([ROOT / "compose" / "kafka-local", "start"], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def tools_classpath() -> str:
    out = subprocess.run([ROOT / "compose" / "kafka-local", "tools-classpath"], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"error: compose/kafka-local tools-classpath failed: {out.stderr.strip()}")
    return out.stdout.strip().splitlines()[-1]


def app_on(store: str):
    from imagetrail.engine.service.application import ImageTrail
    from imagetrail.engine.adapters.registry.resolver import Resolver
    from imagetrail.engine.adapters.store_urls import parse_store
    from imagetrail.engine.settings import Settings

    return ImageTrail(parse_store(Settings(store=store)), Resolver())


def new_topic(bootstrap: str, prefix: str) -> str:
    topic = f"{prefix}-{uuid.uuid4().hex[:8]}"
    with KafkaAdminClient(bootstrap_servers=bootstrap) as admin:
        admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}})
    return topic


def end_offset(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    tp = TopicPartition(topic, 0)
    try:
        return consumer.end_offsets([tp])[tp]
    finally:
        consumer.close()


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


def plain_producer(bootstrap: str, topic: str) -> KafkaProducer:
    """A plain kafka-python transactional producer with imagetrail's producer settings."""
    from imagetrail.engine.adapters.kafka.settings import KafkaSettings

    settings = KafkaSettings(bootstrap_servers=(bootstrap,), topic=topic)
    producer = KafkaProducer(**settings.producer_config(f"bench-{topic}"))
    producer.init_transactions()
    return producer


def plain_appends(bootstrap: str, transactions: list[list[bytes]], key: bytes = b"k" * 36) -> float:
    """Seconds to write `transactions` (after init) with a plain kafka-python producer."""
    topic = new_topic(bootstrap, "bench-plain")
    producer = plain_producer(bootstrap, topic)
    started = time.perf_counter()
    for records in transactions:
        producer.begin_transaction()
        for value in records:
            producer.send(topic, value=value, key=key, partition=0)
        producer.commit_transaction()
    elapsed = time.perf_counter() - started
    producer.close()
    return elapsed


@dataclass(frozen=True)
class JavaRun:
    records: int
    transactions: int
    seconds: float  # ProducerPerformance's own clock: from its first send, without JVM start-up

    @property
    def rate(self) -> float:
        return self.transactions / self.seconds


def java_producer(bootstrap: str, classpath: str, records: int, record_size: int, throughput: int) -> JavaRun:
    """Kafka's ProducerPerformance, transactional. It ends a transaction on time, not on a
    count: with --transaction-duration-ms 1 a transaction ends at the first send 1 ms or more
    after it began. Unpaced (throughput -1) it sends as fast as it can, so its transactions are
    large; paced, a transaction holds about throughput ÷ (transactions/s) records, but then its
    records/s is the pace, a lower bound of what it could do. The commit markers (one offset
    each) tell how many transactions it wrote."""
    topic = new_topic(bootstrap, "bench-java")
    java = Path(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    out = subprocess.run(
        [java, "-cp", classpath, "org.apache.kafka.tools.ProducerPerformance", "--bootstrap-server", bootstrap,
         "--topic", topic, "--num-records", str(records), "--record-size", str(record_size),
         "--throughput", str(throughput), "--transactional-id", f"bench-{topic}", "--transaction-duration-ms", "1",
         "--command-property", "acks=all", "enable.idempotence=true", "linger.ms=0"],
        capture_output=True, text=True, check=True)
    sent = re.search(r"(\d+) records sent, ([\d.]+) records/sec", out.stdout)
    if not sent:
        raise SystemExit(f"error: unexpected ProducerPerformance output: {out.stdout[-300:]}")
    return JavaRun(records, end_offset(bootstrap, topic) - records, records / float(sent.group(2)))


def same_shape(run: JavaRun, record_size: int) -> list[list[bytes]]:
    """`run.records` records of `record_size` bytes spread evenly over `run.transactions`."""
    value = b"x" * record_size
    base, extra = divmod(run.records, run.transactions)
    return [[value] * (base + (i < extra)) for i in range(run.transactions)]


def rebuild_rate(store: str) -> float:
    """A full rebuild from an empty cache: mirror catch-up from the topic plus the projection."""
    from imagetrail.projections.runner import rebuild
    from imagetrail.projections.views import open_view

    with tempfile.TemporaryDirectory() as cache:
        os.environ["IMAGETRAIL_KAFKA_CACHE_DIR"] = cache
        started = time.perf_counter()
        app = app_on(store)
        count = rebuild(app, open_view(app.views_path))
        return count / (time.perf_counter() - started)


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


def cli_times(store: str, runs: int, env: dict[str, str], offset: int) -> list[float]:
    times = []
    for i in range(offset, offset + runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "imagetrail", "--store", store, "-n", "bench", "tag",
                        f"quay.io/org/cli@sha256:{i:064x}", "cli:live"], env={**os.environ, **env},
                       check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def one_run(bootstrap: str, classpath: str, commands: int, work: str, run: int) -> dict[str, float]:
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    store = f"kafka://{bootstrap}/{topic}"
    os.environ["IMAGETRAIL_KAFKA_CACHE_DIR"] = f"{work}/cache-{run}"
    through, transactions = imagetrail_appends(store, commands)
    events = sum(len(t) for t in transactions)
    plain = events / plain_appends(bootstrap, transactions)
    # the Java producer, then kafka-python writing as many records in as many transactions:
    # unpaced (Java at full speed, large transactions), and paced to about imagetrail's size
    per_txn = events / len(transactions)
    size = round(sum(len(v) for t in transactions for v in t) / events)
    free = java_producer(bootstrap, classpath, 5000, size, -1)
    paced = java_producer(bootstrap, classpath, max(events, 1000), size, int(per_txn * 100))
    python_free = free.transactions / plain_appends(bootstrap, same_shape(free, size), key=None)
    python_paced = paced.transactions / plain_appends(bootstrap, same_shape(paced, size), key=None)
    rebuilt = rebuild_rate(store)
    read = plain_read_rate(bootstrap, topic)
    # the first command of a process on a new topic creates it: time the steady state
    cli_kafka = f"kafka://{bootstrap}/{topic}-cli"
    kafka_env = {"IMAGETRAIL_KAFKA_CACHE_DIR": f"{work}/cli-{run}"}
    cli_times(cli_kafka, 1, kafka_env, 10 ** 6)
    kafka_cli = statistics.median(cli_times(cli_kafka, CLI_RUNS, kafka_env, 0))
    sqlite_cli = statistics.median(cli_times(f"sqlite:///{work}/cli-{run}.db", CLI_RUNS, {}, 0))
    return {"through": through, "plain": plain, "size": per_txn,
            "python_free": python_free, "java_free": free.rate, "free_size": free.records / free.transactions,
            "python_paced": python_paced, "java_paced": paced.rate, "paced_size": paced.records / paced.transactions, "rebuilt": rebuilt, "read": read,
            "kafka_cli": kafka_cli * 1000, "sqlite_cli": sqlite_cli * 1000}


def spread(values: list[float], fmt: str) -> str:
    mid = statistics.median(values)
    if len(values) < 2:
        return format(mid, fmt)
    return f"{mid:{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def figures(scale: Scale, commands: int = COMMANDS) -> list[Figure]:
    bootstrap = broker(scale.bootstrap)
    classpath = tools_classpath()
    with tempfile.TemporaryDirectory() as work:
        runs = [one_run(bootstrap, classpath, commands, work, r) for r in range(scale.runs)]
    m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    col = {k: [r[k] for r in runs] for k in runs[0]}
    ratio = lambda a, b: statistics.median(r[a] / r[b] for r in runs)  # noqa: E731  per run, same-run anchor
    append, free, paced = ratio("through", "plain"), ratio("python_free", "java_free"), ratio("python_paced", "java_paced")
    return [
        Figure(f"append through imagetrail ({commands} tag commands, {m['size']:.1f} events/txn)",
               f"{spread(col['through'], ',.0f')} events/s",
               f"plain kafka-python, same txns: {spread(col['plain'], ',.0f')} events/s",
               f"{append:.2f}", "≥ 0.8", append >= 0.8),
        Figure(f"plain kafka-python transactional producer ({m['free_size']:.0f} records/txn)",
               f"{spread(col['python_free'], ',.0f')} txn/s",
               f"Java ProducerPerformance unpaced, same records/txns: {spread(col['java_free'], ',.0f')} txn/s",
               f"{free:.2f}", "≥ 0.5", free >= 0.5),
        Figure(f"plain kafka-python transactional producer ({m['paced_size']:.1f} records/txn)",
               f"{spread(col['python_paced'], ',.0f')} txn/s",
               f"Java ProducerPerformance paced (a lower bound), same records/txns: "
               f"{spread(col['java_paced'], ',.0f')} txn/s",
               f"{paced:.2f}", "≥ 0.5", paced >= 0.5),
        Figure("projection rebuild from an empty cache", f"{spread(col['rebuilt'], ',.0f')} events/s",
               f"plain read_committed read: {spread(col['read'], ',.0f')} events/s",
               f"{ratio('rebuilt', 'read'):.2f}"),
        Figure("imagetrail tag, one CLI command, Kafka (median)", f"{spread(col['kafka_cli'], ',.0f')} ms",
               f"same on SQLite: {spread(col['sqlite_cli'], ',.0f')} ms",
               f"{ratio('kafka_cli', 'sqlite_cli'):.2f}×"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bootstrap", nargs="?")
    parser.add_argument("--commands", type=int, default=COMMANDS)
    parser.add_argument("--runs", type=int)
    args = parser.parse_args()
    scale = Scale()
    scale = replace(scale, bootstrap=args.bootstrap or scale.bootstrap, runs=args.runs or scale.runs)
    print(render(figures(scale, args.commands)))
    print(f"medians (min–max) of {scale.runs} runs; ratios are medians of per-run ratios")


if __name__ == "__main__":
    main()
