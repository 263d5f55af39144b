"""Faults against a real broker: the broker killed with SIGKILL mid-stream, and a writer
killed in the middle of its transaction."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT, kafka_high_watermark
from test_kafka_store import new_topic, raw_records, run_cli

HERE = Path(__file__).parent
TIMEOUT = 4  # IMAGETRAIL_KAFKA_TIMEOUT for the commands under test


class OwnBroker:
    """A broker of this test's own (compose/kafka-local in a temporary home), so it can be killed."""

    def __init__(self, home: Path):
        self.env = {**os.environ, "KAFKA_LOCAL_HOME": str(home)}
        shared = ROOT / "compose" / ".kafka" / "libs"
        if (shared / ".complete").exists():
            self.env["KAFKA_LOCAL_LIBS"] = str(shared)  # reuse the session broker's jars
        self.home = home

    def launcher(self, command: str, keep: bool = False) -> str:
        env = {**self.env, **({"KAFKA_KEEP_DATA": "1"} if keep else {})}
        done = subprocess.run([ROOT / "compose" / "kafka-local", command], env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def kill9(self) -> None:
        os.kill(int((self.home / "kafka.pid").read_text()), signal.SIGKILL)


@pytest.fixture
def own_broker(tmp_path):
    broker = OwnBroker(tmp_path / "kafka")
    yield broker
    subprocess.run([ROOT / "compose" / "kafka-local", "stop"], env=broker.env, capture_output=True, timeout=120)


def test_killing_the_broker_mid_stream_loses_nothing_acknowledged_and_duplicates_nothing(own_broker, tmp_path):
    bootstrap = own_broker.launcher("start").splitlines()[-1]
    store = f"kafka://{bootstrap}/faults"
    env = {**os.environ, "IMAGETRAIL_KAFKA_TIMEOUT": str(TIMEOUT), "IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / "c")}
    writer = subprocess.Popen([sys.executable, str(HERE / "kafka_stream.py"), store, "30"], env=env,
                              stdout=subprocess.PIPE, text=True)
    results, restarter = [], None
    for line in writer.stdout:
        results.append(json.loads(line))
        if len(results) == 6:  # mid-stream: SIGKILL, a few seconds down, then back on the same data
            own_broker.kill9()
            restarter = threading.Thread(target=lambda: (time.sleep(6), own_broker.launcher("start", keep=True)))
            restarter.start()
    writer.wait(timeout=300)
    restarter.join()

    failed = [r for r in results if r["code"] != 0]
    acknowledged = [r for r in results if r["code"] == 0]
    print(f"\nbroker kill: {len(acknowledged)} acknowledged, {len(failed)} failed during the outage, "
          f"slowest failure {max((r['elapsed'] for r in failed), default=0):.1f}s (bound {TIMEOUT}s)")
    assert failed, "the outage should have made some commands fail"
    assert len(acknowledged) >= 6
    again = run_cli("--store", store, "-n", "faults", "tag", f"quay.io/keycloak/keycloak@sha256:{999:064x}",
                    "keycloak:after", env={"IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / "c")})
    assert again.returncode == 0, f"commands work again after the restart: {again.stderr}"
    for r in failed:  # clear, one line, naming the broker, within the bound
        assert r["err"].startswith(f"error: Kafka broker at {bootstrap} did not"), r
        assert r["err"].count("\n") == 1
        assert r["elapsed"] <= TIMEOUT + 1, r

    records = raw_records(bootstrap, "faults")
    versions = Counter((rec.key, dict(rec.headers)["imagetrail_originator_version"]) for rec in records)
    assert max(versions.values()) == 1, "an (aggregate, version) pair appears twice"
    tag_sets = Counter(json.loads(rec.value)["tag"]["name"] for rec in records
                       if dict(rec.headers)["ce_type"] == b"dev.imagetrail.ImageStream.SpecTagSet")
    created = [json.loads(rec.value) for rec in records
               if dict(rec.headers)["ce_type"] == b"dev.imagetrail.ImageStream.Created"]
    tags_in_created = Counter(t["name"] for e in created for t in e["spec_tags"])
    for r in acknowledged:  # every acknowledged move is in the log exactly once
        assert tag_sets[f"t{r['i']}"] + tags_in_created[f"t{r['i']}"] == 1, r

    def stream(cache: str) -> dict:
        out = run_cli("--store", store, "-n", "faults", "get", "is", "keycloak", "-o", "json",
                      env={"IMAGETRAIL_KAFKA_CACHE_DIR": cache})
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    live = stream(str(tmp_path / "c"))   # the writer's local cache and views, kept up incrementally
    fresh = stream(str(tmp_path / "fresh"))
    assert live == fresh
    assert {f"t{r['i']}" for r in acknowledged} <= {t["name"] for t in live["spec"]["tags"]}


KILLED_WRITER = """
import os, signal, sys, uuid
from datetime import datetime, timezone
from eventsourcing.persistence import StoredEvent
from imagetrail.engine.adapters.kafka import KafkaLog, KafkaSettings
from imagetrail.engine.adapters.kafka.records import record_headers

bootstrap, topic, cache = sys.argv[1:4]
log = KafkaLog(KafkaSettings((bootstrap,), topic, timeout=30, cache_dir=cache))
producer = log._new_producer()   # takes the shared transactional id, as every writer does
producer.begin_transaction()
event = StoredEvent(uuid.uuid4(), 1, "imagetrail.engine.imagestream:ImageStream.Created", b"{}")
producer.send(topic, partition=0, key=str(event.originator_id).encode(), value=event.state,
              headers=record_headers(event, 1, "half-written", 0, 2, datetime.now(timezone.utc), source=log.source,
                                     writer=log.writer)).get(timeout=10)
os.kill(os.getpid(), signal.SIGKILL)   # dies with its transaction open: one record of two sent
"""


def test_a_writer_killed_mid_transaction_leaves_nothing_and_blocks_nobody(kafka_bootstrap, tmp_path):
    topic = new_topic()
    store = f"kafka://{kafka_bootstrap}/{topic}"
    env = {"IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / "c"), "IMAGETRAIL_KAFKA_TIMEOUT": "10"}
    assert run_cli("--store", store, "tag", f"quay.io/a/b@sha256:{1:064x}", "b:1", env=env).returncode == 0
    before = kafka_high_watermark(kafka_bootstrap, topic)
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, kafka_bootstrap, topic, str(tmp_path / "k")])
    assert killed.returncode == -signal.SIGKILL
    assert kafka_high_watermark(kafka_bootstrap, topic) > before  # its record reached the broker, uncommitted

    started = time.monotonic()
    after = run_cli("--store", store, "tag", f"quay.io/a/b@sha256:{2:064x}", "b:2", env=env)
    assert after.returncode == 0, after.stderr
    assert time.monotonic() - started < 10  # no wait for the dead writer's transaction timeout (60 s)
    committed = raw_records(kafka_bootstrap, topic)
    assert all(dict(r.headers)["imagetrail_batch_id"] != b"half-written" for r in committed)
    tags = run_cli("--store", store, "get", "is", "b", "-o", "jsonpath={.spec.tags[*].name}", env=env)
    assert tags.stdout == "1 2"
