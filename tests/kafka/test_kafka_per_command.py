"""What one command costs the Kafka store: a topic that passed the full check recently is not
described again, yet a topic deleted and created again is still caught before its cache is used."""

from __future__ import annotations

import time
import uuid

import kafka
import pytest
from eventsourcing.persistence import StoredEvent
from kafka import KafkaAdminClient
from test_kafka_store import new_topic, raw_records

from imagetrail.engine.adapters.kafka import (
    KafkaApplicationRecorder,
    KafkaLog,
    KafkaSettings,
    LocalCache,
    UnsafeTopic,
)
from imagetrail.engine.adapters.kafka.log import TOPIC_CHECK_MAX_AGE


@pytest.fixture
def admin_requests(monkeypatch):
    """Every admin client the store opens and every DescribeConfigs it sends."""
    seen: list[str] = []

    class Counting(kafka.KafkaAdminClient):
        def __init__(self, **config):
            seen.append("connect")
            super().__init__(**config)

        def describe_configs(self, *args, **kwargs):
            seen.append("describe_configs")
            return super().describe_configs(*args, **kwargs)

    monkeypatch.setattr(kafka, "KafkaAdminClient", Counting)
    return seen


@pytest.fixture
def settings(kafka_bootstrap, tmp_path) -> KafkaSettings:
    return KafkaSettings((kafka_bootstrap,), new_topic(), cache_dir=str(tmp_path / "cache"))


def command(settings: KafkaSettings) -> KafkaLog:
    """A log as a new CLI process opens it: no state but the cache directory."""
    log = KafkaLog(settings)
    log.catch_up()
    return log


def test_a_second_command_within_the_bound_sends_no_admin_request(settings, admin_requests):
    first = command(settings)
    assert admin_requests == ["connect", "describe_configs"]
    admin_requests.clear()
    second = command(settings)
    assert admin_requests == []
    assert second.ensure_topic() == first.ensure_topic()
    assert second.cache.path == first.cache.path
    first.close(), second.close()


def test_a_check_older_than_the_bound_is_made_again(settings, admin_requests):
    first = command(settings)
    first.cache.mark_topic_checked(time.time() - TOPIC_CHECK_MAX_AGE - 1)
    admin_requests.clear()
    second = command(settings)
    assert admin_requests == ["connect", "describe_configs"]
    admin_requests.clear()
    command(settings).close()  # the new check was recorded
    assert admin_requests == []
    first.close(), second.close()


def test_a_check_recorded_under_another_cluster_is_not_trusted(settings, admin_requests):
    first = command(settings)
    topic_id = first.ensure_topic()[1]
    first.cache.mark_topic_checked(time.time() - TOPIC_CHECK_MAX_AGE - 1)
    LocalCache(first._cache_path("another-cluster", topic_id)).mark_topic_checked(time.time())
    admin_requests.clear()
    command(settings).close()
    assert admin_requests == ["connect", "describe_configs"]
    first.close()


def recreate(bootstrap: str, topic: str, configs: dict[str, str]) -> None:
    with KafkaAdminClient(bootstrap_servers=bootstrap) as admin:
        admin.delete_topics([topic])
        deadline = time.monotonic() + 30
        while True:  # the deletion completes in the background
            try:
                admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1, "configs": configs}})
                return
            except kafka.errors.TopicAlreadyExistsError:
                assert time.monotonic() < deadline
                time.sleep(0.2)


def write_one(log: KafkaLog) -> None:
    KafkaApplicationRecorder(log).insert_events([StoredEvent(uuid.uuid4(), 1, "demo.Event", b"{}")])


def test_a_topic_recreated_unsafe_within_the_bound_is_refused(settings, kafka_bootstrap):
    first = command(settings)
    write_one(first)
    first.close()
    recreate(kafka_bootstrap, settings.topic, {"retention.ms": "604800000"})
    with pytest.raises(UnsafeTopic, match=r"retention.ms=604800000 \(must be -1: infinite\)"):
        command(settings)


def test_a_topic_recreated_safe_within_the_bound_gets_a_cache_of_its_own(settings, kafka_bootstrap):
    first = command(settings)
    write_one(first)
    old_identity, old_path = first.ensure_topic(), first.cache.path
    first.close()
    recreate(kafka_bootstrap, settings.topic, {"retention.ms": "-1", "retention.bytes": "-1"})
    second = KafkaLog(settings)
    recorder = KafkaApplicationRecorder(second)
    assert recorder.max_notification_id() is None  # none of the old topic's events
    assert second.ensure_topic()[0] == old_identity[0] and second.ensure_topic()[1] != old_identity[1]
    assert second.cache.path != old_path
    write_one(second)
    assert [n.originator_version for n in recorder.select_notifications(start=None, limit=10)] == [1]
    second.close()


def test_each_client_gets_the_topic_in_its_bootstrap_metadata(settings):
    """Else its first end_offsets or send waits out kafka-python's 100 ms metadata spacing."""
    log = command(settings)
    log._clusters.clear()
    log._consumer.close()
    log._consumer = None
    log.consumer()  # constructing it bootstraps: nothing has asked for the topic yet
    cluster = log._clusters["consumer"]
    assert cluster.partitions_for_topic(settings.topic) == {0}
    assert str(cluster.topic_id(settings.topic)) == log.ensure_topic()[1]
    log.close()


def test_a_commit_refused_mid_epoch_bump_is_resolved_from_the_log(settings, kafka_bootstrap, monkeypatch):
    """Six writers fencing each other once left one with kafka-python bumping its epoch (which
    aborts the transaction) when the commit came: not a rejection, the log says what happened."""
    log = command(settings)
    real_new_producer = log._new_producer
    producers = []

    def bumping_producer():
        producer = real_new_producer()
        if not producers:
            def refused():
                raise kafka.errors.KafkaError(
                    f"TransactionalId imagetrail-writer.{settings.topic}: Invalid transition attempted "
                    "from state BUMPING_PRODUCER_EPOCH to state COMMITTING_TRANSACTION")
            producer.commit_transaction = refused
        producers.append(producer)
        return producer

    monkeypatch.setattr(log, "_new_producer", bumping_producer)
    write_one(log)
    assert len(producers) == 2  # the refused one, and the one that found the batch missing and wrote it
    assert len(raw_records(kafka_bootstrap, settings.topic)) == 1  # the first was aborted: written once
    log.close()
