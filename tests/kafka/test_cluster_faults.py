"""Faults on a real three-broker cluster (`compose/kafka-local start --brokers 3`: one controller,
three brokers, the event topic and the transaction log replicated three times, two in sync to
accept a write), under four writer processes issuing tag commands:

- the leader of the event topic's partition killed mid-stream;
- the broker of the transaction coordinator killed mid-stream;
- two of three brokers down: writes fail cleanly, reads keep working, nothing lost after;
- a rolling restart of all three brokers.

Each prints its figures: acknowledged, failed, lost, duplicated, longest unavailability.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT
from kafka import KafkaAdminClient
from test_kafka_store import raw_records, run_cli

HERE = Path(__file__).parent
TIMEOUT = 15  # IMAGETRAIL_KAFKA_TIMEOUT: a leader election (broker session 6 s) fits inside it
WRITERS = 4
TRANSACTION_PARTITIONS = 3  # transaction.state.log.num.partitions in the launcher's cluster


def java_hash(text: str) -> int:
    """Java's String.hashCode, which picks a transactional id's partition of __transaction_state."""
    h = 0
    for ch in text:
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


class Cluster:
    def __init__(self, home: Path):
        self.env = {**os.environ, "KAFKA_LOCAL_HOME": str(home)}
        shared = Path(os.environ.get("KAFKA_LOCAL_HOME", ROOT / "compose" / ".kafka")) / "libs"
        if (shared / ".complete").exists():
            self.env["KAFKA_LOCAL_LIBS"] = str(shared)  # reuse the session broker's jars
        self.bootstrap = ""

    def launcher(self, *args: str) -> str:
        done = subprocess.run([ROOT / "compose" / "kafka-local", *args], env=self.env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    def leader(self, topic: str, partition: int = 0) -> int:
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap.split(","))
        try:
            for described in admin.describe_topics([topic]):
                for p in described["partitions"]:
                    if p["partition_index"] == partition:
                        return p["leader_id"]
        finally:
            admin.close()
        raise AssertionError(f"no partition {partition} of {topic}")

    def await_in_sync(self, *topics: str, within: float = 120) -> None:
        """Until every partition of `topics` has all its replicas in sync: what an operator waits
        for (no under-replicated partitions) before restarting the next broker."""
        deadline = time.time() + within
        while True:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap.split(","))
            try:
                lagging = [p for t in admin.describe_topics(list(topics)) for p in t["partitions"]
                           if set(p["isr_nodes"]) != set(p["replica_nodes"])]
            finally:
                admin.close()
            if not lagging:
                return
            assert time.time() < deadline, f"replicas still out of sync after {within}s: {lagging}"
            time.sleep(1)

    def coordinator(self, transactional_id: str) -> int:
        partition = abs(java_hash(transactional_id)) % TRANSACTION_PARTITIONS
        return self.leader("__transaction_state", partition)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    cluster.bootstrap = cluster.launcher("start", "--brokers", "3")
    yield cluster
    cluster.launcher("stop")


@pytest.fixture
def start_load(cluster, tmp_path):
    """Four writers on a fresh topic; stopped at the end of the test even when it fails."""
    loads: list[Load] = []

    def start(topic: str) -> Load:
        loads.append(Load(cluster, tmp_path, topic))
        return loads[-1]

    yield start
    for load in loads:
        load.finish()


class Load:
    """Four writer processes and their outcomes, started on a fresh topic."""

    def __init__(self, cluster: Cluster, tmp_path: Path, topic: str):
        self.store = f"kafka://{cluster.bootstrap}/{topic}"
        self.bootstrap, self.topic, self.tmp = cluster.bootstrap, topic, tmp_path
        self.env = {**os.environ, "IMAGETRAIL_KAFKA_TIMEOUT": str(TIMEOUT), "IMAGETRAIL_KAFKA_REPLICATION_FACTOR": "3",
                    "IMAGETRAIL_KAFKA_MIN_INSYNC_REPLICAS": "2", "IMAGETRAIL_OFFLINE": "1"}
        self.stop_file = tmp_path / "stop"
        self.results: list[dict] = []
        self.cli(tmp_path / "setup", "tag", f"quay.io/org/app@sha256:{0:064x}", "setup:1")  # the topic exists
        self.procs = [subprocess.Popen([sys.executable, str(HERE / "cluster_writer.py"), self.store, str(w),
                                        str(self.stop_file)], stdout=subprocess.PIPE, text=True,
                                       env={**self.env, "IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / f"w{w}")})
                      for w in range(1, WRITERS + 1)]
        self.readers = [threading.Thread(target=self._collect, args=(p,)) for p in self.procs]
        for r in self.readers:
            r.start()

    def _collect(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.results.append(json.loads(line))

    def cli(self, cache: Path, *args: str) -> subprocess.CompletedProcess:
        return run_cli("--store", self.store, "-n", "cluster", *args,
                       env={**self.env, "IMAGETRAIL_KAFKA_CACHE_DIR": str(cache)}, timeout=120)

    @property
    def acknowledged(self) -> int:
        return sum(r["code"] == 0 for r in self.results)

    def wait_for(self, more: int) -> None:
        """Until `more` commands beyond those acknowledged now are acknowledged."""
        goal, deadline = self.acknowledged + more, time.time() + 120
        while self.acknowledged < goal:
            assert time.time() < deadline, \
                f"the writers made no progress; last failures: {[r['err'] for r in self.results[-4:]]}"
            time.sleep(0.2)

    def kill_mid_stream(self, cluster: Cluster, broker: int) -> float:
        """SIGKILL a broker once writes flow, let them resume without it, then restart it.
        Returns when it was killed."""
        self.wait_for(12)
        killed_at = time.time()
        cluster.launcher("kill", str(broker))
        self.wait_for(12)  # writes resume without it
        self.finish()
        cluster.launcher("restart", str(broker))
        return killed_at

    def finish(self) -> None:
        self.stop_file.write_text("stop")
        for p in self.procs:
            try:
                p.wait(timeout=120)
            except subprocess.TimeoutExpired:  # a writer stuck past every bound: never left running
                p.kill()
                p.wait()
        for r in self.readers:
            r.join()

    def check(self, fault: str, since: float) -> dict:
        """Every guarantee after a fault: nothing acknowledged lost, nothing duplicated, failures clean
        and within the bound, the projections equal to a rebuild. Returns the figures."""
        acknowledged = [r for r in self.results if r["code"] == 0]
        failed = [r for r in self.results if r["code"] != 0]
        for r in failed:  # one clear line, within the bound
            assert r["err"].startswith("error: ") and r["err"].count("\n") == 1, r
            assert "Traceback" not in r["err"]
            assert r["ended"] - r["started"] <= TIMEOUT + 2, r
        records = raw_records(self.bootstrap, self.topic)
        versions = Counter((rec.key, dict(rec.headers)["imagetrail_originator_version"]) for rec in records)
        duplicated = sum(n - 1 for n in versions.values())
        lost = []
        for w in range(1, WRITERS + 1):
            live = self.cli(self.tmp / f"w{w}", "get", "is", f"app-{w}", "-o", "json")
            fresh = self.cli(self.tmp / f"fresh-{fault}", "get", "is", f"app-{w}", "-o", "json")
            assert live.returncode == 0 and fresh.returncode == 0, (live.stderr, fresh.stderr)
            assert json.loads(live.stdout) == json.loads(fresh.stdout), f"writer {w}'s projection differs from a rebuild"
            names = {t["name"] for t in json.loads(fresh.stdout)["spec"]["tags"]}
            lost += [r for r in acknowledged if r["writer"] == str(w) and f"t{r['i']}" not in names]
        done = sorted(r["ended"] for r in acknowledged)
        gaps = [b - a for a, b in zip(done, done[1:]) if b > since]
        figures = {"fault": fault, "acknowledged": len(acknowledged), "failed": len(failed), "lost": len(lost),
                   "duplicated": duplicated, "longest unavailability (s)": round(max(gaps, default=0), 1)}
        print(f"\n{fault}: {figures}")
        assert duplicated == 0, "an (aggregate, version) pair appears twice"
        assert not lost, f"acknowledged commands missing from the log: {lost[:3]}"
        return figures


def test_killing_the_event_partitions_leader_mid_stream(cluster, tmp_path, start_load):
    load = start_load("leader-kill")
    leader = cluster.leader("leader-kill")
    figures = load.check("leader killed", load.kill_mid_stream(cluster, leader))
    assert cluster.leader("leader-kill") != leader or figures["acknowledged"] >= 24


def test_killing_the_transaction_coordinators_broker_mid_stream(cluster, tmp_path, start_load):
    load = start_load("coordinator-kill")
    coordinator = cluster.coordinator("imagetrail-writer.coordinator-kill")
    load.check("coordinator killed", load.kill_mid_stream(cluster, coordinator))


def test_two_of_three_brokers_down_writes_fail_cleanly_reads_work_nothing_lost(cluster, tmp_path, start_load):
    load = start_load("two-down")
    load.wait_for(8)
    load.finish()
    down = [b for b in (1, 2, 3) if b != cluster.leader("two-down")]
    for broker in down:
        cluster.launcher("kill", str(broker))
    try:
        time.sleep(8)  # the controller notices (broker session 6 s) and shrinks the ISR to one
        started = time.time()
        refused = load.cli(tmp_path / "w1", "tag", f"quay.io/org/app@sha256:{9:064x}", "app-1:refused")
        assert refused.returncode == 1
        assert time.time() - started <= TIMEOUT + 2
        assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1, refused.stderr
        assert "min.insync.replicas" in refused.stderr, refused.stderr
        read = load.cli(tmp_path / "w1", "get", "is", "app-1", "-o", "name")
        assert read.returncode == 0 and read.stdout.strip() == "imagestream.image.openshift.io/app-1", read.stderr
    finally:
        for broker in down:
            cluster.launcher("restart", str(broker))
    again = load.cli(tmp_path / "w1", "tag", f"quay.io/org/app@sha256:{10:064x}", "app-1:after")
    assert again.returncode == 0, again.stderr
    load.check("two brokers down", time.time())


@pytest.mark.xfail(strict=False, reason="known bug, open: under a rolling restart a failed command can take longer than "
                   "the bound (+2 s): a store operation starts calls until half the bound and each call may take the "
                   "other half, a command is several operations, and an unknown commit outcome gets a lookup budget "
                   "of its own")
def test_a_rolling_restart_under_load_loses_nothing(cluster, tmp_path, start_load):
    load = start_load("rolling")
    load.wait_for(8)
    started = time.time()
    for broker in (1, 2, 3):
        cluster.launcher("kill", str(broker))
        time.sleep(2)
        cluster.launcher("restart", str(broker))
        cluster.await_in_sync("rolling", "__transaction_state")  # back in the ISR before the next one goes
    load.wait_for(8)
    load.finish()
    load.check("rolling restart", started)


def test_a_follower_gets_each_commit_within_a_second(cluster, tmp_path, monkeypatch):
    """Commit to a following consumer (the recorder's push subscription), on the cluster."""
    from imagetrail.engine.adapters.registry.resolver import Resolver
    from imagetrail.engine.adapters.store_urls import parse_store
    from imagetrail.engine.service.application import ImageTrail
    from imagetrail.engine.settings import Settings

    store = f"kafka://{cluster.bootstrap}/push"
    env = {**os.environ, "IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / "writer"), "IMAGETRAIL_KAFKA_REPLICATION_FACTOR": "3",
           "IMAGETRAIL_KAFKA_MIN_INSYNC_REPLICAS": "2"}
    assert run_cli("--store", store, "-n", "push", "tag", f"quay.io/org/app@sha256:{0:064x}", "app:start",
                   env=env).returncode == 0
    monkeypatch.setenv("IMAGETRAIL_KAFKA_CACHE_DIR", str(tmp_path / "follower"))
    app = ImageTrail(parse_store(Settings(store=store)), Resolver())
    received: dict[str, float] = {}
    count = 30
    with app.recorder.subscribe(gt=app.recorder.max_notification_id()) as subscription:
        writer = subprocess.Popen([sys.executable, str(HERE / "push_writer.py"), store, str(count)], env=env,
                                  stdout=subprocess.PIPE, text=True)
        for notification in subscription:
            event = json.loads(notification.state)
            if notification.topic.endswith("ImageStream.SpecTagSet"):
                received[event["tag"]["name"]] = time.time()
            if len(received) == count:
                break
        acknowledged = dict((name, float(at)) for name, at in (line.split() for line in writer.stdout))
        writer.wait(timeout=60)
    latencies = sorted(max(received[name] - acknowledged[name], 0.0) for name in acknowledged)
    median, p99 = latencies[len(latencies) // 2], latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"\npush: commit to follower over {len(latencies)} commits: median {median * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms")
    assert median < 1.0


def test_writers_in_separate_namespaces_of_a_sharded_store_never_wait_for_each_other(cluster, tmp_path):
    """Four writer processes, each in its own namespace of a store with a topic per namespace: no
    command fails, and each namespace's topic holds
    exactly its acknowledged commands (issue 12 §5; the throughput is bench_shards.py's)."""
    template = "sharded-load.{namespace}"
    store = f"kafka://{cluster.bootstrap}/{template}"
    env = {**os.environ, "IMAGETRAIL_KAFKA_REPLICATION_FACTOR": "3", "IMAGETRAIL_KAFKA_MIN_INSYNC_REPLICAS": "2",
           "IMAGETRAIL_OFFLINE": "1", "IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / "setup")}
    namespaces = [f"team-{w}" for w in "abcd"]
    for ns in namespaces:  # the topics exist before the writers start
        assert run_cli("--store", store, "-n", ns, "tag", f"quay.io/org/app@sha256:{0:064x}", "app:1",
                       env=env).returncode == 0
    seconds, start_at = 10.0, time.time() + 6
    writers = [subprocess.Popen([sys.executable, str(ROOT / "tests" / "benchmarks" / "bench_shards.py"), "--writer",
                                 store, ns, str(start_at), str(seconds), str(tmp_path / ns)], env=env,
                                stdout=subprocess.PIPE, text=True) for ns in namespaces]
    results = [json.loads(w.communicate(timeout=180)[0]) for w in writers]
    print(f"\nsharded, 4 writers in 4 namespaces: {[r['ok'] for r in results]} commands in {seconds:g} s, "
          f"{sum(r['ok'] for r in results) / seconds:.1f} commands/s, {sum(r['failed'] for r in results)} failed")
    assert all(r["failed"] == 0 for r in results), [r["errors"] for r in results]
    for ns, result in zip(namespaces, results):
        history = run_cli("--store", store, "-n", ns, "history", "app:1", "-o", "json", env=env)
        assert history.returncode == 0, history.stderr
        assert len(json.loads(history.stdout)["items"]) == result["ok"] + 1  # every acknowledged move, once
        records = raw_records(cluster.bootstrap, template.replace("{namespace}", ns))
        versions = Counter((r.key, dict(r.headers)["imagetrail_originator_version"]) for r in records)
        assert max(versions.values()) == 1
