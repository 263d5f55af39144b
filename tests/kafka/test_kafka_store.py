"""The Kafka store against a real Apache Kafka broker: the library's recorder contract,
concurrency across OS processes, atomicity, bounded waits, topic safety, and the record format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from conftest import kafka_high_watermark
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, OperationalError, StoredEvent
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.tests.persistence import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    InfrastructureFactoryTestCase,
    NonInterleavingNotificationIDsBaseCase,
    TrackingRecorderTestCase,
)
from eventsourcing.utils import Environment
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from imagetrail.engine.adapters.kafka import (
    KafkaAggregateRecorder,
    KafkaApplicationRecorder,
    KafkaFactory,
    KafkaLog,
    KafkaSettings,
)

HERE = Path(__file__).parent


def new_topic() -> str:
    return f"imagetrail-test-{uuid.uuid4().hex[:12]}"


def raw_records(bootstrap: str, topic: str, isolation: str = "read_committed") -> list:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, isolation_level=isolation, enable_auto_commit=False,
                             auto_offset_reset="earliest", consumer_timeout_ms=2000)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    end = consumer.end_offsets([tp])[tp]
    records = []
    while consumer.position(tp) < end:
        for batch in consumer.poll(timeout_ms=500).values():
            records += batch
    consumer.close()
    return records


class KafkaRecorderFixture:
    """Gives each library test case a fresh topic on the session's broker."""

    @pytest.fixture(autouse=True)
    def _broker(self, kafka_bootstrap, tmp_path):
        self.bootstrap = kafka_bootstrap
        self.cache = str(tmp_path / "cache")

    def log(self) -> KafkaLog:
        return KafkaLog(KafkaSettings(bootstrap_servers=(self.bootstrap,), topic=new_topic(), cache_dir=self.cache))


class TestKafkaAggregateRecorder(KafkaRecorderFixture, AggregateRecorderTestCase):
    def create_recorder(self):
        return KafkaAggregateRecorder(self.log())


class TestKafkaApplicationRecorder(KafkaRecorderFixture, ApplicationRecorderTestCase):
    # commit markers take offsets: ids increase but are not contiguous between transactions
    EXPECT_CONTIGUOUS_NOTIFICATION_IDS = False

    def create_recorder(self):
        return KafkaApplicationRecorder(self.log())

    def test_insert_select(self) -> None:
        """The library's test_insert_select with the ids the log gives instead of 1, 2, 3."""
        recorder = self.create_recorder()
        assert recorder.select_notifications(start=None, limit=3) == []
        assert recorder.max_notification_id() is None
        a, b = uuid.uuid4(), uuid.uuid4()
        e1, e2, e3 = (StoredEvent(a, 1, "topic1", b"state1"), StoredEvent(a, 2, "topic2", b"state2"),
                      StoredEvent(b, 1, "topic3", b"state3"))
        first = recorder.insert_events([e1, e2])
        assert first[1] == first[0] + 1                # one transaction: contiguous
        (third,) = recorder.insert_events([e3])
        assert third > first[1]                        # later transaction: later id (after a marker)
        with pytest.raises(IntegrityError):
            recorder.insert_events([e3])
        ids = first + [third]
        assert [n.id for n in recorder.select_notifications(start=None, limit=10)] == ids
        assert [n.id for n in recorder.select_notifications(start=ids[0], limit=10, inclusive_of_start=False)] \
            == ids[1:]
        assert [n.id for n in recorder.select_notifications(start=None, stop=ids[1], limit=10)] == ids[:2]
        assert [n.topic for n in recorder.select_notifications(start=None, limit=10, topics=["topic3"])] == ["topic3"]
        assert [n.state for n in recorder.select_notifications(start=ids[1], limit=1)] == [b"state2"]
        assert recorder.max_notification_id() == third
        assert recorder.select_events(a, desc=True, limit=1)[0].state == b"state2"


    def test_insert_subscribe(self) -> None:
        """The library's subscription contract, on the long poll (engine/adapters/kafka/follower.py)."""
        self.optional_test_insert_subscribe()


class TestNonInterleaving(KafkaRecorderFixture, NonInterleavingNotificationIDsBaseCase):
    insert_num = 200

    def create_recorder(self):
        return KafkaApplicationRecorder(self.log())


class TestKafkaFactory(KafkaRecorderFixture, InfrastructureFactoryTestCase[KafkaFactory]):
    def setUp(self) -> None:
        self.env = Environment("TestCase", {
            InfrastructureFactory.PERSISTENCE_MODULE: "imagetrail.engine.adapters.kafka",
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "KAFKA_TOPIC": new_topic(), "KAFKA_CACHE_DIR": self.cache,
        })
        super().setUp()

    def expected_factory_class(self):
        return KafkaFactory

    def expected_aggregate_recorder_class(self):
        return KafkaAggregateRecorder

    def expected_application_recorder_class(self):
        return KafkaApplicationRecorder

    def expected_tracking_recorder_class(self):
        return SQLiteTrackingRecorder

    def tracking_recorder_subclass(self):
        class MyTracking(SQLiteTrackingRecorder):
            pass
        return MyTracking

    def expected_process_recorder_class(self):
        raise NotImplementedError

    def test_create_process_recorder(self) -> None:
        """Documented override: projections track in SQLite; there is no Kafka process recorder."""
        with pytest.raises(NotImplementedError):
            self.factory.process_recorder()


class TestKafkaTracking(KafkaRecorderFixture, TrackingRecorderTestCase):
    def create_recorder(self):
        factory = KafkaFactory(Environment("T", {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                                                 "KAFKA_TOPIC": new_topic(), "KAFKA_CACHE_DIR": self.cache}))
        return factory.tracking_recorder()


# -- concurrency across OS processes -------------------------------------------------------------

def test_four_processes_fighting_over_one_tag_lose_and_duplicate_nothing(kafka_bootstrap, tmp_path, snapshot_file):
    store = f"kafka://{kafka_bootstrap}/{new_topic()}"
    env = {**os.environ, "IMAGETRAIL_MIRROR": str(snapshot_file), "IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / "c")}
    seed = subprocess.run([sys.executable, "-m", "imagetrail", "--store", store, "-n", "race", "tag",
                           "quay.io/keycloak/keycloak:20.0.2", "keycloak:20"], env=env, capture_output=True, text=True)
    assert seed.returncode == 0, seed.stderr
    workers = [subprocess.Popen([sys.executable, str(HERE / "kafka_worker.py"), store, str(w), "9"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(4)]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        results += [json.loads(line) for line in out.splitlines()]
    assert len(results) == 36
    for r in results:  # success, or the clear conflict error: nothing else
        assert r["code"] == 0 or "changed concurrently" in r["err"] or "other writers kept fencing" in r["err"], r

    bootstrap, topic = store[len("kafka://"):].split("/", 1)
    records = raw_records(bootstrap, topic)
    versions = Counter((r.key, dict(r.headers)["imagetrail_originator_version"]) for r in records)
    assert max(versions.values()) == 1, "an (aggregate, version) pair appears twice in the topic"
    commands_in_log = Counter()
    for r in records:
        event = json.loads(r.value)
        commands_in_log[(event["actor"], event["correlation_id"])] += 1
    actors = Counter(actor for actor, _ in commands_in_log)  # commands (correlation ids) per actor
    for r in results:
        if r["code"] != 0:
            assert actors[r["actor"]] == 0, r           # a failure wrote nothing
        elif r["command"].startswith("tag quay.io"):
            assert actors[r["actor"]] == 1, r           # a tag move is in the log exactly once
        else:
            assert actors[r["actor"]] <= 1, r           # others may be no-ops, never doubled
    assert sum(r["code"] == 0 for r in results) >= 9

    def everything(extra=()):
        out = subprocess.run([sys.executable, "-m", "imagetrail", "--store", store, "-n", "race", *extra,
                              "get", "is", "keycloak", "-o", "json"], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    live = everything()
    rebuilt_cache = {**env, "IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / "fresh")}  # a fresh local cache and views
    fresh = subprocess.run([sys.executable, "-m", "imagetrail", "--store", store, "-n", "race", "get", "is",
                            "keycloak", "-o", "json"], env=rebuilt_cache, capture_output=True, text=True)
    assert json.loads(fresh.stdout) == live


# -- bounded waits, topic safety, record format ----------------------------------------------------

def run_cli(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "imagetrail", *args], env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def test_an_unreachable_broker_fails_within_the_bound_naming_the_address(tmp_path):
    started = time.monotonic()
    result = run_cli("--store", "kafka://127.0.0.1:1/events", "tag", "quay.io/a/b@sha256:" + "a" * 64, "b:1",
                     env={"IMAGETRAIL_KAFKA_TIMEOUT": "3", "IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path)})
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert result.stderr.startswith("error: Kafka broker at 127.0.0.1:1 did not answer")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert elapsed < 3 * 3  # the 3 s bound plus interpreter start-up


@pytest.mark.parametrize("configs, partitions, problem", [
    ({"retention.ms": "604800000"}, 1, "retention.ms=604800000 (must be -1: infinite)"),
    ({"retention.ms": "-1", "cleanup.policy": "compact"}, 1, "cleanup.policy=compact (must be delete)"),
    ({"retention.ms": "-1", "retention.bytes": "-1"}, 3, "it has 3 partitions (must be 1)"),
])
def test_the_engine_refuses_an_unsafe_topic(kafka_bootstrap, tmp_path, configs, partitions, problem):
    topic = new_topic()
    with KafkaAdminClient(bootstrap_servers=kafka_bootstrap) as admin:
        admin.create_topics({topic: {"num_partitions": partitions, "replication_factor": 1, "configs": configs}})
    result = run_cli("--store", f"kafka://{kafka_bootstrap}/{topic}", "tag", "quay.io/a/b@sha256:" + "a" * 64,
                     "b:1", env={"IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: refusing to use Kafka topic {topic} as an event store:")
    assert problem in result.stderr
    assert raw_records(kafka_bootstrap, topic, "read_uncommitted") == []


def test_a_new_topic_is_created_safe(kafka_bootstrap, tmp_path):
    topic = new_topic()
    KafkaLog(KafkaSettings((kafka_bootstrap,), topic, cache_dir=str(tmp_path))).ensure_topic()
    from kafka.admin import ConfigResource, ConfigResourceType
    with KafkaAdminClient(bootstrap_servers=kafka_bootstrap) as admin:
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)],
                                         config_filter="all")["topic"][topic]
        partitions = admin.describe_topics([topic])[0]["partitions"]
    assert len(partitions) == 1
    assert {k: configs[k]["value"] for k in ("cleanup.policy", "retention.ms", "retention.bytes")} == \
        {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}


@pytest.fixture
def kafka_app(kafka_bootstrap, tmp_path, monkeypatch):
    from conftest import SNAPSHOT

    from imagetrail.engine.service.application import ImageTrail
    from imagetrail.engine.adapters.registry.resolver import Resolver
    from imagetrail.engine.adapters.store_urls import parse_store
    from imagetrail.engine.settings import Settings

    monkeypatch.setenv("IMAGETRAIL_KAFKA_CACHE_DIR", str(tmp_path / "cache"))
    url = f"kafka://{kafka_bootstrap}/{new_topic()}"
    return ImageTrail(parse_store(Settings(store=url)), Resolver(SNAPSHOT))


def test_records_carry_cloudevents_headers_and_the_event_json(kafka_app, kafka_bootstrap):
    kafka_app.tag("demo", "quay.io/keycloak/keycloak:20.0.2", ["keycloak:20"], actor="alice")
    records = raw_records(kafka_bootstrap, kafka_app.recorder.log.settings.topic)
    assert len(records) == 2
    headers = dict(records[1].headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"dev.imagetrail.ImageStream.TagMoved"
    cluster_id, topic_id = kafka_app.recorder.log.ensure_topic()
    assert headers["ce_source"] == f"kafka://{cluster_id}/{kafka_app.recorder.log.settings.topic}/{topic_id}".encode()
    assert headers["ce_sequence"] == f"{records[1].offset + 1:020d}".encode()  # the position, as events tail has it
    assert headers["ce_subject"] == records[1].key
    assert headers["ce_id"] == records[1].key + b"/2"
    assert headers["imagetrail_originator_version"] == b"2"
    assert headers["imagetrail_batch_id"] == dict(records[0].headers)["imagetrail_batch_id"]
    event = json.loads(records[1].value)
    assert event["actor"] == "alice" and event["tag"] == "20" and event["change"] == "import"
    assert headers["ce_time"].decode().startswith(event["timestamp"][:19])


def test_positions_only_increase_and_a_fresh_local_cache_sees_the_same_ones(kafka_app, tmp_path):
    for n in range(3):
        kafka_app.tag("demo", "quay.io/keycloak/keycloak:20.0.2", [f"keycloak:{n}"])
    ids = [n.id for n in kafka_app.recorder.select_notifications(start=None, limit=100)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    settings = kafka_app.recorder.log.settings
    fresh = KafkaApplicationRecorder(KafkaLog(KafkaSettings(settings.bootstrap_servers, settings.topic,
                                                            cache_dir=str(tmp_path / "fresh"))))
    assert [n.id for n in fresh.select_notifications(start=None, limit=100)] == ids


def test_the_local_cache_is_kept_between_processes_and_only_new_records_are_fetched(kafka_app, tmp_path):
    kafka_app.tag("demo", "quay.io/keycloak/keycloak:20.0.2", ["keycloak:1"])
    settings = kafka_app.recorder.log.settings
    head = kafka_app.recorder.max_notification_id()
    second = KafkaLog(settings)  # as a new process would: same cache directory
    seeks = []
    consumer = second.consumer()
    real_seek = consumer.seek
    consumer.seek = lambda tp, offset: (seeks.append(offset), real_seek(tp, offset))
    second.catch_up()
    assert seeks == []  # nothing new: no fetch at all
    kafka_app.tag("demo", "quay.io/keycloak/keycloak:20.0.3", ["keycloak:2"])
    second.catch_up()
    assert seeks and seeks[0] >= head  # resumed where the cache ended, not from 0


def test_a_record_not_written_by_imagetrail_is_never_applied(kafka_app, kafka_bootstrap):
    from kafka import KafkaProducer

    kafka_app.tag("demo", "quay.io/keycloak/keycloak:20.0.2", ["keycloak:20"])
    topic = kafka_app.recorder.log.settings.topic
    with KafkaProducer(bootstrap_servers=kafka_bootstrap) as producer:
        producer.send(topic, key=b"someone", value=b'{"tag": "20"}').get(timeout=10)
    before = kafka_app.recorder.max_notification_id()
    assert kafka_app.recorder.max_notification_id() == before
    assert [reason for _, reason in kafka_app.recorder.log.cache.foreign()] == \
        ["not written by imagetrail (missing or invalid imagetrail headers)"]
    assert kafka_app.stream("demo", "keycloak").state.head("20") is not None
    kafka_app.tag("demo", "quay.io/keycloak/keycloak:20.0.3", ["keycloak:20"])  # the store still works


@pytest.mark.parametrize("commit_lands", [True, False], ids=["commit-landed", "commit-never-landed"])
def test_an_unknown_commit_outcome_is_resolved_from_the_log_not_by_a_blind_resend(
        kafka_app, kafka_bootstrap, monkeypatch, commit_lands):
    """The commit's answer does not arrive in time. Whether the commit landed (answer lost) or
    not (the broker stalled), the batch ends up in the log exactly once."""
    log = kafka_app.recorder.log
    monkeypatch.setattr(log, "settings", KafkaSettings(**{**log.settings.__dict__, "timeout": 2.0}))
    kafka_app.tag("demo", "quay.io/keycloak/keycloak:20.0.2", ["keycloak:1"])
    real_new_producer = log._new_producer
    slowed, producers = [], []

    def slow_producer():
        producer = real_new_producer()
        producers.append(producer)
        if not slowed:
            slowed.append(True)
            real_commit = producer.commit_transaction

            def commit_then_stall():
                if commit_lands:
                    real_commit()
                    time.sleep(3)  # the answer is "lost": it comes after the writer's deadline
                else:
                    time.sleep(3)  # stalls past the deadline; by then a new writer has fenced it
                    real_commit()
            producer.commit_transaction = commit_then_stall
        return producer

    monkeypatch.setattr(log, "_new_producer", slow_producer)
    log._drop_producer()  # the next write starts a new (slowed) producer
    kafka_app.tag("demo", "quay.io/keycloak/keycloak:20.0.3", ["keycloak:2"])
    # timed out once; a new writer looked the batch up (and, if it was not there, wrote it)
    assert slowed and len(producers) == 2
    records = raw_records(kafka_bootstrap, log.settings.topic)
    versions = Counter((r.key, dict(r.headers)["imagetrail_originator_version"]) for r in records)
    assert max(versions.values()) == 1
    assert sorted(kafka_app.stream("demo", "keycloak").state.spec_tags) == ["1", "2"]


def test_a_stale_writer_in_another_process_gets_integrity_error(kafka_app):
    """Two recorders (as two processes) on one topic: the second write of a version is refused."""
    settings = kafka_app.recorder.log.settings
    one = KafkaApplicationRecorder(KafkaLog(settings))
    two = KafkaApplicationRecorder(KafkaLog(KafkaSettings(**{**settings.__dict__, "cache_dir": settings.cache_dir + "2"})))
    originator = uuid.uuid4()
    one.insert_events([StoredEvent(originator, 1, "t", b"{}")])
    with pytest.raises(IntegrityError, match="version 1 already exists"):
        two.insert_events([StoredEvent(originator, 1, "t", b"{}")])
    barrier = threading.Barrier(2)
    outcomes = []

    def write(recorder):
        barrier.wait()
        try:
            recorder.insert_events([StoredEvent(originator, 2, "t", b"{}")])
            outcomes.append("ok")
        except IntegrityError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(r,)) for r in (one, two)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert sorted(outcomes) == ["conflict", "ok"]


def test_a_transaction_left_open_outside_the_protocol_is_reported_not_waited_on(kafka_app, kafka_bootstrap,
                                                                                monkeypatch):
    from kafka import KafkaProducer

    log = kafka_app.recorder.log
    monkeypatch.setattr(log, "settings", KafkaSettings(**{**log.settings.__dict__, "timeout": 2.0}))
    kafka_app.tag("demo", "quay.io/keycloak/keycloak:20.0.2", ["keycloak:1"])
    rogue = KafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id="not-imagetrail")
    rogue.init_transactions()
    rogue.begin_transaction()
    rogue.send(log.settings.topic, key=b"x", value=b"y").get(timeout=10)
    before = kafka_high_watermark(kafka_bootstrap, log.settings.topic)
    try:
        with pytest.raises(OperationalError, match="has a transaction left open by another producer"):
            kafka_app.tag("demo", "quay.io/keycloak/keycloak:20.0.3", ["keycloak:2"])
        assert kafka_high_watermark(kafka_bootstrap, log.settings.topic) == before  # nothing written
    finally:
        rogue.abort_transaction()
        rogue.close()
    kafka_app.tag("demo", "quay.io/keycloak/keycloak:20.0.3", ["keycloak:2"])  # and then it works again
    assert sorted(kafka_app.stream("demo", "keycloak").state.spec_tags) == ["1", "2"]
