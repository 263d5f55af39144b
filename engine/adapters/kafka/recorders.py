"""The eventsourcing recorders over a Kafka topic, and the infrastructure factory that makes them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Subscription,
)
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment, strtobool

from imagetrail.engine.adapters import chain
from imagetrail.engine.adapters.kafka.follower import Follower
from imagetrail.engine.adapters.kafka.log import KafkaLog
from imagetrail.engine.adapters.kafka.settings import KafkaSettings
from imagetrail.engine.adapters.kafka.shards import ShardedFollower, ShardedLog
from imagetrail.engine.adapters.sqlite import SnapshotRecorder, open_datastore
from imagetrail.engine.adapters.subscriptions import WaitingSubscription


def open_log(settings: KafkaSettings) -> KafkaLog:
    """The process's log of the store: one topic, or every namespace's shard."""
    return (ShardedLog if settings.sharded else KafkaLog).for_settings(settings)


def _originator_id(value: str) -> UUID | str:
    try:
        return UUID(value)
    except ValueError:
        return value


class KafkaAggregateRecorder(AggregateRecorder):
    def __init__(self, log: KafkaLog):
        self.log = log

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        self._insert(stored_events, **kwargs)
        return None

    def _insert(self, stored_events: Sequence[StoredEvent], namespace: str | None = None, **kwargs: Any) -> list[int]:
        """`namespace`: the shard a sharded store writes the batch to (the service saves one at a time)."""
        if not stored_events:
            return []
        if isinstance(self.log, ShardedLog):
            self.log.append(stored_events, namespace)
            return []  # numbered when merged: nothing here follows a save by its positions
        return self.log.append(stored_events)

    def select_events(self, originator_id: UUID | str, *, gt: int | None = None, lte: int | None = None,
                      desc: bool = False, limit: int | None = None) -> Sequence[StoredEvent]:
        self.log.catch_up(max_age=0.2)  # reads within one command share a catch-up
        rows = self.log.cache.select_events(str(originator_id), gt, lte, desc, limit)
        return [StoredEvent(originator_id=_originator_id(r[0]), originator_version=r[1], topic=r[2], state=r[3])
                for r in rows]


class KafkaApplicationRecorder(KafkaAggregateRecorder, ApplicationRecorder):
    _follower: Follower | None = None

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        return self._insert(stored_events, **kwargs)

    def select_notifications(self, start: int | None, limit: int, stop: int | None = None,
                             topics: Sequence[str] = (), *, inclusive_of_start: bool = True) -> Sequence[Notification]:
        self.log.catch_up()
        first = 1 if start is None else (start if inclusive_of_start else start + 1)
        rows = self.log.cache.select_notifications(first, limit, stop, topics)
        return [Notification(id=r[0], originator_id=_originator_id(r[1]), originator_version=r[2], topic=r[3],
                             state=r[4]) for r in rows]

    def max_notification_id(self) -> int | None:
        self.log.catch_up()
        return self.log.cache.max_position()

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Subscription[ApplicationRecorder]:
        return WaitingSubscription(self, gt=gt, topics=topics)

    def wait_for_new(self, after: int, timeout: float) -> int | None:
        """Block until a transaction commits beyond position `after` (a long poll), at most `timeout` s."""
        if self._follower is None:
            self._follower = ShardedFollower(self.log) if isinstance(self.log, ShardedLog) else Follower(self.log)
        return self._follower.wait_for_new(after, timeout)

    @property
    def source(self) -> str:
        return self.log.source

    def chained_records(self) -> Iterator[chain.ChainedRecord]:
        return self.log.chained_records()

    def chains(self) -> Iterator[tuple[str, Iterator[chain.ChainedRecord]]]:
        """Each hash chain of the store, by its topic: one, or one per namespace when sharded."""
        if isinstance(self.log, ShardedLog):
            return self.log.chains()
        return iter([(self.log.settings.topic, self.log.chained_records())])


class KafkaFactory(InfrastructureFactory[SQLiteTrackingRecorder]):
    """Events in Kafka; tracking views in SQLite next to the local cache."""

    def __init__(self, env: Environment):
        super().__init__(env)
        self.settings = KafkaSettings.from_env(self.env)
        self.log = open_log(self.settings)
        self.log.may_create = self.settings.create_topic  # the log is shared; the command opening it decides

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        if purpose == "snapshots":  # a cache, like the local cache of the log: never in the event topic
            recorder = SnapshotRecorder(open_datastore(self.log.views_path), events_table_name="snapshots")
            recorder.create_table()
            return recorder
        return KafkaAggregateRecorder(self.log)

    def application_recorder(self) -> ApplicationRecorder:
        return KafkaApplicationRecorder(self.log)

    def tracking_recorder(self, tracking_recorder_class: type[SQLiteTrackingRecorder] | None = None
                          ) -> SQLiteTrackingRecorder:
        if tracking_recorder_class is None:
            topic = self.env.get(self.TRACKING_RECORDER_TOPIC)
            if topic:
                from eventsourcing.utils import resolve_topic
                tracking_recorder_class = resolve_topic(topic)
            else:
                tracking_recorder_class = SQLiteTrackingRecorder
        recorder = tracking_recorder_class(open_datastore(self.log.views_path))
        if strtobool(self.env.get("CREATE_TABLE") or "y"):
            recorder.create_table()
        return recorder

    def process_recorder(self) -> ProcessRecorder:
        raise NotImplementedError("the Kafka store keeps no process recorder: projections track in SQLite")
