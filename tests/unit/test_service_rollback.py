"""The rollback use cases called directly (no CLI, no click): target selection over a HistoryReader
(a fake of a few rows, then the projections' own), the plan as data, and execute doing that plan."""

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import pytest

from conftest import A, B, C, KEYCLOAK, SNAPSHOT

from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.settings import Settings
from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.trigger_definition import TriggerChange
from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.service.deployments import Deployments
from imagetrail.engine.service.ports import TagChangeRecord
from imagetrail.engine.service.rollback import Rollback, RollbackTarget, Target, TagMove
from imagetrail.projections.history_reader import ProjectionHistory
from imagetrail.projections.runner import catch_up
from imagetrail.projections.views import open_view

NS = "demo"
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


@dataclass
class FakeHistory:
    """A log of 10 positions, one a minute from T0, and the tag changes given (newest first)."""

    changes: dict[tuple[str, str], list[TagChangeRecord]]
    deployments: list[str] = field(default_factory=list)

    def head(self) -> int:
        return 10

    def position_at(self, moment):
        minutes = int((moment - T0).total_seconds() // 60)
        return min(minutes + 1, 10) if minutes >= 0 else None

    def stream_exists(self, namespace, stream):
        return any(s == stream for s, _ in self.changes)

    def status_tags(self, namespace):
        return sorted(self.changes)

    def tag_changes(self, namespace, stream, tag):
        return self.changes.get((stream, tag), [])

    def deployment_names(self, namespace):
        return self.deployments

    def spec_at(self, namespace, stream, tag, position):
        return None, position


def record(position, digest):
    return TagChangeRecord(position, digest, f"{KEYCLOAK}@{digest}" if digest else None)


HISTORY = FakeHistory({
    ("keycloak", "20"): [record(9, C), record(6, B), record(2, A)],
    ("keycloak", "old"): [record(7, None), record(3, A)],   # deleted at 7
    ("keycloak", "new"): [record(8, C)],                    # created at 8
})


def select(**target):
    return Rollback(None, HISTORY).select(Target(NS, **target))


def test_a_position_chooses_what_the_tag_had_then():
    targets, skipped = select(stream="keycloak", tag="20", position=7)
    assert (targets, skipped) == ([RollbackTarget("keycloak", "20", B, f"{KEYCLOAK}@{B}", 7)], [])


def test_a_time_chooses_the_last_position_at_or_before_it():
    targets, _ = select(stream="keycloak", tag="20", moment=T0 + timedelta(minutes=2, seconds=30), moment_as_typed="x")
    assert targets == [RollbackTarget("keycloak", "20", A, f"{KEYCLOAK}@{A}", 3)]
    with pytest.raises(UsageError, match="nothing was recorded at or before \"yesterday\""):
        select(stream="keycloak", tag="20", moment=T0 - timedelta(days=1), moment_as_typed="yesterday")
    with pytest.raises(UsageError, match="is in the future .*: the log ends at position 10"):
        select(stream="keycloak", tag="20", moment=datetime.now(timezone.utc) + timedelta(hours=1))


def test_steps_and_revisions_count_the_tags_own_changes():
    assert select(stream="keycloak", tag="20", steps=1)[0][0].position == 6
    assert select(stream="keycloak", tag="20", steps=2)[0][0].image == A
    assert select(stream="keycloak", tag="20", revision=1)[0][0] == RollbackTarget(
        "keycloak", "20", A, f"{KEYCLOAK}@{A}", 2)
    with pytest.raises(UsageError, match="keycloak:20 has only 2 earlier positions"):
        select(stream="keycloak", tag="20", steps=3)
    with pytest.raises(UsageError, match="keycloak:20 has 3 revisions"):
        select(stream="keycloak", tag="20", revision=4)


def test_every_tag_skips_the_tags_that_had_no_image_then():
    targets, skipped = select(all_tags=True, position=7)
    assert [(t.tag, t.image) for t in targets] == [("20", B)]
    assert skipped == ["keycloak:new", "keycloak:old"]  # new did not exist yet; old was deleted at 7
    with pytest.raises(UsageError, match="no tag of namespace demo had an image at position 1"):
        select(all_tags=True, position=1)


def test_positions_past_the_head_and_unknown_streams_are_refused():
    with pytest.raises(UsageError, match=r"position 11 is past the head of the log \(10\)"):
        select(stream="keycloak", tag="20", position=11)
    with pytest.raises(UsageError, match="imagestreams.image.openshift.io \"other\" not found"):
        select(stream="other", tag="20", position=5)
    with pytest.raises(UsageError, match="keycloak:old had no image at position 8"):
        select(stream="keycloak", tag="old", position=8)
    with pytest.raises(UsageError, match="exactly one of"):
        select(stream="keycloak", tag="20", position=5, steps=1)


# -- plan and execute on a real application, with the projections as the history -------------------

@pytest.fixture
def app(tmp_path):
    mirror = tmp_path / "mirror.json"
    mirror.write_text(json.dumps(SNAPSHOT))
    app = ImageTrail(parse_store(Settings(store="memory://")), Resolver.from_file(str(mirror)))
    deployments = Deployments(app)
    app.tag(NS, f"{KEYCLOAK}:20.0.2", ["keycloak:20"])
    deployments.create_deployment(NS, "web", [f"{KEYCLOAK}:20.0.2"])
    deployments.set_triggers(NS, "web", TriggerChange("keycloak:20", containers=("keycloak",)))
    deployments.create_deployment(NS, "pinned", [f"{KEYCLOAK}@{B}"])
    app.tag(NS, f"{KEYCLOAK}:20.0.3", ["keycloak:20"])
    return app


@pytest.fixture
def history(app, tmp_path):
    view = open_view(str(tmp_path / "views.db"), app.source)

    def caught_up():
        catch_up(app, view)
        return view
    return ProjectionHistory(app, caught_up)


def test_the_plan_says_each_deployments_fate_and_execute_does_exactly_that(app, history):
    rollback = Rollback(app, history)
    head = app.recorder.max_notification_id()
    target = Target(NS, "keycloak", "20", steps=1)
    planned = rollback.plan(target)
    assert app.recorder.max_notification_id() == head  # a plan writes nothing
    assert planned.dry_run and planned.targets == [RollbackTarget("keycloak", "20", A, f"{KEYCLOAK}@{A}",
                                                                  planned.position)]
    assert [(t.tag, t.change, t.from_image, t.to_image) for t in planned.plan.tags] == [("20", "rollback", B, A)]
    fates = {f.deployment: (f.fate, f.reason, f.revision) for f in planned.plan.deployments}
    # revisions: 1 created, 2 the trigger set up, 3 the tag moved to B, 4 this rollback
    assert fates == {"web": ("rolls-out", "TriggerFollows", 4), "pinned": ("no-trigger", "NoTrigger", None)}

    done = rollback.execute(target)
    assert replace(done, dry_run=True) == planned
    assert done.moves == [TagMove("keycloak", "20", f"{KEYCLOAK}@{A}", planned.position, True)]
    assert app.deployment(NS, "web").state.container("keycloak").image == f"{KEYCLOAK}@{A}"
    assert app.recorder.max_notification_id() > head


def test_the_projection_history_selects_by_position_and_restores_a_spec(app, history):
    rollback = Rollback(app, history)
    moved_at = history.tag_changes(NS, "keycloak", "20")[0].position
    first = rollback.select(Target(NS, "keycloak", "20", position=moved_at - 1))[0]
    assert [(t.image, t.position) for t in first] == [(A, moved_at - 1)]

    app.tag(NS, "keycloak:20", ["keycloak:latest"], alias=True)
    aliased_at = history.head()
    app.tag(NS, f"{KEYCLOAK}:21.0.0", ["keycloak:latest"])
    restored = rollback.execute(Target(NS, "keycloak", "latest", position=aliased_at, restore_spec=True))
    assert (restored.spec.source_kind, restored.spec.source_name) == ("ImageStreamTag", "keycloak:20")
    assert restored.spec.resolves_to == f"{KEYCLOAK}@{B}"
    assert [(t.tag, t.to_image) for t in restored.plan.tags] == [("latest", B)]
