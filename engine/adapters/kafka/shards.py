"""A sharded Kafka store: one topic per namespace (`kafka://HOSTS/imagetrail.{namespace}`).

Every namespace's topic is a single-topic store of its own (log.py): its own transactional id,
so writers in different namespaces never fence each other, its own offsets, hash chain and
safety checks. Opened alone (`kafka://HOSTS/imagetrail.shop`) it is an ordinary store.

Reading across namespaces needs one order. Each machine merges the shards it reads into one
local cache (`MergedCache`), numbering records in the order it copies them: each catch-up sorts
what it found by commit time. That numbering is this machine's (append-only, so projections
keep working), not the cluster's: another machine that caught up in other steps numbers
differently. A position that means the same everywhere is a shard's own offset.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from eventsourcing.persistence import OperationalError, StoredEvent

from imagetrail.engine.adapters import chain
from imagetrail.engine.adapters.kafka.cache import IndexedReads
from imagetrail.engine.adapters.kafka.log import KafkaLog, _kafka
from imagetrail.engine.adapters.kafka.records import decode_batch
from imagetrail.engine.adapters.kafka.settings import SHARD_PLACEHOLDER, KafkaSettings

MERGED_FORMAT = "v1"  # bump when the merged cache's tables change
DISCOVERY_MAX_AGE = 1.0  # seconds a listing of the shard topics is reused: new namespaces appear rarely


class MergedCache(IndexedReads):
    """The committed records of every shard, in one local order, indexed as LocalCache is."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lock = threading.RLock()
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS events (
                position INTEGER PRIMARY KEY, shard TEXT NOT NULL, shard_position INTEGER NOT NULL,
                originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,
                topic TEXT NOT NULL, state BLOB NOT NULL, batch_id TEXT NOT NULL, content TEXT, link TEXT);
            CREATE UNIQUE INDEX IF NOT EXISTS events_by_originator ON events (originator_id, originator_version);
            CREATE UNIQUE INDEX IF NOT EXISTS events_by_shard ON events (shard, shard_position);
            CREATE INDEX IF NOT EXISTS events_by_batch ON events (batch_id);
            CREATE INDEX IF NOT EXISTS events_by_topic ON events (topic, position);
            CREATE TABLE IF NOT EXISTS foreign_records (
                shard TEXT NOT NULL, shard_position INTEGER NOT NULL, reason TEXT NOT NULL,
                PRIMARY KEY (shard, shard_position));
            CREATE TABLE IF NOT EXISTS shards (
                shard TEXT PRIMARY KEY, topic_id TEXT NOT NULL, next_offset INTEGER NOT NULL DEFAULT 0,
                checked_at REAL);
        """)

    # each shard's share ---------------------------------------------------------------------

    def next_offsets(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT shard, next_offset FROM shards"))

    def adopt(self, shard: str, topic_id: str) -> None:
        """Record the id of a shard's topic; a shard whose topic was deleted and created again
        holds another topic's records, which this cache must not mix in."""
        with self.lock:
            row = self.db.execute("SELECT topic_id FROM shards WHERE shard = ?", (shard,)).fetchone()
            if row is None:
                self.db.execute("INSERT OR IGNORE INTO shards (shard, topic_id) VALUES (?, ?)", (shard, topic_id))
            elif row[0] != topic_id:
                raise OperationalError(
                    f"Kafka topic {shard} was deleted and created again since this machine cached it; "
                    f"remove the cache {self.path.parent} (it is rebuilt from the topics)")

    def checked_at(self, shard: str, topic_id: str) -> float | None:
        row = self.db.execute("SELECT checked_at FROM shards WHERE shard = ? AND topic_id = ?",
                              (shard, topic_id)).fetchone()
        return row[0] if row else None

    def mark_checked(self, shard: str, at: float) -> None:
        self.db.execute("UPDATE shards SET checked_at = ? WHERE shard = ?", (at, shard))

    def store(self, found: dict[str, tuple[list[tuple[float, tuple]], list[tuple[int, str]], int]]) -> None:
        """Copy what a catch-up found, {shard: (rows with their commit time, foreign, next offset)},
        numbered by commit time across the shards. What another process copied meanwhile is skipped."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                done = self.next_offsets()
                rows = []
                for shard, (timed_rows, foreign, next_offset) in found.items():
                    copied = done.get(shard, 0)  # positions are offsets + 1: up to `copied` is here
                    if next_offset <= copied:
                        continue
                    rows += [(at, shard, row) for at, row in timed_rows if row[0] > copied]
                    for position, reason in foreign:
                        if position > copied:
                            self.db.execute("INSERT OR IGNORE INTO foreign_records VALUES (?, ?, ?)",
                                            (shard, position, reason))
                    self.db.execute("UPDATE shards SET next_offset = ? WHERE shard = ?", (next_offset, shard))
                rows.sort(key=lambda r: (r[0], r[1], r[2][0]))
                for _, shard, row in rows:
                    try:
                        self.db.execute("INSERT INTO events (shard, shard_position, originator_id, originator_version,"
                                        " topic, state, batch_id, content, link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                        (shard, *row))
                    except sqlite3.IntegrityError:  # an (aggregate, version) already taken: not ours to use
                        self.db.execute("INSERT OR IGNORE INTO foreign_records VALUES (?, ?, ?)",
                                        (shard, row[0], "duplicate (aggregate, version)"))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def last_link(self, shard: str) -> str:
        row = self.db.execute("SELECT link FROM events WHERE shard = ? ORDER BY shard_position DESC LIMIT 1",
                              (shard,)).fetchone()
        return row[0] if row and row[0] else chain.GENESIS

    def batch_positions(self, shard: str, batch_id: str) -> list[int]:
        rows = self.db.execute("SELECT shard_position FROM events WHERE batch_id = ? AND shard = ? "
                               "ORDER BY shard_position", (batch_id, shard))
        return [r[0] for r in rows]

    # the rest of the recorders' reads come from IndexedReads

    def foreign(self) -> list[tuple[str, int, str]]:
        return self.db.execute("SELECT shard, shard_position, reason FROM foreign_records "
                               "ORDER BY shard, shard_position").fetchall()


class ShardCache:
    """One shard's share of the merged cache, as its single-topic log uses a LocalCache."""

    def __init__(self, merged: MergedCache, shard: str):
        self.merged, self.shard, self.path = merged, shard, merged.path

    @property
    def next_offset(self) -> int:
        return self.merged.next_offsets().get(self.shard, 0)

    def store(self, records: list[tuple], foreign: list[tuple[int, str]], next_offset: int) -> None:
        # a single topic's catch-up: its own order is its offsets
        self.merged.store({self.shard: ([(0.0, r) for r in records], foreign, next_offset)})

    def mark_topic_checked(self, at: float) -> None:
        self.merged.mark_checked(self.shard, at)

    def taken(self, pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
        return self.merged.taken(pairs)

    def batch_positions(self, batch_id: str) -> list[int]:
        return self.merged.batch_positions(self.shard, batch_id)

    def last_link(self) -> str:
        return self.merged.last_link(self.shard)


class ShardLog(KafkaLog):
    """One namespace's topic, writing through its share of the merged cache."""

    def __init__(self, settings: KafkaSettings, merged: MergedCache):
        self.merged = merged
        super().__init__(settings)

    def _open_cache(self, identity: tuple[str, str]) -> ShardCache:
        self.merged.adopt(self.settings.topic, identity[1])
        return ShardCache(self.merged, self.settings.topic)

    def _topic_checked_at(self, identity: tuple[str, str]) -> float | None:
        return self.merged.checked_at(self.settings.topic, identity[1])


class ShardedLog(KafkaLog):
    """Every namespace's topic: writes go to the namespace's shard, reads come from the merged cache."""

    def __init__(self, settings: KafkaSettings):
        super().__init__(settings)
        prefix, _, suffix = settings.topic.partition(SHARD_PLACEHOLDER)
        # namespaces are DNS labels (RFC 1123): the shards are the topics this pattern matches
        self._pattern = re.compile(re.escape(prefix) + "([a-z0-9]([-a-z0-9]*[a-z0-9])?)" + re.escape(suffix))
        self._shards: dict[str, ShardLog] = {}
        self._assigned: dict[str, Any] = {}  # shard topic -> its TopicPartition, as the consumer is assigned
        self._listed_at = 0.0

    # what differs from one topic ------------------------------------------------------------------

    def consumer(self):
        if self._consumer is None:
            kafka = _kafka()
            self._consumer = self._call(
                "a consumer connection", kafka.KafkaConsumer, group_id=None, enable_auto_commit=False,
                isolation_level="read_committed", auto_offset_reset="earliest", fetch_max_wait_ms=100,
                kafka_client=self._client_factory("consumer", topics=()), **self.settings.client_config())
        return self._consumer

    def ensure_topic(self) -> tuple[str, str]:
        """The cluster's identity; the shards' topics are checked (and created) by their writers."""
        if self.identity is None:
            with self.operation():
                self.consumer()
                self.identity = (self._clusters["consumer"].cluster_id or "unknown-cluster", "")
        return self.identity

    def _open_cache(self, identity: tuple[str, str]) -> MergedCache:
        name = self.settings.topic.replace(SHARD_PLACEHOLDER, "@")
        return MergedCache(Path(self.settings.cache_dir) / identity[0] / f"{name}.merged.{MERGED_FORMAT}.db")

    @property
    def source(self) -> str:
        return self.settings.source or f"kafka://{self.ensure_topic()[0]}/{self.settings.topic}"

    def shard(self, namespace: str) -> ShardLog:
        with self.lock:
            log = self._shards.get(namespace)
            if log is None:
                log = self._shards[namespace] = ShardLog(self.settings.for_namespace(namespace), self.cache)
            log.may_create = self.may_create
            return log

    # reading: every shard, merged ----------------------------------------------------------------

    def shard_topics(self) -> list[str]:
        """The shards' topics on the cluster now (a metadata request for every topic, bounded)."""
        consumer = self.consumer()
        cluster = self._clusters["consumer"]
        if time.monotonic() - self._listed_at > DISCOVERY_MAX_AGE:
            def listing():
                cluster.need_all_topic_metadata = True
                try:
                    future = cluster.request_update()
                    consumer._net.run(consumer._manager.wait_for, future, int(max(self.remaining(), 0.1) * 1000))
                finally:
                    cluster.need_all_topic_metadata = False
            self._call("list topics", listing)
            self._listed_at = time.monotonic()
        return sorted(t for t in cluster.topics() if self._pattern.fullmatch(t))

    def _partitions(self) -> dict[str, Any]:
        """Assign the consumer every shard's partition (again when a namespace appeared)."""
        topics = self.shard_topics()
        if set(topics) != set(self._assigned):
            kafka = _kafka()
            self._assigned = {t: kafka.TopicPartition(t, 0) for t in topics}
            self.consumer().assign(list(self._assigned.values()))
        return self._assigned

    def catch_up(self, max_age: float = 0.0) -> None:
        with self.lock, self.operation():
            if max_age and time.monotonic() - self.caught_up_at < max_age:
                return
            cache, consumer, partitions = self.cache, self.consumer(), self._partitions()
            if not partitions:
                self.caught_up_at = time.monotonic()
                return
            ends = self._call("list offsets", consumer.end_offsets, list(partitions.values()))
            starts = cache.next_offsets()
            behind = {topic: tp for topic, tp in partitions.items() if starts.get(topic, 0) < ends[tp]}
            # fetch only from the shards that have news: the others would be read from their start
            consumer.pause(*[tp for topic, tp in partitions.items() if topic not in behind])
            consumer.resume(*behind.values())
            for topic, tp in behind.items():
                self._adopt(topic)
                consumer.seek(tp, starts.get(topic, 0))
            while behind:
                if self.remaining() <= 0:
                    raise self.unavailable("catching up with the log")
                batch = self._call("fetch", consumer.poll, timeout_ms=200, max_records=2000)
                found = {}
                for topic, tp in behind.items():
                    rows, foreign = decode_batch(batch.get(tp, []))
                    if rows or foreign:
                        found[topic] = ([(record.timestamp, row) for record, row in rows], foreign,
                                        consumer.position(tp))
                if found:
                    cache.store(found)
                behind = {t: tp for t, tp in behind.items() if consumer.position(tp) < ends[tp]}
            self.caught_up_at = time.monotonic()

    def _adopt(self, topic: str) -> None:
        cluster = self._clusters["consumer"]
        self.cache.adopt(topic, str(cluster.topic_id(topic)))

    # writing: one namespace's shard ---------------------------------------------------------------

    def append(self, stored_events: Sequence[StoredEvent], namespace: str | None = None) -> None:
        """Append to the namespace's shard. No positions come back: a batch is numbered in the merged
        order when this machine next catches up (the next read here does, so it reads its writes)."""
        if namespace is None:
            raise OperationalError(f"the sharded Kafka store {self.settings.topic} writes one namespace at a time")
        shard = self.shard(namespace)
        shard.append(stored_events)
        self.caught_up_at = 0.0
        if shard.settings.topic not in self._assigned:
            self._listed_at = 0.0  # a namespace new to this reader: list again, or reads would miss it

    def chains(self) -> Iterator[tuple[str, Iterator[chain.ChainedRecord]]]:
        """Each shard's own hash chain, verified on its own (its positions are the topic's)."""
        with self.lock, self.operation():
            self._listed_at = 0.0  # every shard there is now, not a listing from before a write
            topics = self.shard_topics()
        for topic in topics:
            namespace = self._pattern.fullmatch(topic)[1]
            yield topic, self.shard(namespace).chained_records()

    def chained_records(self) -> Iterator[chain.ChainedRecord]:
        raise OperationalError("a sharded store has one hash chain per namespace: see chains()")

    def close(self) -> None:
        with self.lock:
            for shard in self._shards.values():
                shard.close()
            super().close()


class ShardedFollower:
    """A long poll on every shard: returns once any of them has a commit this machine has not merged."""

    def __init__(self, log: ShardedLog):
        self.log = log
        self._consumer: Any = None
        self._lock = threading.Lock()

    def wait_for_new(self, after: int, timeout: float) -> int | None:
        with self._lock:
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                latest = self.log.cache.max_position() or 0
                if latest > after:
                    return latest
                consumer = self._positioned()
                if consumer is None:  # no shard yet: nothing to wait on but a new namespace
                    time.sleep(min(left, DISCOVERY_MAX_AGE))
                    continue
                if consumer.poll(timeout_ms=max(int(min(left, DISCOVERY_MAX_AGE) * 1000), 1), max_records=500):
                    self.log.catch_up()
            return None

    def _positioned(self) -> Any:
        """The follower's consumer on every shard, at the offsets the merged cache has reached."""
        with self.log.lock, self.log.operation():
            topics = self.log.shard_topics()
        if not topics:
            return None
        kafka = _kafka()
        if self._consumer is None:
            self._consumer = kafka.KafkaConsumer(
                group_id=None, enable_auto_commit=False, isolation_level="read_committed",
                auto_offset_reset="earliest", fetch_max_wait_ms=500, **self.log.settings.client_config())
        partitions = [kafka.TopicPartition(t, 0) for t in topics]
        if set(partitions) != self._consumer.assignment():
            self._consumer.assign(partitions)
        reached = self.log.cache.next_offsets()
        for tp in partitions:
            self._consumer.seek(tp, reached.get(tp.topic, 0))
        return self._consumer

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
