"""The Kafka log's long-lived clients after a broker fault (no broker needed). kafka-python 3.0
retries a list offsets answered NOT_LEADER_OR_FOLLOWER on its cached leader and never refreshes it
itself, so after a rolling restart a writer process failed every later command; and a producer whose
close() raised kept its sender thread alive."""

import kafka.errors
import pytest
from kafka.cluster import ClusterMetadata

from imagetrail.engine.adapters.kafka import KafkaLog, KafkaSettings, diagnosis
from imagetrail.engine.adapters.kafka.log import StoreUnavailable


def fresh_metadata() -> ClusterMetadata:
    cluster = ClusterMetadata()
    cluster._need_update = False  # as after a successful refresh: nothing due for minutes
    return cluster


def test_a_timed_out_call_has_both_consumers_refresh_their_metadata(tmp_path, monkeypatch):
    monkeypatch.setattr(diagnosis, "in_sync_shortfall", lambda settings: "")
    log = KafkaLog(KafkaSettings(("127.0.0.1:1",), "t", timeout=1, cache_dir=str(tmp_path)))
    log._consumer, log._uncommitted = object(), object()  # the clients the metadata belongs to
    log._clusters = {"consumer": fresh_metadata(), "uncommitted": fresh_metadata()}

    def stale_leader():
        raise kafka.errors.KafkaTimeoutError("Failed to get offsets by timestamps in 500 ms")

    with pytest.raises(StoreUnavailable, match="did not answer list offsets"):
        log._call("list offsets", stale_leader)
    assert log._clusters["consumer"].need_update and log._clusters["uncommitted"].need_update


def test_an_answered_error_or_a_success_leaves_the_metadata_alone(tmp_path):
    log = KafkaLog(KafkaSettings(("127.0.0.1:1",), "t", timeout=1, cache_dir=str(tmp_path)))
    log._consumer = object()
    log._clusters = {"consumer": fresh_metadata()}

    def refused():
        raise kafka.errors.InvalidTxnStateError("not a reachability problem")

    assert log._call("list offsets", lambda: 7) == 7
    with pytest.raises(kafka.errors.InvalidTxnStateError):
        log._call("commit", refused)
    assert not log._clusters["consumer"].need_update


class StuckProducer:
    """kafka-python's KafkaProducer with a batch it cannot deliver: close() flushes first and raises,
    before it stops the sender thread."""

    def __init__(self):
        self._sender = self
        self.stopped = False

    def force_close(self):
        self.stopped = True

    def close(self, timeout=None):
        if not self.stopped:
            raise kafka.errors.KafkaTimeoutError("Timeout waiting for future")


def test_a_dropped_producer_sends_nothing_more_even_when_its_batch_is_stuck(tmp_path):
    log = KafkaLog(KafkaSettings(("127.0.0.1:1",), "t", timeout=1, cache_dir=str(tmp_path)))
    log._producer = stuck = StuckProducer()
    log._drop_producer()
    assert stuck.stopped and log._producer is None
