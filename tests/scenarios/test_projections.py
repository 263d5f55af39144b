"""The current-state projection: incremental equals rebuilt, exactly once, and reads come from it."""

import pytest

from conftest import KEYCLOAK

from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.settings import Settings
from imagetrail.projections.runner import catch_up, rebuild
from imagetrail.projections.views import open_view


def open_store(tmp_path, snapshot):
    store = parse_store(Settings(store=f"sqlite:///{tmp_path}/store.db"))
    return ImageTrail(store, Resolver(snapshot)), store


def test_rebuilt_view_equals_the_incrementally_maintained_one(keycloak):
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak("rollout pause deployment/mykeycloak")
    keycloak("tag --alias keycloak:20.0.2 keycloak:20")
    keycloak("set triggers deployment/mykeycloak --manual")

    def everything():
        return [keycloak(f"get {kind} -o json").json() for kind in ("is", "istag", "deployment")]

    incremental = everything()
    assert "projections rebuilt from" in keycloak("projections rebuild").out
    assert everything() == incremental
    assert [len(doc["items"]) for doc in incremental] == [1, 3, 1]


def test_projection_processes_each_event_exactly_once(tmp_path):
    from conftest import SNAPSHOT
    app, store = open_store(tmp_path, SNAPSHOT)
    app.tag("demo", f"{KEYCLOAK}:20.0.2", ["keycloak:1"])
    view = open_view(store.views_path)
    assert catch_up(app, view) > 0
    first = view.dump()
    assert catch_up(app, view) == 0          # nothing new: nothing processed
    second_view = open_view(store.views_path)  # a second reader on the same view
    assert catch_up(app, second_view) == 0
    assert view.dump() == first
    app.tag("demo", f"{KEYCLOAK}:20.0.3", ["keycloak:1"])
    assert catch_up(app, second_view) > 0
    assert view.dump()["tags"][0]["image"] == SNAPSHOT[f"{KEYCLOAK}:20.0.3"]


def test_rebuild_from_an_empty_view_replays_everything(tmp_path):
    from conftest import SNAPSHOT
    app, store = open_store(tmp_path, SNAPSHOT)
    for n in range(5):
        app.tag("demo", f"{KEYCLOAK}:20.0.{2 + n % 2}", [f"keycloak:{n}"])
    view = open_view(store.views_path)
    catch_up(app, view)
    before = view.dump()
    seen = []
    assert rebuild(app, view, lambda done, total: seen.append((done, total))) == app.recorder.max_notification_id()
    assert view.dump() == before and seen[-1][0] == seen[-1][1]


def test_reads_do_not_replay_the_log(keycloak, monkeypatch):
    """Once the view is current, `get` neither loads aggregates nor reads events."""
    from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteApplicationRecorder

    from imagetrail.engine.adapters.kafka import KafkaAggregateRecorder, KafkaApplicationRecorder

    keycloak("get is keycloak")  # catch up

    def forbidden(*args, **kwargs):
        raise AssertionError("a read scanned the event log")

    for recorder in (SQLiteAggregateRecorder, KafkaAggregateRecorder):
        monkeypatch.setattr(recorder, "select_events", forbidden)
    for recorder in (SQLiteApplicationRecorder, KafkaApplicationRecorder):
        monkeypatch.setattr(recorder, "select_notifications", forbidden)
    assert keycloak.history("20") == [keycloak.history("20.0.2")[0]]
    assert keycloak("describe is keycloak").out.startswith("Name:")
    assert keycloak.image().endswith(keycloak.history("20")[0])


def test_overlapping_pages_from_concurrent_readers_apply_each_event_once(tmp_path):
    from conftest import SNAPSHOT
    from eventsourcing.persistence import Tracking

    from imagetrail.projections.views import CurrentState

    app, store = open_store(tmp_path, SNAPSHOT)
    for n in range(4):
        app.tag("demo", f"{KEYCLOAK}:20.0.{2 + n % 2}", ["keycloak:1"])  # moves the same tag back and forth
    notes = app.recorder.select_notifications(start=1, limit=100)
    pairs = [(n.id, app.mapper.to_domain_event(n)) for n in notes]
    expected = open_view(str(tmp_path / "expected.db"))
    CurrentState(expected).process_batch(pairs, Tracking(app.name, notes[-1].id))

    shared = open_view(str(tmp_path / "shared.db"))
    created = 2  # the first command: the stream's Created and its first TagMoved
    CurrentState(shared).process_batch(pairs[:created], Tracking(app.name, notes[created - 1].id))
    # reader B applies commands 2-3; reader A, which read before B committed, applies 2-4
    CurrentState(shared).process_batch(pairs[created:-2], Tracking(app.name, notes[-3].id))
    CurrentState(shared).process_batch(pairs[created:], Tracking(app.name, notes[-1].id))
    assert shared.dump() == expected.dump()


@pytest.mark.sqlite_only
def test_a_view_left_beside_a_new_store_is_rebuilt_from_that_store(imagetrail, tmp_path):
    imagetrail(f"create istag keycloak:20.0.2 --from-image {KEYCLOAK}:20.0.2")
    assert "keycloak" in imagetrail("get is").out           # the view now holds keycloak
    for leftover in tmp_path.glob("store.db*"):              # the store goes; its .views.db stays
        leftover.unlink()
    imagetrail(f"create istag web:1 --from-image {KEYCLOAK}:20.0.3")
    names = [line.split()[0] for line in imagetrail("get is").out.splitlines()[1:]]
    assert names == ["web"]


def test_an_as_of_lookup_searches_one_objects_versions_not_the_namespaces_history(tmp_path):
    """`--at` finds an object's version by an index on that object (O(log n)); SQLite once took the
    namespace's position index and scanned its history up to the position (linear in the log)."""
    import sqlite3

    from conftest import SNAPSHOT
    from imagetrail.projections import audit
    app, store = open_store(tmp_path, SNAPSHOT)
    for n in range(3):
        app.tag("demo", f"{KEYCLOAK}:20.0.{2 + n % 2}", [f"keycloak:{n}"])
    catch_up(app, open_view(store.views_path))
    connection = sqlite3.connect(store.views_path)
    statements = []
    connection.set_trace_callback(statements.append)
    assert audit.version_at(connection.cursor(), "imagestream", "demo", "keycloak", 3) is not None
    connection.set_trace_callback(None)
    plan = " ".join(str(row) for row in connection.execute(f"EXPLAIN QUERY PLAN {statements[-1]}"))
    assert "object_versions_by_name" in plan, plan
