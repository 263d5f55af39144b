"""The event-log writer's producer settings: durability fixed, the retry backoff tuned (README
"Where kafka-python waits")."""

from imagetrail.engine.adapters.kafka.settings import RETRY_BACKOFF_MS, KafkaSettings


def test_the_writer_producer_keeps_every_durability_setting():
    settings = KafkaSettings(("127.0.0.1:1", "127.0.0.1:2"), "t", timeout=40,
                             security=(("security_protocol", "SASL_SSL"), ("sasl_plain_password", "s3cret")))
    config = settings.producer_config("imagetrail-writer.t")
    assert config["transactional_id"] == "imagetrail-writer.t"
    assert config["acks"] == "all" and config["enable_idempotence"] is True
    assert config["transaction_timeout_ms"] == 40000 and config["max_block_ms"] == 20000
    assert config["request_timeout_ms"] == 20000  # the call bound, as for every client
    assert config["bootstrap_servers"] == ["127.0.0.1:1", "127.0.0.1:2"]
    assert config["security_protocol"] == "SASL_SSL" and config["sasl_plain_password"] == "s3cret"


def test_a_short_timeout_still_gives_transactions_ten_seconds():
    assert KafkaSettings(("h:1",), "t", timeout=2).producer_config("x")["transaction_timeout_ms"] == 10000


def test_the_writer_retries_after_the_java_clients_backoff_not_the_python_default():
    config = KafkaSettings(("h:1",), "t").producer_config("x")
    assert RETRY_BACKOFF_MS == 20 and config["retry_backoff_ms"] == 20
    assert "retry_backoff_ms" not in KafkaSettings(("h:1",), "t").client_config()  # consumers, admin: unchanged
