"""Events: who, when, which command; atomic commands; optimistic concurrency."""

import pytest

from conftest import KEYCLOAK, SNAPSHOT

from imagetrail.engine.service import unit_of_work
from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.service.deployments import Deployments
from imagetrail.engine.domain.trigger_definition import TriggerChange
from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.errors import Conflict
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.settings import Settings


def all_events(app):
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=1, limit=10_000)]


@pytest.fixture
def app(store_url):
    return ImageTrail(parse_store(Settings(store=store_url)), Resolver(SNAPSHOT))


def test_every_event_records_actor_time_and_one_correlation_id_per_command(app):
    app.tag("demo", f"{KEYCLOAK}:20.0.2", ["keycloak:20.0.2"], actor="alice")
    app.tag("demo", "keycloak:20.0.2", ["keycloak:20"], alias=True, actor="bob", reason="pin 20")
    events = all_events(app)
    first, second = events[:2], events[2:]
    assert {e.actor for e in first} == {"alice"} and {e.actor for e in second} == {"bob"}
    assert len({e.correlation_id for e in first}) == 1
    assert {e.correlation_id for e in first}.isdisjoint({e.correlation_id for e in second})
    assert {e.reason for e in second} == {"pin 20"}
    assert all(e.timestamp.tzinfo is not None for e in events)


def test_actor_defaults_to_the_environment(imagetrail, app, monkeypatch):
    monkeypatch.setenv("IMAGETRAIL_ACTOR", "ci-bot")  # read by the CLI, which passes it to the service
    imagetrail(f"tag {KEYCLOAK}:20.0.2 keycloak:1")
    assert {e.actor for e in all_events(app)} == {"ci-bot"}


def test_a_tag_move_and_the_rollouts_it_triggers_are_one_atomic_save(app):
    app.tag("demo", f"{KEYCLOAK}:20.0.2", ["keycloak:20"])
    Deployments(app).create_deployment("demo", "web", [f"{KEYCLOAK}:20.0.2"])
    Deployments(app).set_triggers("demo", "web", TriggerChange("keycloak:20", containers=("keycloak",)))
    head = app.recorder.max_notification_id()
    app.tag("demo", f"{KEYCLOAK}:20.0.3", ["keycloak:20"])
    batch = app.recorder.select_notifications(start=head + 1, limit=100)
    events = [app.mapper.to_domain_event(n) for n in batch]
    kinds = [type(e).__qualname__ for e in events]
    assert kinds == ["ImageStream.SpecTagSet", "ImageStream.TagMoved", "Deployment.ImagesChanged",
                     "Deployment.RolledOut"]
    assert len({e.correlation_id for e in events}) == 1
    moved, changed = events[1], events[2]
    cause = changed.changes[0].cause
    assert (cause.kind, cause.stream, cause.tag, cause.tag_event) == \
        ("trigger", "demo/keycloak", "20", moved.originator_version)


def test_a_stale_write_is_refused_and_writes_nothing(app, store_url):
    other = ImageTrail(parse_store(Settings(store=store_url)), Resolver(SNAPSHOT))
    app.tag("demo", f"{KEYCLOAK}:20.0.2", ["keycloak:20"])
    with pytest.raises(Conflict, match="changed concurrently; nothing was written, retry the command"):
        with unit_of_work.command(app, "stale") as (uow, outcome):
            stream = uow.get(ImageStream, "demo", "keycloak")       # read ...
            other.tag("demo", f"{KEYCLOAK}:20.0.3", ["keycloak:21"])  # ... someone else writes ...
            stream.set_lookup_policy(True)                           # ... our write is stale
    assert other.stream("demo", "keycloak").state.lookup_local is False
    assert sorted(other.stream("demo", "keycloak").state.spec_tags) == ["20", "21"]


def test_deterministic_ids_find_objects_by_name():
    assert ImageStream.id_for("demo", "keycloak") == ImageStream.id_for("demo", "keycloak")
    assert ImageStream.id_for("demo", "keycloak") != Deployment.id_for("demo", "keycloak")
    assert ImageStream.id_for("a", "b-c") != ImageStream.id_for("a-b", "c")


def test_a_command_that_loses_a_race_is_retried_on_fresh_state(app, store_url, monkeypatch):
    other = ImageTrail(parse_store(Settings(store=store_url)), Resolver(SNAPSHOT))
    app.tag("demo", f"{KEYCLOAK}:20.0.2", ["keycloak:20"])
    real_commit = unit_of_work.commit
    raced = []

    def commit_after_a_rival(commit_app, uow, result, command, **options):
        if commit_app is app and not raced:
            raced.append(True)
            other.tag("demo", f"{KEYCLOAK}:20.0.3", ["keycloak:21"])  # lands between our read and write
        return real_commit(commit_app, uow, result, command, **options)

    monkeypatch.setattr(unit_of_work, "commit", commit_after_a_rival)
    result = app.set_image_lookup("demo", ["keycloak"])
    assert raced and result.updated == ["keycloak"]
    state = other.stream("demo", "keycloak").state
    assert state.lookup_local is True and sorted(state.spec_tags) == ["20", "21"]


def test_snapshots_load_long_histories_and_equal_a_full_replay(app, store_url):
    for i in range(60):
        app.tag("demo", f"{KEYCLOAK}@sha256:{i:064x}", ["keycloak:live"])
    stream_id = ImageStream.id_for("demo", "keycloak")
    assert [s.originator_version for s in app.snapshots.get(stream_id)] == [50, 100]

    class WithoutSnapshots(ImageTrail):
        snapshotting_intervals = {}

    replayed = WithoutSnapshots(parse_store(Settings(store=store_url)), Resolver(SNAPSHOT)).stream("demo", "keycloak")
    assert replayed.version == 120 and app.snapshots is not None
    from_snapshot = ImageTrail(parse_store(Settings(store=store_url)), Resolver(SNAPSHOT)).stream("demo", "keycloak")
    assert from_snapshot.state == replayed.state and from_snapshot.version == replayed.version
    assert len(from_snapshot.state.status_tags["live"].items) == 60
