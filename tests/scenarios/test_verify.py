"""Tamper evidence: `imagetrail verify` walks the hash chain and names the first break."""

import sqlite3

import pytest
from conftest import KEYCLOAK


def test_an_untouched_log_verifies(keycloak):
    out = keycloak("verify").out
    assert out.startswith("ok: ") and " events, head " in out
    count = int(out.split()[1])
    assert count == len(keycloak("events tail").out.splitlines())
    assert keycloak("verify").out == out  # stable
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    assert keycloak("verify").out != out


@pytest.mark.sqlite_only
def test_a_changed_record_is_caught(keycloak):
    with sqlite3.connect(keycloak.db_path) as db:
        db.execute("UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), 'alice', 'mallory') AS BLOB)"
                   " WHERE rowid = 5")
    result = keycloak.fails("verify")
    assert result.err.startswith("error: the log is broken at position 5: changed record")


@pytest.mark.sqlite_only
def test_a_removed_record_is_caught(keycloak):
    with sqlite3.connect(keycloak.db_path) as db:
        db.execute("DELETE FROM stored_events WHERE rowid = 4")
        db.execute("DELETE FROM event_chain WHERE notification_id = 4")
    assert keycloak.fails("verify").err.startswith("error: the log is broken at position 5: broken chain")


@pytest.mark.sqlite_only
def test_a_forged_record_is_caught_and_never_applied(keycloak):
    before = keycloak("get is keycloak -o json").out
    with sqlite3.connect(keycloak.db_path) as db:
        (last_id, version, topic, state), = db.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "WHERE topic LIKE '%TagMoved' ORDER BY rowid DESC LIMIT 1")
        forged = bytes(state).replace(b'"alice"', b'"mallory"')
        max_version = db.execute("SELECT MAX(originator_version) FROM stored_events WHERE originator_id = ?",
                                 (last_id,)).fetchone()[0]
        forged = forged.replace(f'"originator_version":{version}'.encode(),
                                f'"originator_version":{max_version + 1}'.encode())
        db.execute("INSERT INTO stored_events VALUES (?, ?, ?, ?)", (last_id, max_version + 1, topic, forged))
    assert "foreign record" in keycloak.fails("verify").err
    assert keycloak("get is keycloak -o json").out == before  # the projection did not apply it


@pytest.mark.kafka_only
def test_a_forged_kafka_record_is_caught(keycloak):
    """A topic has no UPDATE: forging means appending, here a replay of a real record, headers and all."""
    from kafka import KafkaProducer
    from test_kafka_store import raw_records

    last = raw_records(keycloak.kafka, keycloak.topic)[-1]
    with KafkaProducer(bootstrap_servers=keycloak.kafka) as producer:
        producer.send(keycloak.topic, key=last.key, value=last.value, headers=last.headers).get(timeout=10)
    assert "broken chain" in keycloak.fails("verify").err


def test_a_store_written_before_the_chain_is_adopted_on_first_open(tmp_path, snapshot_file):
    from conftest import SNAPSHOT

    from imagetrail.engine.service.application import ImageTrail
    from imagetrail.engine.adapters.registry.resolver import Resolver
    from dataclasses import replace

    from imagetrail.engine.adapters.store_urls import parse_store
    from imagetrail.engine.settings import Settings

    store = parse_store(Settings(store=f"sqlite:///{tmp_path}/old.db"))
    unchained = {k: v for k, v in store.env.items() if k != "APPLICATION_RECORDER_TOPIC"}
    old = ImageTrail(replace(store, env=unchained), Resolver(SNAPSHOT))
    old.tag("demo", f"{KEYCLOAK}:20.0.2", ["keycloak:20"])
    new = ImageTrail(store, Resolver(SNAPSHOT))
    assert len(new.recorder.select_notifications(start=None, limit=100)) == 2  # still visible
    from imagetrail.engine.adapters.chain import verify
    verdict = verify(new.recorder.chained_records())
    assert verdict.ok and verdict.count == 2
