"""A long-running process keeps the aggregates it saved (engine/service/warm_aggregates.py):
its next command must behave exactly as if it had loaded them from the store."""

import pytest

from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.domain.aggregate import project
from imagetrail.engine.domain.errors import Invalid
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.model import DOCKER_IMAGE, ObjectReference, TagReference
from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.service.unit_of_work import command
from imagetrail.engine.service.warm_aggregates import WarmAggregates
from imagetrail.engine.settings import Settings

REPO = "quay.io/org/app"


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def open_app(path) -> ImageTrail:
    return ImageTrail(parse_store(Settings(store=f"sqlite:///{path}")), Resolver())


def cold_state(path, name: str = "app"):
    """The stream as a process that never ran a command loads it: from the store."""
    return open_app(path).stream("demo", name).state


def images(state, tag: str = "live") -> list[str]:
    return [item.image for item in state.status_tags[tag].items]


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store.db"


def test_the_next_command_sees_what_another_process_wrote_in_between(store):
    ours, theirs = open_app(store), open_app(store)
    ours.tag("demo", f"{REPO}@{digest(1)}", ["app:live"])
    theirs.tag("demo", f"{REPO}@{digest(2)}", ["app:live"])
    with command(ours, "reads only") as (uow, _):
        assert uow.get(ImageStream, "demo", "app").state == cold_state(store)
    ours.tag("demo", f"{REPO}@{digest(3)}", ["app:live"])
    assert images(cold_state(store)) == [digest(3), digest(2), digest(1)]
    assert ours.stream("demo", "app").state == cold_state(store)


def test_a_failed_command_leaves_nothing_for_the_next_one(store):
    app = open_app(store)
    app.tag("demo", f"{REPO}@{digest(1)}", ["app:live"])
    with pytest.raises(Invalid):
        with command(app, "fails half way") as (uow, _):
            stream = uow.get(ImageStream, "demo", "app")
            stream.set_spec_tag(TagReference(name="half", source=ObjectReference(kind=DOCKER_IMAGE, name=REPO)))
            raise Invalid("the command found a problem after it changed the stream")
    app.tag("demo", f"{REPO}@{digest(2)}", ["app:live"])
    state = cold_state(store)
    assert "half" not in state.spec_tags
    assert images(state) == [digest(2), digest(1)]


def test_a_dry_run_keeps_none_of_the_changes_it_planned(store):
    app = open_app(store)
    app.tag("demo", f"{REPO}@{digest(1)}", ["app:live"])
    with command(app, "plan only", dry_run=True) as (uow, _):
        uow.get(ImageStream, "demo", "app").set_spec_tag(
            TagReference(name="planned", source=ObjectReference(kind=DOCKER_IMAGE, name=REPO)))
    app.tag("demo", f"{REPO}@{digest(2)}", ["app:live"])
    assert "planned" not in cold_state(store).spec_tags


def test_snapshots_are_the_saved_aggregate_at_their_version(store):
    app = open_app(store)
    for n in range(130):
        app.tag("demo", f"{REPO}@{digest(n)}", ["app:live"])
    stream_id = ImageStream.id_for("demo", "app")
    snapshots = list(app.snapshots.get(stream_id))
    assert len(snapshots) >= 2  # a snapshot per interval crossed (two events a command here)
    for snapshot in snapshots:
        replayed = project(None, app.events.get(stream_id, lte=snapshot.originator_version))
        assert project(None, [snapshot]).state == replayed.state
    assert cold_state(store) == app.stream("demo", "app").state


def test_the_warm_set_keeps_only_saved_aggregates_and_forgets_the_oldest(store):
    app = open_app(store)
    for name in ("a", "b", "c"):
        app.tag("demo", f"{REPO}@{digest(1)}", [f"{name}:live"])
    saved = [app.stream("demo", name) for name in ("a", "b", "c")]
    warm = WarmAggregates(size=2)
    warm.put_back(saved)
    assert warm.take(saved[0].id) is None  # the oldest went first
    assert warm.take(saved[2].id) is saved[2]
    assert warm.take(saved[2].id) is None  # handed out once
    assert warm.take(saved[1].id) is saved[1]
    saved[1].set_spec_tag(TagReference(name="pending", source=ObjectReference(kind=DOCKER_IMAGE, name=REPO)))
    warm.put_back([saved[1]])
    assert len(warm) == 0  # an unsaved change is never kept
