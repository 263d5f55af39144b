"""Which Deployments watch an image stream: the write side's index for trigger reactions.

Kept as an aggregate, saved atomically with the trigger change that alters it, so a tag
move finds its Deployments by id, without scanning, on every store.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from imagetrail.engine.domain.aggregate import Aggregate, Model, aggregate_id


class StreamWatchersState(Model):
    namespace: str
    stream: str
    deployments: list[str] = Field(default_factory=list)  # "namespace/name", sorted


class StreamWatchers(Aggregate[StreamWatchersState]):
    state_class = StreamWatchersState

    @staticmethod
    def id_for(namespace: str, stream: str) -> UUID:
        return aggregate_id("watchers", namespace, stream)

    class Created(Aggregate.Created):
        namespace: str
        stream: str

        def initial_state(self) -> StreamWatchersState:
            return StreamWatchersState(namespace=self.namespace, stream=self.stream)

    class Watched(Aggregate.Event):
        deployment: str

        def evolve(self, state: StreamWatchersState) -> None:
            state.deployments = sorted({*state.deployments, self.deployment})

    class Unwatched(Aggregate.Event):
        deployment: str

        def evolve(self, state: StreamWatchersState) -> None:
            state.deployments = [d for d in state.deployments if d != self.deployment]

    @classmethod
    def create(cls, namespace: str, stream: str) -> StreamWatchers:
        return cls._create(cls.Created, id=cls.id_for(namespace, stream), namespace=namespace, stream=stream)

    def watch(self, deployment: str) -> None:
        if deployment not in self.state.deployments:
            self.trigger_event(self.Watched, deployment=deployment)

    def unwatch(self, deployment: str) -> None:
        if deployment in self.state.deployments:
            self.trigger_event(self.Unwatched, deployment=deployment)
