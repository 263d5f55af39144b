"""The Kafka log's long-lived clients after a broker fault (no broker needed). kafka-python 3.0
retries a list offsets answered NOT_LEADER_OR_FOLLOWER on its cached leader and refreshed it only every
5 minutes, so after a rolling restart a writer process failed every later command; and a producer whose
close() raised kept its sender thread alive."""

import kafka.errors

from imagetrail.engine.adapters.kafka import KafkaLog, KafkaSettings


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


def test_the_consumers_metadata_is_refreshed_within_a_quarter_of_the_call_bound(tmp_path):
    log = KafkaLog(KafkaSettings(("127.0.0.1:1",), "t", timeout=30, cache_dir=str(tmp_path)))
    made = [log._client_factory(role)(bootstrap_servers=["127.0.0.1:1"]) for role in ("consumer", "producer")]
    try:  # no connection is made until a bootstrap
        assert log._clusters["consumer"].config["metadata_max_age_ms"] == 3750  # 30 s bound: 15 s per call
        # kafka-python's default for the producer: its sender asks for metadata on NOT_LEADER itself
        assert log._clusters["producer"].config["metadata_max_age_ms"] == 300000
    finally:
        for client in made:
            client.close()
