"""Pydantic domain events on top of the eventsourcing library's aggregate machinery.

An aggregate keeps its state in one pydantic model (`state`). Each event knows how to
`evolve` such a state; the aggregate applies events through it, and the read-side
projections reuse the very same `evolve` on their stored copy of the state, so the
rules live in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID, NAMESPACE_URL, uuid5

from eventsourcing.domain import BaseAggregate, CanInitAggregate, CanMutateAggregate, CanSnapshotAggregate
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel, ConfigDict, Field

from imagetrail.engine.domain import context

IMAGETRAIL_IDS = uuid5(NAMESPACE_URL, "https://imagetrail.dev/aggregates")


def aggregate_id(kind: str, namespace: str, name: str) -> UUID:
    """Deterministic ids, so that a name resolves to its aggregate without a scan."""
    return uuid5(IMAGETRAIL_IDS, f"{kind}/{namespace}/{name}")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Model(BaseModel):
    # defer_build: validators are built at a model's first use, not at import (start-up)
    model_config = ConfigDict(defer_build=True, extra="forbid")


class DomainEvent(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    actor: str = Field(default_factory=lambda: context.current().actor)
    correlation_id: str = Field(default_factory=lambda: context.current().correlation_id)
    reason: str = Field(default_factory=lambda: context.current().reason)
    command: str = Field(default_factory=lambda: context.current().command)
    # set when the event records a change seen on a cluster (imagetrail watch): which object at which
    # resourceVersion, so an API audit record of the same change can name who made it
    observed: str = Field(default_factory=lambda: context.current().observed)

    @staticmethod
    def create_timestamp() -> datetime:
        return utcnow()


S = TypeVar("S", bound=Model)


def recreate(deleted: Any, new: Any) -> Any:
    """`deleted` (an aggregate whose object was deleted) taking the place of `new`, a just-created
    aggregate of the same id: its creation recorded as a Recreated event, the same aggregate after."""
    deleted.trigger_event(type(deleted).Recreated, state=new.state.model_dump(mode="json"))
    return deleted


def note_observed(event: DomainEvent, state: Any) -> None:
    """An event recording a change seen on a cluster moves the state's `observed_version` to that
    change's resourceVersion, so an older or repeated observation is known as such."""
    if event.observed and hasattr(state, "observed_version"):
        state.observed_version = event.observed.rpartition("@")[2]


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply events in order: eventsourcing's project_aggregate without its runtime check
    `isinstance(event, CanMutateProtocol)`, which (a typing.Protocol check, per event) cost a
    quarter of a tag command's time. Every event here is an Aggregate.Event or a Snapshot."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class Aggregate(BaseAggregate[UUID], Generic[S]):
    # `state` (an S) is set by the Created event; not annotated here, because the
    # library turns class annotations into __init__ parameters.
    state_class: ClassVar[type[Model]]

    class Snapshot(DomainEvent, CanSnapshotAggregate[UUID]):
        """The aggregate's state at a version, so long histories load without a full replay."""

        topic: str
        state: dict[str, Any]

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            return cls(
                originator_id=aggregate.id, originator_version=aggregate.version,
                timestamp=cls.create_timestamp(), topic=get_topic(type(aggregate)),
                state={"created_on": aggregate.created_on.isoformat(),
                       "modified_on": aggregate.modified_on.isoformat(),
                       "state": aggregate.state.model_dump(mode="json")},
            )

        def mutate(self, _: None) -> Any:
            aggregate_class = resolve_topic(self.topic)
            aggregate = object.__new__(aggregate_class)
            aggregate.__dict__.update(
                _id=self.originator_id, _version=self.originator_version, _pending_events=[],
                _created_on=datetime.fromisoformat(self.state["created_on"]),
                _modified_on=datetime.fromisoformat(self.state["modified_on"]),
                state=aggregate_class.state_class.model_validate(self.state["state"]),
            )
            return aggregate

    class Event(DomainEvent, CanMutateAggregate[UUID]):
        def apply(self, aggregate: Any) -> None:
            self.evolve(aggregate.state)
            note_observed(self, aggregate.state)

        def evolve(self, state: Any) -> None:
            raise NotImplementedError

    class Created(Event, CanInitAggregate[UUID]):
        originator_topic: str
        state_class: ClassVar[type[Model]]

        def apply(self, aggregate: Any) -> None:
            aggregate.state = self.initial_state()
            note_observed(self, aggregate.state)

        def initial_state(self) -> Any:
            raise NotImplementedError

        def evolve(self, state: Any) -> None:  # a created event has nothing to evolve
            raise TypeError("Created events start a state, they do not evolve one")


# Events every kept object (an image stream, a Deployment) has, each aggregate subclassing them by
# name (ImageStream.Deleted, …): module level, so aggregates without them (the trigger index) do
# not get them from eventsourcing's per-class copies of inherited event classes.
class ObjectDeleted(Aggregate.Event):
    """The object was deleted (on a cluster). Its history stays; reads no longer find it."""

    def evolve(self, state: Any) -> None:
        state.deleted = True


class ObjectRecreated(Aggregate.Event):
    """An object of a deleted one's name was created again: the state starts over, the
    history before it stays (ids are derived from names, so it is the same aggregate)."""

    state: dict[str, Any]

    def evolve(self, state: Any) -> None:
        fresh = type(state).model_validate(self.state)
        for name in type(state).model_fields:
            setattr(state, name, getattr(fresh, name))

class ChangeAttributed(Aggregate.Event):
    """Who made a change seen on a cluster, from the API server's audit log: the user (and the
    user impersonated), the verb, the request's resource, when, and the audit id. It names the
    change by its resourceVersion when the audit record gives one."""

    resource_version: str   # "" at Metadata or Request level: the record names no version
    user: str
    verb: str
    resource: str
    intent: str             # what the user typed, when the request shows it (oc tag, oc import-image)
    audit_id: str
    at: str                 # stageTimestamp

    def evolve(self, state: Any) -> None:
        state.attributed_until = max(state.attributed_until, self.at)
