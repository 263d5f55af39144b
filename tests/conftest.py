"""Scenario tests run imagetrail the way users do: command lines, in-process, on a real store."""

from __future__ import annotations

import itertools
import json
import os
import shlex
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from imagetrail.cli.main import main
from registry_harness import LocalRegistry

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64
KEYCLOAK = "quay.io/keycloak/keycloak"
SNAPSHOT = {f"{KEYCLOAK}:20.0.2": A, f"{KEYCLOAK}:20.0.3": B, f"{KEYCLOAK}:21.0.0": C}


@dataclass
class Result:
    out: str
    err: str
    code: int

    def json(self):
        return json.loads(self.out)


class Imagetrail:
    """`imagetrail <args>` against one store; returns stdout, stderr and the exit code."""

    def __init__(self, capsys, store: str, db_path: Path | None = None, kafka: str = "", topic: str = ""):
        self.capsys = capsys
        self.store = store
        self.db_path = db_path
        self.kafka = kafka
        self.topic = topic

    def __call__(self, command: str, *, ok: bool = True) -> Result:
        self.capsys.readouterr()
        code = 0
        try:
            main(shlex.split(command))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        captured = self.capsys.readouterr()
        result = Result(captured.out, captured.err, code)
        if ok and code != 0:
            raise AssertionError(f"imagetrail {command} failed ({code}): {result.err}")
        return result

    def fails(self, command: str) -> Result:
        result = self(command, ok=False)
        assert result.code != 0, f"imagetrail {command} should have failed"
        assert "Traceback" not in result.err
        return result

    def event_count(self) -> int:
        """Records written, committed or not (for Kafka: the partition's high watermark)."""
        if self.store == "kafka":
            return kafka_high_watermark(self.kafka, self.topic)
        if self.store == "sharded":
            return sum(kafka_high_watermark(self.kafka, t) for t in kafka_topics(self.kafka, self.topic))
        with sqlite3.connect(self.db_path) as db:
            try:
                return db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
            except sqlite3.OperationalError:  # no table yet: nothing was ever written
                return 0

    def stream(self, name: str = "keycloak") -> dict:
        return self(f"get is {name} -o json").json()

    def history(self, tag: str, stream: str = "keycloak") -> list[str]:
        for entry in self.stream(stream)["status"].get("tags", []):
            if entry["tag"] == tag:
                return [item["image"] for item in entry["items"]]
        return []

    def image(self, deployment: str = "mykeycloak", container: str = "keycloak") -> str:
        doc = self(f"get deployment {deployment} -o json").json()
        return next(c["image"] for c in doc["spec"]["template"]["spec"]["containers"] if c["name"] == container)


@pytest.fixture
def snapshot_file(tmp_path):
    path = tmp_path / "mirror.json"
    path.write_text(json.dumps(SNAPSHOT))
    return path


# -- the stores every scenario runs on -------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
# "sharded": a Kafka store with a topic per namespace (kafka://HOSTS/PREFIX{namespace})
STORES = ["sqlite", "kafka", "sharded"]


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: the test inspects the SQLite store's files")
    config.addinivalue_line("markers", "kafka_only: the test writes to the Kafka topic directly")


def pytest_collection_modifyitems(config, items):
    """Tests marked sqlite_only or kafka_only run on that store; the rest run on every store."""
    def other_store(item) -> bool:
        store = next((s for s in STORES if f"[{s}" in item.nodeid), None)
        return bool((item.get_closest_marker("sqlite_only") and store not in (None, "sqlite"))
                    or (item.get_closest_marker("kafka_only") and store not in (None, "kafka")))
    kept = [i for i in items if not other_store(i)]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def kafka_bootstrap():
    """A real Apache Kafka broker: IMAGETRAIL_TEST_KAFKA if given, else compose/kafka-local."""
    given = os.environ.get("IMAGETRAIL_TEST_KAFKA")
    if given:
        yield given
        return
    launcher = ROOT / "compose" / "kafka-local"
    was_running = subprocess.run([launcher, "status"], capture_output=True).returncode == 0
    started = subprocess.run([launcher, "start"], capture_output=True, text=True, timeout=600)
    if started.returncode != 0:
        pytest.fail(f"could not start Kafka with compose/kafka-local:\n{started.stdout}\n{started.stderr}")
    yield started.stdout.strip().splitlines()[-1]
    if not was_running:
        subprocess.run([launcher, "stop"], capture_output=True, timeout=120)


def kafka_topics(bootstrap: str, template: str) -> list[str]:
    """The topics of a sharded store: one per namespace written to."""
    from kafka import KafkaConsumer

    prefix, _, suffix = template.partition("{namespace}")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        return sorted(t for t in consumer.topics() if t.startswith(prefix) and t.endswith(suffix))
    finally:
        consumer.close()


def kafka_high_watermark(bootstrap: str, topic: str) -> int:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_uncommitted")
    try:
        if topic not in (consumer.topics() or set()):
            return 0
        tp = TopicPartition(topic, 0)
        return consumer.end_offsets([tp])[tp]
    finally:
        consumer.close()


@pytest.fixture(params=STORES)
def store_url(request, tmp_path, monkeypatch):
    """A fresh store of each kind: an SQLite file, or a new topic on the real broker."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    bootstrap = request.getfixturevalue("kafka_bootstrap")
    monkeypatch.setenv("IMAGETRAIL_KAFKA_CACHE_DIR", str(tmp_path / "kafka-cache"))
    if request.param == "sharded":
        return f"kafka://{bootstrap}/imagetrail-test-{uuid.uuid4().hex[:12]}.{{namespace}}"
    return f"kafka://{bootstrap}/imagetrail-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def imagetrail(capsys, tmp_path, monkeypatch, snapshot_file, store_url) -> Imagetrail:
    monkeypatch.setenv("IMAGETRAIL_STORE", store_url)
    monkeypatch.setenv("IMAGETRAIL_MIRROR", str(snapshot_file))
    # the mirror file is the registry here; tests of live lookups drop this (delenv) for a local registry
    monkeypatch.setenv("IMAGETRAIL_OFFLINE", "1")
    monkeypatch.setenv("IMAGETRAIL_NAMESPACE", "demo")
    monkeypatch.setenv("IMAGETRAIL_ACTOR", "alice")
    if store_url.startswith("kafka://"):
        bootstrap, topic = store_url[len("kafka://"):].split("/", 1)
        return Imagetrail(capsys, "sharded" if "{namespace}" in topic else "kafka", kafka=bootstrap, topic=topic)
    return Imagetrail(capsys, "sqlite", db_path=tmp_path / "store.db")


@pytest.fixture
def keycloak(imagetrail) -> Imagetrail:
    """The lecture's starting point: 20.0.2 and 20.0.3 imported, lookup on, 20 → 20.0.2,
    Deployment mykeycloak created from keycloak:20 with an automatic trigger."""
    imagetrail(f"create istag keycloak:20.0.2 --from-image {KEYCLOAK}:20.0.2")
    imagetrail(f"import-image keycloak:20.0.3 --from {KEYCLOAK}:20.0.3 --confirm")
    imagetrail("set image-lookup keycloak")
    imagetrail("tag --alias keycloak:20.0.2 keycloak:20")
    imagetrail("create deployment mykeycloak --image keycloak:20")
    imagetrail("set triggers deployment/mykeycloak --from-image keycloak:20 --containers keycloak")
    return imagetrail


# -- a real registry (Debian's docker-registry 2.8, unpacked by `make registry`) -----------------

def _running(local: LocalRegistry) -> LocalRegistry:
    """Start a session registry; a missing binary or a failed start fails the tests, never skips them."""
    try:
        return local.start()
    except RuntimeError as e:
        error = str(e)
    local.close()
    pytest.fail(error, pytrace=False)


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """An anonymous HTTP registry shared by the session; a test that needs an outage starts its own
    LocalRegistry rather than stopping this one."""
    local = _running(LocalRegistry(workdir=tmp_path_factory.mktemp("registry")))
    yield local
    local.close()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory):
    """A registry behind Docker-style token auth; alice/s3cret may pull and push any repository."""
    local = _running(LocalRegistry(token_auth=True, users={"alice": "s3cret"},
                                   workdir=tmp_path_factory.mktemp("token-registry")))
    yield local
    local.close()


_repo_numbers = itertools.count(1)


@pytest.fixture
def fresh_repo() -> str:
    """A repository name no other test of this session uses, so tests on a shared registry never collide."""
    return f"team/app-{next(_repo_numbers)}"
