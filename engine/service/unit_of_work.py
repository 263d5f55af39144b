"""One command, one atomic save: the unit of work, the command context and what the controllers did.

A command loads the aggregates it needs through a `UnitOfWork`; at the end of its `command`
block the trigger controller and the Deployment controller react to what changed, and
everything is saved together. Their reactions come back as data on the command's result.
"""

from __future__ import annotations

import contextlib
import functools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from imagetrail.engine.domain import context, rollback_plan
from imagetrail.engine.domain.aggregate import project, recreate
from imagetrail.engine.domain.deployment import Cause, Deployment
from imagetrail.engine.domain.errors import Conflict, Invalid
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.watchers import StreamWatchers
from imagetrail.engine.service.warm_aggregates import WarmAggregates

if TYPE_CHECKING:
    from imagetrail.engine.service.application import ImageTrail

A = TypeVar("A")
R = TypeVar("R")

CONFLICT_RETRIES = 5


# -- what the controllers and the import did, as data ----------------------------------------------

@dataclass(frozen=True)
class Rollout:
    """The Deployment controller rolled a Deployment out (its template changed)."""

    deployment: str
    revision: int


@dataclass(frozen=True)
class TriggerNotApplied:
    """The trigger controller could not apply a Deployment's trigger (it would log and retry)."""

    deployment: str
    error: str


@dataclass(frozen=True)
class ImportFailure:
    """An import that failed: recorded as the tag's ImportSuccess=False condition."""

    stream: str
    tag: str
    message: str


@dataclass
class Reactions:
    """What every command's result carries besides its own answer."""

    rollouts: list[Rollout] = field(default_factory=list)
    not_applied: list[TriggerNotApplied] = field(default_factory=list)
    failures: list[ImportFailure] = field(default_factory=list)


@dataclass
class Outcome(Reactions):
    """The reactions of a command that returns a result of its own, and, when asked for, its plan."""

    plan: rollback_plan.RollbackPlan | None = None  # what the save will do (rollback), computed before it


# -- loading and saving ------------------------------------------------------------------------------

def retry_on_conflict(command: Callable[..., R]) -> Callable[..., R]:
    """Re-run a command on fresh state when a concurrent writer got there first.

    Every command re-reads and re-validates from scratch, so a retry means the same as
    typing it again (like oc's retry-on-conflict); after a few losses the conflict is
    reported.
    """
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> R:
        for attempt in range(CONFLICT_RETRIES):
            try:
                return command(*args, **kwargs)
            except Conflict:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    return run


class UnitOfWork:
    """The aggregates one command touches, loaded once and saved together."""

    def __init__(self, app: ImageTrail, *, warm: WarmAggregates | None = None):
        self.app = app
        self.warm = warm  # a command's unit of work takes what the process saved before, and puts it back
        self.loaded: dict[UUID, Any] = {}
        self.missing: set[UUID] = set()
        self.deleted: dict[UUID, Any] = {}  # objects deleted on a cluster: read as missing, re-created in place

    def get(self, cls: type[A], namespace: str, name: str) -> A | None:
        agg_id = cls.id_for(namespace, name)
        if agg_id in self.loaded:
            return self.loaded[agg_id]
        if agg_id in self.missing:
            return None
        agg = self.warm.take(agg_id) if self.warm else None
        if agg is not None:  # what other commands (here or elsewhere) wrote since
            agg = project(agg, self.app.events.get(originator_id=agg_id, gt=agg.version))
        else:
            try:
                agg = self.app.repository.get(agg_id, projector_func=project)
            except AggregateNotFoundError:
                self.missing.add(agg_id)
                return None
        if getattr(agg.state, "deleted", False):
            self.deleted[agg_id] = agg
            self.missing.add(agg_id)
            return None
        self.loaded[agg_id] = agg
        return agg

    def add(self, agg: Any) -> Any:
        """A new aggregate; in place of a deleted one of the same id, that one, re-created."""
        if agg.id in self.deleted:
            agg = recreate(self.deleted.pop(agg.id), agg)
        self.missing.discard(agg.id)
        self.loaded[agg.id] = agg
        return agg

    def delete(self, agg: Any) -> None:
        """Record the object's deletion; it reads as missing from now on."""
        agg.trigger_event(type(agg).Deleted)
        self.loaded[agg.id] = agg

    def of_type(self, cls: type[A]) -> list[A]:
        return [a for a in self.loaded.values() if isinstance(a, cls)]

    def pending(self) -> list[Any]:
        return [a for a in self.loaded.values() if a.pending_events]


@contextlib.contextmanager
def command(app: ImageTrail, description: str, actor: str | None = None, reason: str = "", *,
            result: R | None = None, plan: rollback_plan.PlanScope | None = None,
            dry_run: bool = False, observed: str = "") -> Iterator[tuple[UnitOfWork, R]]:
    """One user command: its own actor and correlation id, one atomic save at the end.

    `result` (an `Outcome` when not given) receives the controllers' reactions. An exception
    inside the block writes nothing. `observed` names a change seen on a cluster: it is recorded
    as the cluster made it, and imagetrail's controllers do not react to it (the cluster's own
    controllers did, and their changes are observed in turn).
    """
    with context.command(actor=actor, reason=reason, description=description, observed=observed):
        uow = UnitOfWork(app, warm=app.warm)
        result = Outcome() if result is None else result
        yield uow, result
        if observed:
            save_all(app, uow)
        else:
            commit(app, uow, result, description, plan=plan, dry_run=dry_run)
        app.warm.put_back(uow.loaded.values())  # only after the save: a failed command keeps nothing


def commit(app: ImageTrail, uow: UnitOfWork, result: Reactions, command: str, *,
           plan: rollback_plan.PlanScope | None = None, dry_run: bool = False) -> Reactions:
    """Run the trigger and Deployment controllers on what changed, then save atomically.

    With `plan`, first describe everything the save will do (on `result.plan`); with
    `dry_run`, only that.
    """
    for stream in uow.of_type(ImageStream):
        if stream.moved_tags():
            watchers = uow.get(StreamWatchers, stream.namespace, stream.name)
            for key in watchers.state.deployments if watchers else []:
                ns, name = key.split("/", 1)
                uow.get(Deployment, ns, name)

    def resolve(ns: str, stream_name: str, tag: str) -> str | None:
        stream = uow.get(ImageStream, ns, stream_name)
        return stream.state.resolve(tag) if stream else None

    def cause_for(ns: str, stream_name: str, tag: str) -> Cause:
        stream = uow.get(ImageStream, ns, stream_name)
        moves = [e for e in stream.pending_events
                 if isinstance(e, ImageStream.TagMoved) and e.tag == tag] if stream else []
        return Cause(kind="trigger", stream=f"{ns}/{stream_name}", tag=tag,
                     tag_event=moves[-1].originator_version if moves else None)

    for deployment in uow.of_type(Deployment):
        try:
            deployment.follow_triggers(resolve, cause_for)
        except Invalid as e:  # the controller would log, retry, and leave the object alone
            result.not_applied.append(TriggerNotApplied(deployment.name, str(e)))
            continue
        if deployment.roll_out(command):
            result.rollouts.append(Rollout(deployment.name, deployment.state.revision))
    if plan is not None:
        result.plan = describe_plan(app, uow, plan)
    if not dry_run:
        save_all(app, uow)
    return result


def describe_plan(app: ImageTrail, uow: UnitOfWork, scope: rollback_plan.PlanScope) -> rollback_plan.RollbackPlan:
    """What the pending events of a unit of work will do, from the events themselves: so a
    dry run shows exactly what the real run does. Computed after the controllers, before the save."""
    for ns, stream_name, _ in scope.targets:  # followers of a tag that does not move are in the plan too
        watchers = uow.get(StreamWatchers, ns, stream_name)
        for key in watchers.state.deployments if watchers else []:
            uow.get(Deployment, *key.split("/", 1))
    for ns, name in scope.bystanders:
        uow.get(Deployment, ns, name)  # loaded after the controllers ran: only read, never saved
    streams, deployments = uow.of_type(ImageStream), uow.of_type(Deployment)
    committed_streams = {(s.namespace, s.name): app.stream(s.namespace, s.name) for s in streams}
    committed_deployments = {(d.namespace, d.name): app.deployment(d.namespace, d.name) if d.pending_events
                             else d for d in deployments}
    return rollback_plan.plan(
        scope.targets, streams, {k: s.state for k, s in committed_streams.items() if s},
        deployments, {k: d.state for k, d in committed_deployments.items() if d})


def save_all(app: ImageTrail, uow: UnitOfWork) -> None:
    pending = uow.pending()
    if not pending:
        return
    if not app.store.partitioned:
        _save(app, pending)
        return
    # A store with a topic per namespace saves each namespace atomically, one after the other, as
    # a cluster's controllers write a tag move and the rollout it triggers in another namespace
    # separately. Trigger indexes and tags go first: a Deployment is never left watching a tag
    # whose index does not list it. A failed later save leaves that Deployment to the next command
    # that touches it, whose controllers converge it (docs/semantics.md §18.9).
    by_namespace: dict[str, list[Any]] = {}
    for aggregate in pending:
        by_namespace.setdefault(_namespace_of(aggregate), []).append(aggregate)
    order = sorted(by_namespace, key=lambda ns: (all(isinstance(a, Deployment) for a in by_namespace[ns]), ns))
    for namespace in order:
        _save(app, by_namespace[namespace], namespace=namespace)


def _save(app: ImageTrail, aggregates: list[Any], **kwargs: Any) -> None:
    try:
        app.save(*aggregates, **kwargs)
    except IntegrityError:
        names = ", ".join(sorted(_describe(a) for a in aggregates))
        raise Conflict(f"{names} changed concurrently; nothing was written, retry the command") from None


def _namespace_of(aggregate: Any) -> str:
    return aggregate.state.namespace


def _describe(agg: Any) -> str:
    if isinstance(agg, ImageStream):
        return f"imagestream {agg.namespace}/{agg.name}"
    if isinstance(agg, Deployment):
        return f"deployment {agg.namespace}/{agg.name}"
    return f"trigger index {agg.state.namespace}/{agg.state.stream}"
