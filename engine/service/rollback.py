"""The rollback use cases: choose what a tag had at a past point (from the history), and move it
back by new events with every trigger reaction, in one atomic save; or only plan it.

`plan(target)` and `execute(target)` run the same command on the same unit of work, one without
the save: the plan a dry run returns is what the real run does. Results are data; a front end
(the CLI) words them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from imagetrail.engine.domain import rollback_plan
from imagetrail.engine.domain.errors import NotFound, UsageError
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.model import TagReference
from imagetrail.engine.domain.parsing import timestamp
from imagetrail.engine.domain.references import quote
from imagetrail.engine.service.ports import HistoryReader
from imagetrail.engine.service.tag_processing import set_tag
from imagetrail.engine.service.unit_of_work import (
    ImportFailure,
    Rollout,
    TriggerNotApplied,
    command,
    retry_on_conflict,
)

if TYPE_CHECKING:
    from imagetrail.engine.service.application import ImageTrail


@dataclass(frozen=True)
class Target:
    """What to roll back, and to when: one tag (`stream` and `tag`) or, with `all_tags`, every tag
    of the namespace; and exactly one of a log `position`, a `moment`, a number of `steps` back or a
    `revision` (the tag's K-th change, oldest first). `restore_spec` puts back the tag's spec (an
    alias stays an alias) instead of its image."""

    namespace: str
    stream: str = ""
    tag: str = ""
    all_tags: bool = False
    position: int | None = None
    moment: datetime | None = None
    moment_as_typed: str = ""  # the moment as the user wrote it, for "nothing was recorded" errors
    steps: int | None = None
    revision: int | None = None
    restore_spec: bool = False


@dataclass(frozen=True)
class RollbackTarget:
    """What a tag had at a past position, as the history shows it."""

    stream: str
    tag: str
    image: str
    pull_spec: str
    position: int


@dataclass(frozen=True)
class TagMove:
    """A rolled-back tag: `moved` is False when it already pointed to that image."""

    stream: str
    tag: str
    pull_spec: str
    position: int
    moved: bool


@dataclass(frozen=True)
class SpecRestore:
    """A tag whose spec was put back as it was at `position`, and what it resolves to now."""

    stream: str
    tag: str
    source_kind: str | None  # None: the spec had no source
    source_name: str | None
    position: int
    resolves_to: str | None


@dataclass
class RollbackResult:
    namespace: str
    position: int            # the position rolled back to (the latest, over several tags)
    dry_run: bool
    plan: rollback_plan.RollbackPlan
    targets: list[RollbackTarget] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # "stream:tag" that had no image then (all_tags)
    moves: list[TagMove] = field(default_factory=list)
    spec: SpecRestore | None = None
    rollouts: list[Rollout] = field(default_factory=list)  # the Deployments the move rolls out
    not_applied: list[TriggerNotApplied] = field(default_factory=list)  # triggers the controller could not apply
    failures: list[ImportFailure] = field(default_factory=list)  # a restored spec that failed to resolve


def _check(target: Target) -> None:
    """A front end checks its own flags first, in its own words; this keeps any caller honest."""
    if sum(x is not None for x in (target.position, target.moment, target.steps, target.revision)) != 1:
        raise UsageError("a rollback target needs exactly one of a position, a time, a number of steps or a revision")
    if target.all_tags == bool(target.stream):
        raise UsageError("a rollback target names one tag or every tag of the namespace")
    if (target.all_tags or target.restore_spec) and (target.steps is not None or target.revision is not None):
        raise UsageError("steps and revisions count one tag's changes: restoring a spec or every tag needs "
                         "a position or a time")
    if target.all_tags and target.restore_spec:
        raise UsageError("a spec is restored for one tag")


def log_position(history: HistoryReader, *, position: int | None = None, moment: datetime | None = None,
                 as_typed: str = "", now: datetime | None = None) -> int:
    """A log position, or the last position at a moment: within the log as it stands, never past its
    head nor in the future."""
    head = history.head()
    if position is not None:
        if position > head:
            raise UsageError(f"position {position} is past the head of the log ({head})")
        return position
    now = now or datetime.now(timezone.utc)
    if moment > now:
        raise UsageError(f"time {timestamp(moment)} is in the future (now {timestamp(now)}): "
                         f"the log ends at position {head}")
    found = history.position_at(moment)
    if found is None:
        raise UsageError(f"nothing was recorded at or before {quote(as_typed)}")
    return found


class Rollback:
    def __init__(self, app: ImageTrail, history: HistoryReader):
        self.app, self.history = app, history

    def plan(self, target: Target, *, actor: str | None = None, reason: str = "") -> RollbackResult:
        """What `execute(target)` would do, as its plan; nothing is written."""
        return self._run(target, dry_run=True, actor=actor, reason=reason)

    def execute(self, target: Target, *, actor: str | None = None, reason: str = "") -> RollbackResult:
        """Roll back: the plan is computed inside the command's unit of work, before its save."""
        return self._run(target, dry_run=False, actor=actor, reason=reason)

    def _run(self, target: Target, *, dry_run: bool, actor: str | None, reason: str) -> RollbackResult:
        if target.restore_spec:
            _check(target)
            position = self.position(target)
            bystanders = self.history.deployment_names(target.namespace)
            spec, at = self.history.spec_at(target.namespace, target.stream, target.tag, position)
            if spec is None:
                where = f"{target.stream}:{target.tag}"
                raise UsageError(f"{where} had no spec at position {position} (see imagetrail history {where})")
            return self._restore_spec(target.namespace, target.stream, spec, at, dry_run=dry_run,
                                      bystanders=bystanders, actor=actor, reason=reason)
        targets, skipped = self.select(target)
        bystanders = self.history.deployment_names(target.namespace)
        result = self._roll_back(target.namespace, targets, dry_run=dry_run, bystanders=bystanders, actor=actor,
                                 reason=reason)
        result.skipped = skipped
        return result

    def position(self, target: Target) -> int | None:
        """The log position the target names (by position or moment); None for steps and revisions."""
        if target.position is None and target.moment is None:
            return None
        return log_position(self.history, position=target.position, moment=target.moment,
                            as_typed=target.moment_as_typed)

    def select(self, target: Target) -> tuple[list[RollbackTarget], list[str]]:
        """The image each tag had at the target, and the tags of `all_tags` that had none then."""
        _check(target)
        position = self.position(target)
        ns = target.namespace
        if target.all_tags:
            tags = self.history.status_tags(ns)
        else:
            if not self.history.stream_exists(ns, target.stream):
                raise UsageError(f"imagestreams.image.openshift.io {quote(target.stream)} not found")
            tags = [(target.stream, target.tag)]
        targets, skipped = [], []
        for stream, tag in tags:
            changes = self.history.tag_changes(ns, stream, tag)
            if target.revision is not None:
                if target.revision > len(changes):
                    raise UsageError(f"{stream}:{tag} has {len(changes)} revisions "
                                     f"(see imagetrail history {stream}:{tag})")
                chosen = changes[len(changes) - target.revision]
                at = chosen.position
            elif target.steps is not None:
                if target.steps >= len(changes):
                    raise UsageError(f"{stream}:{tag} has only {len(changes) - 1} earlier positions "
                                     f"(see imagetrail history {stream}:{tag})")
                chosen = changes[target.steps]
                at = chosen.position
            else:
                chosen, at = next((c for c in changes if c.position <= position), None), position
            if chosen is None or chosen.image is None:
                if not target.all_tags:
                    raise UsageError(f"{stream}:{tag} had no image at position {at} "
                                     f"(see imagetrail history {stream}:{tag})")
                skipped.append(f"{stream}:{tag}")
                continue
            targets.append(RollbackTarget(stream, tag, chosen.image, chosen.pull_spec, at))
        if not targets:
            raise UsageError(f"no tag of namespace {ns} had an image at position {position}")
        return targets, skipped

    @retry_on_conflict
    def _roll_back(self, namespace: str, targets: list[RollbackTarget], *, dry_run: bool, bystanders: list[str],
                   actor: str | None, reason: str) -> RollbackResult:
        """Move tags back to the images they had, with every trigger reaction, in one atomic save (or,
        dry, none). The plan covers the Deployments that follow the tags and, of `bystanders` (the
        namespace's Deployments as the history lists them), those that run their images."""
        position = max(t.position for t in targets)
        names = " ".join(f"{t.stream}:{t.tag}" for t in targets)
        description = f"imagetrail rollback {names} --to-position {position}"
        scope = rollback_plan.PlanScope([(namespace, t.stream, t.tag) for t in targets],
                                        [(namespace, n) for n in bystanders])
        moves = []
        with command(self.app, description, actor, reason, plan=scope, dry_run=dry_run) as (uow, outcome):
            for target in targets:
                stream = uow.get(ImageStream, namespace, target.stream)
                if stream is None:
                    raise NotFound(f'imagestreams.image.openshift.io {quote(target.stream)} not found')
                moved = stream.roll_back(target.tag, target.pull_spec, target.image, target.position)
                moves.append(TagMove(target.stream, target.tag, target.pull_spec, target.position, moved))
        return RollbackResult(namespace, position, dry_run, outcome.plan, list(targets), moves=moves,
                              rollouts=list(outcome.rollouts), not_applied=list(outcome.not_applied),
                              failures=list(outcome.failures))

    @retry_on_conflict
    def _restore_spec(self, namespace: str, stream_name: str, spec: TagReference, position: int, *, dry_run: bool,
                      bystanders: list[str], actor: str | None, reason: str) -> RollbackResult:
        """Put back a tag's spec exactly as it was at `position` (an alias stays an alias), and
        resolve it now, as the API server does for a spec change."""
        description = f"imagetrail rollback {stream_name}:{spec.name} --restore-spec --to-position {position}"
        scope = rollback_plan.PlanScope([(namespace, stream_name, spec.name)],
                                        [(namespace, n) for n in bystanders])
        with command(self.app, description, actor, reason, plan=scope, dry_run=dry_run) as (uow, outcome):
            stream = uow.get(ImageStream, namespace, stream_name)
            if stream is None:
                raise NotFound(f'imagestreams.image.openshift.io {quote(stream_name)} not found')
            set_tag(self.app, uow, namespace, stream_name, spec.model_copy(update={"generation": 0}), outcome)
            source = spec.source
            restored = SpecRestore(stream_name, spec.name, source.kind if source else None,
                                   source.name if source else None, position, stream.state.resolve(spec.name))
        return RollbackResult(namespace, position, dry_run, outcome.plan, spec=restored,
                              rollouts=list(outcome.rollouts), not_applied=list(outcome.not_applied),
                              failures=list(outcome.failures))
