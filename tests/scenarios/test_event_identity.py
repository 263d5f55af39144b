"""Event identity for consumers: `source` + `id` names one event across every store, and
`sequence` orders as a plain string (the CloudEvents Sequence extension)."""

import json
import os
import re
import sqlite3
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from conftest import KEYCLOAK

from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.settings import Settings
from imagetrail.projections.consumers import event_id

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def tail(it, extra: str = "") -> list[dict]:
    return [json.loads(line) for line in it(f"{extra} events tail".strip()).out.splitlines()]


def test_sequence_orders_as_a_plain_string_past_9_and_10(keycloak):
    for i in range(3):
        keycloak(f"tag {KEYCLOAK}@sha256:{i:064x} keycloak:20")
    events = tail(keycloak)
    sequences = [e["sequence"] for e in events]
    positions = [int(s) for s in sequences]
    assert len(events) > 10 and positions == sorted(positions)
    assert sequences == sorted(sequences)  # a consumer's string compare gives log order
    assert {len(s) for s in sequences} == {20}  # zero-padded: wide enough for any int64 position
    assert any(len(str(a)) < len(str(b)) for a, b in zip(positions, positions[1:]))  # crosses 9 → 10
    middle = events[len(events) // 2]
    assert [json.loads(line) for line in keycloak(f"events tail --from {middle['sequence']}").out.splitlines()] \
        == events[len(events) // 2:]


@pytest.mark.sqlite_only
def test_two_sqlite_stores_given_the_same_commands_have_different_sources(imagetrail, tmp_path):
    other = f"sqlite:///{tmp_path}/other/imagetrail.db"
    for store in ("", f"--store {other}"):
        imagetrail(f"{store} create istag keycloak:20.0.2 --from-image {KEYCLOAK}:20.0.2".strip())
        imagetrail(f"{store} tag {KEYCLOAK}:20.0.3 keycloak:20".strip())
    mine, theirs = tail(imagetrail), tail(imagetrail, f"--store {other}")
    assert [e["id"] for e in mine] == [e["id"] for e in theirs]  # ids alone collide: same names, same ids
    (source,), (other_source,) = {e["source"] for e in mine}, {e["source"] for e in theirs}
    assert source != other_source
    for s in (source, other_source):
        assert re.fullmatch(f"imagetrail://sqlite/{UUID}", s) and urlsplit(s).scheme  # an absolute URI
    # consumers' idempotence keys carry the store's identity too
    app, other_app = ImageTrail(parse_store(Settings()), Resolver()), ImageTrail(parse_store(Settings(store=other)), Resolver())
    last = app.mapper.to_domain_event(app.recorder.select_notifications(start=None, limit=100)[-1])
    other_last = other_app.mapper.to_domain_event(other_app.recorder.select_notifications(start=None, limit=100)[-1])
    assert event_id(last, app.source) != event_id(other_last, other_app.source)


@pytest.mark.sqlite_only
def test_a_store_keeps_its_source_across_processes_and_an_old_store_gets_one_once(imagetrail, tmp_path):
    imagetrail(f"tag {KEYCLOAK}:20.0.2 keycloak:20")
    source = tail(imagetrail)[0]["source"]

    def in_a_new_process() -> str:
        run = subprocess.run([sys.executable, "-m", "imagetrail", "events", "tail"], env=os.environ,
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        return {json.loads(line)["source"] for line in run.stdout.splitlines()}.pop()

    assert in_a_new_process() == source
    with sqlite3.connect(imagetrail.db_path) as db:  # a store written before stores had an identity
        db.execute("DROP TABLE imagetrail_store")
    adopted = in_a_new_process()
    assert adopted != source and re.fullmatch(f"imagetrail://sqlite/{UUID}", adopted)
    assert in_a_new_process() == adopted == tail(imagetrail)[0]["source"]


def test_each_memory_store_is_a_source_of_its_own():
    first, second = ImageTrail(parse_store(Settings(store="memory://")), Resolver()), ImageTrail(parse_store(Settings(store="memory://")), Resolver())
    assert re.fullmatch(f"imagetrail://memory/{UUID}", first.source)
    assert first.source == first.source != second.source


@pytest.mark.kafka_only
def test_kafka_records_carry_the_source_and_sequence_that_events_tail_prints(keycloak):
    from test_kafka_store import raw_records

    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    events = tail(keycloak)
    records = raw_records(keycloak.kafka, keycloak.topic)
    assert len(records) == len(events) > 10
    for record, event in zip(records, events):
        headers = dict(record.headers)
        assert headers["ce_sequence"].decode() == event["sequence"] == f"{record.offset + 1:020d}"
        assert headers["ce_source"].decode() == event["source"]
        assert headers["ce_id"].decode() == event["id"]
    source = events[0]["source"]
    cluster_id, topic, topic_id = re.fullmatch(r"kafka://([A-Za-z0-9_-]+)/([^/]+)/(" + UUID + ")", source).groups()
    assert topic == keycloak.topic
    sequences = [e["sequence"] for e in events]
    assert sequences == sorted(sequences)


@pytest.mark.kafka_only
def test_the_kafka_source_can_be_set(keycloak, monkeypatch, kafka_bootstrap, tmp_path):
    from test_kafka_store import raw_records

    topic = keycloak.topic + "-named"
    monkeypatch.setenv("IMAGETRAIL_KAFKA_CE_SOURCE", "https://ci.example.com/imagetrail")
    store = f"--store kafka://{kafka_bootstrap}/{topic}"
    keycloak(f"{store} tag {KEYCLOAK}:20.0.3 keycloak:20")
    assert {e["source"] for e in tail(keycloak, store)} == {"https://ci.example.com/imagetrail"}
    assert {dict(r.headers)["ce_source"] for r in raw_records(kafka_bootstrap, topic)} == {
        b"https://ci.example.com/imagetrail"}
