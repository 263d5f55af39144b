"""Store URLs and Kafka client settings (parsing only; no broker needed)."""

import pytest

from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.settings import Settings


def test_kafka_url_with_several_brokers():
    store = parse_store(Settings(store="kafka://k1.example.com:9092,k2.example.com:9093/imagetrail.events"))
    assert store.env["PERSISTENCE_MODULE"] == "imagetrail.engine.adapters.kafka"
    assert store.env["KAFKA_BOOTSTRAP_SERVERS"] == "k1.example.com:9092,k2.example.com:9093"
    assert store.env["KAFKA_TOPIC"] == "imagetrail.events"


@pytest.mark.parametrize("url", ["kafka://host/topic", "kafka://host:9092", "kafka://host:9092/", "kafka://:1/t",
                                 "kafka://host:9092/bad topic"])
def test_bad_kafka_urls_say_the_expected_form(url):
    with pytest.raises(UsageError, match=r"use kafka://HOST:PORT\[,HOST:PORT\]/TOPIC"):
        parse_store(Settings(store=url))


def test_kafka_settings_from_a_config_file_and_the_environment(tmp_path, monkeypatch):
    config = tmp_path / "kafka.properties"
    config.write_text("# production\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                      "sasl.username=imagetrail\nsasl.password=from-file\nssl.cafile=/etc/ca.pem\ntimeout=10\n")
    monkeypatch.setenv("IMAGETRAIL_KAFKA_CONFIG", str(config))
    monkeypatch.setenv("IMAGETRAIL_KAFKA_SASL_PASSWORD", "from-env")
    env = parse_store(Settings(store="kafka://k:9092/t")).env
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["KAFKA_SASL_PASSWORD"] == "from-env"  # the environment wins
    assert env["KAFKA_SSL_CAFILE"] == "/etc/ca.pem" and env["KAFKA_TIMEOUT"] == "10"


def test_a_bad_config_line_is_named(tmp_path, monkeypatch):
    config = tmp_path / "kafka.properties"
    config.write_text("security.protocol=SSL\npassword=oops\n")
    monkeypatch.setenv("IMAGETRAIL_KAFKA_CONFIG", str(config))
    with pytest.raises(UsageError, match=f"{config}:2: expected KEY=VALUE"):
        parse_store(Settings(store="kafka://k:9092/t"))


def test_credentials_never_reach_error_messages(monkeypatch, tmp_path):
    from imagetrail.engine.adapters.kafka import KafkaLog, KafkaSettings

    settings = KafkaSettings(("127.0.0.1:1",), "t", timeout=1, cache_dir=str(tmp_path),
                             security=(("sasl_plain_password", "s3cret"),))
    message = str(KafkaLog(settings).unavailable("an admin connection"))
    assert "127.0.0.1:1" in message and "s3cret" not in message
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("url", ["sqlite:///srv/it/events.db", "sqlite:////srv/it/events.db"])
def test_sqlite_urls_with_three_or_four_slashes_name_the_same_absolute_file(url):
    assert parse_store(Settings(store=url)).env["SQLITE_DBNAME"] == "/srv/it/events.db"


def test_a_topic_per_namespace():
    store = parse_store(Settings(store="kafka://k1:9092,k2:9092/imagetrail.{namespace}"))
    assert store.env["KAFKA_TOPIC"] == "imagetrail.{namespace}" and store.partitioned
    assert not parse_store(Settings(store="kafka://k1:9092/imagetrail")).partitioned
    assert not parse_store(Settings(store="sqlite:///tmp/x.db")).partitioned


@pytest.mark.parametrize("url", ["kafka://k:9092/a.{namespace}.{namespace}", "kafka://k:9092/{ns}",
                                 "kafka://k:9092/" + "t" * 187 + "{namespace}"])
def test_a_bad_topic_template_is_refused(url):
    with pytest.raises(UsageError, match="invalid store"):
        parse_store(Settings(store=url))
