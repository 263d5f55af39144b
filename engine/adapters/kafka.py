"""An eventsourcing persistence module that keeps the events in an Apache Kafka topic.

Design (README "Kafka store"): fenced single-writer append on a single-partition topic.
Every writer shares one `transactional.id`; `init_transactions()` fences any older
writer, so between it and the commit only this writer can commit. The writer catches
up with the committed log, checks (aggregate, version) uniqueness against it, and
appends the batch in one transaction. Readers use read_committed, so a batch is seen
whole or not at all. Notification id = offset + 1: it only increases and never changes.

A local SQLite mirror of the committed log (keyed to the cluster and topic ids) serves
per-aggregate reads and notification pages, so a CLI call only fetches what is new.
The mirror is a cache: delete it and it is rebuilt from the topic.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    Notification,
    OperationalError,
    ProcessRecorder,
    StoredEvent,
    Subscription,
)
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment, strtobool

from imagetrail.engine.adapters import chain
from imagetrail.engine.adapters.chain import GENESIS
from imagetrail.engine.adapters.sqlite import SnapshotRecorder, open_datastore
from imagetrail.engine.domain.cloudevents import cloudevent_id, cloudevent_sequence, cloudevent_type
from imagetrail.engine.domain.parsing import setting_number
from imagetrail.engine.domain.errors import NotFound

WRITER_ATTEMPTS = 6
MIRROR_FORMAT = "v2"  # bump when the mirror's tables change: an old cache is left and rebuilt
HEADER_PREFIX = "imagetrail_"


class StoreUnavailable(OperationalError):
    """The broker could not be reached, or did not answer in time."""


class UnsafeTopic(OperationalError):
    """The topic exists with settings that would lose or rewrite events."""


class StoreBusy(OperationalError):
    """Other writers kept fencing this one; the command was not written."""


class VersionConflict(IntegrityError):
    pass


# -- settings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: tuple[str, ...]
    topic: str
    timeout: float = 30.0
    cache_dir: str = ""
    replication_factor: int = 1
    min_insync_replicas: int = 1
    security: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # credentials: never printed
    source: str = ""  # IMAGETRAIL_KAFKA_CE_SOURCE: overrides the CloudEvents source derived from the topic
    create_topic: bool = field(default=True, compare=False)  # reads never create the topic

    @property
    def address(self) -> str:
        return ",".join(self.bootstrap_servers)

    @classmethod
    def from_env(cls, env: Environment) -> KafkaSettings:
        servers = tuple(s.strip() for s in (env.get("KAFKA_BOOTSTRAP_SERVERS") or "").split(",") if s.strip())
        topic = env.get("KAFKA_TOPIC") or ""
        if not servers or not topic:
            raise OperationalError("the Kafka store needs KAFKA_BOOTSTRAP_SERVERS and KAFKA_TOPIC")
        security = {
            "security_protocol": env.get("KAFKA_SECURITY_PROTOCOL"),
            "sasl_mechanism": env.get("KAFKA_SASL_MECHANISM"),
            "sasl_plain_username": env.get("KAFKA_SASL_USERNAME"),
            "sasl_plain_password": env.get("KAFKA_SASL_PASSWORD"),
            "ssl_cafile": env.get("KAFKA_SSL_CAFILE"),
            "client_id": env.get("KAFKA_CLIENT_ID"),
        }
        cache_dir = env.get("KAFKA_CACHE_DIR") or str(
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "imagetrail" / "kafka")
        return cls(
            bootstrap_servers=servers, topic=topic,
            timeout=setting_number("IMAGETRAIL_KAFKA_TIMEOUT", env.get("KAFKA_TIMEOUT"), 30, minimum=0.1),
            cache_dir=cache_dir,
            replication_factor=int(setting_number("IMAGETRAIL_KAFKA_REPLICATION_FACTOR",
                                                  env.get("KAFKA_REPLICATION_FACTOR"), 1, minimum=1,
                                                  maximum=1000, whole=True)),
            min_insync_replicas=int(setting_number("IMAGETRAIL_KAFKA_MIN_INSYNC_REPLICAS",
                                                   env.get("KAFKA_MIN_INSYNC_REPLICAS"), 1, minimum=1,
                                                   maximum=1000, whole=True)),
            security=tuple((k, v) for k, v in security.items() if v),
            source=env.get("KAFKA_CE_SOURCE") or "",
            create_topic=(env.get("KAFKA_CREATE_TOPIC") or "1") == "1",
        )

    @property
    def call_timeout(self) -> float:
        """Each broker wait gets half the bound, and a store operation stops starting new
        waits after the other half, so a whole operation ends within `timeout`."""
        return max(self.timeout / 2, 0.5)

    def client_config(self) -> dict[str, Any]:
        ms = int(self.call_timeout * 1000)
        return {
            "bootstrap_servers": list(self.bootstrap_servers),
            "request_timeout_ms": ms, "bootstrap_timeout_ms": ms, "reconnect_backoff_max_ms": 1000,
            **dict(self.security),
        }


# -- the local mirror of the committed log -----------------------------------------------------

class Mirror:
    """The committed records of one topic partition, indexed for the recorder's reads."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lock = threading.RLock()
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS events (
                position INTEGER PRIMARY KEY, originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,
                topic TEXT NOT NULL, state BLOB NOT NULL, batch_id TEXT NOT NULL, content TEXT, link TEXT);
            CREATE UNIQUE INDEX IF NOT EXISTS events_by_originator ON events (originator_id, originator_version);
            CREATE INDEX IF NOT EXISTS events_by_batch ON events (batch_id);
            CREATE INDEX IF NOT EXISTS events_by_topic ON events (topic, position);
            CREATE TABLE IF NOT EXISTS foreign_records (position INTEGER PRIMARY KEY, reason TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """)

    @property
    def next_offset(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'next_offset'").fetchone()
        return int(row[0]) if row else 0

    def store(self, records: list[tuple], foreign: list[tuple[int, str]], next_offset: int) -> None:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if next_offset <= self.next_offset:  # another process got here first
                    self.db.execute("ROLLBACK")
                    return
                for record in records:
                    try:
                        self.db.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", record)
                    except sqlite3.IntegrityError:
                        foreign.append((record[0], "duplicate (aggregate, version)"))
                for position, reason in foreign:
                    self.db.execute("INSERT OR IGNORE INTO foreign_records VALUES (?, ?)", (position, reason))
                self.db.execute("INSERT INTO meta VALUES ('next_offset', ?) ON CONFLICT (key) DO UPDATE "
                                "SET value = excluded.value", (str(next_offset),))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def taken(self, pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
        found = []
        for originator_id, version in pairs:
            if self.db.execute("SELECT 1 FROM events WHERE originator_id = ? AND originator_version = ?",
                               (originator_id, version)).fetchone():
                found.append((originator_id, version))
        return found

    def batch_positions(self, batch_id: str) -> list[int]:
        rows = self.db.execute("SELECT position FROM events WHERE batch_id = ? ORDER BY position", (batch_id,))
        return [r[0] for r in rows]

    def select_events(self, originator_id: str, gt: int | None, lte: int | None, desc: bool,
                      limit: int | None) -> list[tuple]:
        sql = "SELECT originator_id, originator_version, topic, state FROM events WHERE originator_id = ?"
        params: list[Any] = [originator_id]
        if gt is not None:
            sql += " AND originator_version > ?"
            params.append(gt)
        if lte is not None:
            sql += " AND originator_version <= ?"
            params.append(lte)
        sql += " ORDER BY originator_version" + (" DESC" if desc else "")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return self.db.execute(sql, params).fetchall()

    def select_notifications(self, first: int, limit: int, last: int | None,
                             topics: Sequence[str]) -> list[tuple]:
        sql = ("SELECT position, originator_id, originator_version, topic, state FROM events "
               "WHERE position >= ?")
        params: list[Any] = [first]
        if last is not None:
            sql += " AND position <= ?"
            params.append(last)
        if topics:
            sql += f" AND topic IN ({','.join('?' * len(topics))})"
            params += list(topics)
        sql += " ORDER BY position LIMIT ?"
        params.append(limit)
        return self.db.execute(sql, params).fetchall()

    def last_link(self) -> str:
        row = self.db.execute("SELECT link FROM events ORDER BY position DESC LIMIT 1").fetchone()
        return row[0] if row and row[0] else GENESIS

    def max_position(self) -> int | None:
        return self.db.execute("SELECT MAX(position) FROM events").fetchone()[0]

    def foreign(self) -> list[tuple[int, str]]:
        return self.db.execute("SELECT position, reason FROM foreign_records ORDER BY position").fetchall()


# -- the topic: checks, catching up, the fenced writer ----------------------------------------

def _kafka():
    import kafka  # imported lazily: the embedded store must not need a broker library loaded

    return kafka


class KafkaLog:
    """One imagetrail topic: its safety checks, its mirror, and the single-writer append."""

    _instances: dict[tuple, KafkaLog] = {}
    _instances_lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: KafkaSettings) -> KafkaLog:
        """One log object per topic per process, so in-process callers share clients and locks."""
        key = (settings.bootstrap_servers, settings.topic, settings.cache_dir, settings.security)
        with cls._instances_lock:
            log = cls._instances.get(key)
            if log is None:
                log = cls._instances[key] = cls(settings)
            return log

    def __init__(self, settings: KafkaSettings):
        self.settings = settings
        self.lock = threading.RLock()
        self.writer_lock = threading.Lock()
        self._mirror: Mirror | None = None
        self._consumer: Any = None
        self._producer: Any = None
        self._uncommitted: Any = None  # a read_uncommitted consumer: the high watermark
        self._next_offset = 0
        self.identity: tuple[str, str] | None = None
        self._local = threading.local()  # the current operation's deadline, per thread
        self.caught_up_at = 0.0
        self.writer = f"{getpass.getuser()}@{socket.gethostname()}:{os.getpid()}"
        self.may_create = True

    # errors ---------------------------------------------------------------------------------

    def unavailable(self, what: str, error: BaseException | None = None) -> StoreUnavailable:
        detail = f": {type(error).__name__}: {error}" if error else ""
        return StoreUnavailable(
            f"Kafka broker at {self.settings.address} did not answer {what} within "
            f"{self.settings.timeout:g}s{detail}")

    @contextlib.contextmanager
    def operation(self) -> Iterator[None]:
        """One time budget for a whole store operation; nested operations share the outer one."""
        if self._local.__dict__.get("deadline") is not None:
            yield
            return
        self._local.deadline = time.monotonic() + self.settings.call_timeout
        try:
            yield
        finally:
            self._local.deadline = None

    def remaining(self) -> float:
        deadline = self._local.__dict__.get("deadline")
        return self.settings.call_timeout if deadline is None else deadline - time.monotonic()

    def _call(self, what: str, fn, *args, **kwargs):
        if self.remaining() <= 0:
            raise self.unavailable(what)
        try:
            return fn(*args, **kwargs)
        except _unreachable_errors() as e:
            raise self.unavailable(what, e) from None

    # topic ----------------------------------------------------------------------------------

    @property
    def mirror(self) -> Mirror:
        with self.lock:
            if self._mirror is None:
                cluster_id, topic_id = self.ensure_topic()
                path = Path(self.settings.cache_dir) / cluster_id / f"{self.settings.topic}-{topic_id}.{MIRROR_FORMAT}.db"
                self._mirror = Mirror(path)
            return self._mirror

    @property
    def views_path(self) -> str:
        return str(self.mirror.path.with_suffix(".views.db"))

    @property
    def source(self) -> str:
        """The CloudEvents `source`: the cluster, the topic, and the topic's id, so a topic
        deleted and created again under the same name is another source."""
        if self.settings.source:
            return self.settings.source
        cluster_id, topic_id = self.ensure_topic()
        return f"kafka://{cluster_id}/{self.settings.topic}/{topic_id}"

    def ensure_topic(self) -> tuple[str, str]:
        """Create the topic if missing; refuse one whose settings would lose events."""
        if self.identity:
            return self.identity
        with self.operation():
            return self._ensure_topic()

    def _ensure_topic(self) -> tuple[str, str]:
        kafka = _kafka()
        from kafka.admin import ConfigResource, ConfigResourceType

        s = self.settings
        admin = self._call("an admin connection", kafka.KafkaAdminClient, **s.client_config())
        with contextlib.closing(admin):
            cluster_id = self._call("describe cluster", admin.describe_cluster)["cluster_id"]
            described = self._call("describe topics", admin.describe_topics, [s.topic])[0]
            if described["error_code"] == 3 and not self.may_create:  # UNKNOWN_TOPIC_OR_PARTITION
                raise NotFound(f"no topic {s.topic} at {s.address}: nothing has been recorded yet "
                               "(a write command creates it)")
            if described["error_code"] == 3:
                configs = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1",
                           "min.insync.replicas": str(s.min_insync_replicas),
                           "unclean.leader.election.enable": "false"}
                try:
                    self._call("create topic", admin.create_topics, {s.topic: {
                        "num_partitions": 1, "replication_factor": s.replication_factor, "configs": configs}})
                except kafka.errors.TopicAlreadyExistsError:
                    pass  # created concurrently by another process
                # a new topic takes a moment to reach the metadata every broker serves
                while (described := self._call("describe topics", admin.describe_topics, [s.topic])[0]
                       )["error_code"] == 3:
                    time.sleep(0.05)
            if described["error_code"]:
                raise OperationalError(f"Kafka topic {s.topic}: error code {described['error_code']}")
            resource = ConfigResource(ConfigResourceType.TOPIC, s.topic)
            configs = self._call("describe configs", admin.describe_configs, [resource],
                                 config_filter="all")["topic"][s.topic]
            problems = []
            if len(described["partitions"]) != 1:
                problems.append(f"it has {len(described['partitions'])} partitions (must be 1)")
            if "compact" in configs["cleanup.policy"]["value"]:
                problems.append(f"cleanup.policy={configs['cleanup.policy']['value']} (must be delete)")
            for key in ("retention.ms", "retention.bytes"):
                if configs[key]["value"] != "-1":
                    problems.append(f"{key}={configs[key]['value']} (must be -1: infinite)")
            if problems:
                raise UnsafeTopic(
                    f"refusing to use Kafka topic {s.topic} as an event store: {'; '.join(problems)}. "
                    f"Fix it with kafka-configs.sh --alter --entity-type topics --entity-name {s.topic} "
                    "--add-config retention.ms=-1,retention.bytes=-1,cleanup.policy=delete, or use a new topic")
        self.identity = (cluster_id, described["topic_id"])
        return self.identity

    # reading --------------------------------------------------------------------------------

    def _partition(self):
        return _kafka().TopicPartition(self.settings.topic, 0)

    def consumer(self):
        if self._consumer is None:
            kafka = _kafka()
            self._consumer = self._call(
                "a consumer connection", kafka.KafkaConsumer, group_id=None, enable_auto_commit=False,
                isolation_level="read_committed", auto_offset_reset="earliest",
                fetch_max_wait_ms=100, **self.settings.client_config())
            self._consumer.assign([self._partition()])
        return self._consumer

    def catch_up(self, max_age: float = 0.0) -> None:
        """Copy every committed record after the mirror's position into the mirror."""
        with self.lock, self.operation():
            if max_age and time.monotonic() - self.caught_up_at < max_age:
                return
            mirror, consumer, tp = self.mirror, self.consumer(), self._partition()
            end = self._call("list offsets", consumer.end_offsets, [tp])[tp]  # the LSO under read_committed
            start = mirror.next_offset
            if start < end:
                consumer.seek(tp, start)
                while consumer.position(tp) < end:
                    if self.remaining() <= 0:
                        raise self.unavailable("catching up with the log")
                    batch = self._call("fetch", consumer.poll, timeout_ms=200, max_records=2000)
                    rows, foreign = [], []
                    for record in batch.get(tp, []):
                        row = _decode(record)
                        if isinstance(row, str):
                            foreign.append((record.offset + 1, row))
                        else:
                            rows.append(row)
                    mirror.store(rows, foreign, consumer.position(tp))
            self.caught_up_at = time.monotonic()

    # writing --------------------------------------------------------------------------------

    def _new_producer(self):
        kafka = _kafka()
        s = self.settings
        producer = self._call(
            "a producer connection", kafka.KafkaProducer,
            transactional_id=f"imagetrail-writer.{s.topic}",  # shared by every writer: the fence
            transaction_timeout_ms=max(int(s.timeout * 1000), 10000), max_block_ms=int(s.call_timeout * 1000),
            linger_ms=0, acks="all", **s.client_config())
        try:
            self._call("init transactions", producer.init_transactions)
        except BaseException:
            producer.close(timeout=1)
            raise
        return producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # a fenced or broken producer may fail to close cleanly
                pass
            self._producer = None

    def append(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Append one batch atomically, or raise IntegrityError when a (id, version) is taken."""
        kafka = _kafka()
        batch_id = str(uuid.uuid4())
        with self.writer_lock, self.operation():
            for attempt in range(WRITER_ATTEMPTS):
                try:
                    if self._producer is None:
                        # The init fences every other writer and settles their open transactions,
                        # so the catch-up below sees all that committed before it. The producer
                        # stays ours until another writer inits, and then our commit fails: a
                        # commit that succeeds had no other commit between our init and it.
                        self._producer = self._new_producer()
                    self.catch_up()
                    self._check_quiescent()
                    self._check_versions(stored_events)
                    positions = self._send(stored_events, batch_id)
                    self._await_readable(max(positions))
                    return positions
                except kafka.errors.KafkaError as e:
                    if not _fenced(e):
                        self._drop_producer()
                        raise
                    self._drop_producer()  # a fenced producer is dead: the next attempt inits anew
                    time.sleep(0.05 * (attempt + 1) + 0.05 * (os.getpid() % 7) / 7)
                except IntegrityError:
                    raise  # checked before the transaction began: the producer is still good
                except _OutcomeUnknown:
                    # Never resend blindly: a new writer's init completes or aborts the old
                    # transaction, and then the log says whether the batch is in it. The
                    # lookup gets a budget of its own, so the whole append stays within the bound.
                    self._drop_producer()
                    self._local.deadline = time.monotonic() + self.settings.call_timeout
                    try:
                        self._producer = self._new_producer()
                        self.catch_up()
                    except StoreUnavailable:
                        raise StoreUnavailable(
                            f"Kafka broker at {self.settings.address} did not confirm the commit within "
                            f"{self.settings.timeout:g}s, and the log could not be checked: the command may "
                            "or may not be recorded; look (imagetrail get …) before retrying") from None
                    positions = self.mirror.batch_positions(batch_id)
                    if positions:
                        self.caught_up_at = 0.0
                        return positions
                except BaseException:
                    self._drop_producer()  # in an unknown state: never reuse it
                    raise
            raise StoreBusy(f"Kafka topic {self.settings.topic}: other writers kept fencing this one; "
                            "nothing was written, retry the command")

    def _await_readable(self, position: int) -> None:
        """A commit returns before its markers land; acknowledge only once read_committed
        readers (in any process) can see the batch."""
        tp = self._partition()
        while self._call("list offsets", self.consumer().end_offsets, [tp])[tp] < position:
            time.sleep(0.005)
        self.caught_up_at = 0.0  # our own batch is not in the mirror yet

    def _check_quiescent(self) -> None:
        """After our init every imagetrail transaction is settled, so the last stable offset
        must reach the high watermark. If it does not, a producer outside the protocol holds
        a transaction open: our batch would be stuck behind it, unreadable."""
        tp = self._partition()
        if self._uncommitted is None:
            self._uncommitted = self._call(
                "a consumer connection", _kafka().KafkaConsumer, group_id=None, enable_auto_commit=False,
                isolation_level="read_uncommitted", **self.settings.client_config())
        while True:
            stable = self._call("list offsets", self.consumer().end_offsets, [tp])[tp]
            high = self._call("list offsets", self._uncommitted.end_offsets, [tp])[tp]
            if stable >= high:
                self._next_offset = high  # our batch will start here: nobody else can write now
                return
            if self.remaining() <= 0.2:  # stop while there is budget left to say why
                raise OperationalError(
                    f"Kafka topic {self.settings.topic} has a transaction left open by another producer "
                    f"(last stable offset {stable} < high watermark {high}); nothing was written. Find and "
                    "abort it with kafka-transactions.sh find-hanging / abort")
            time.sleep(0.05)

    def _check_versions(self, stored_events: Sequence[StoredEvent]) -> None:
        pairs = [(str(e.originator_id), e.originator_version) for e in stored_events]
        if len(set(pairs)) != len(pairs):
            raise VersionConflict("the batch repeats an (aggregate, version) pair")
        taken = self.mirror.taken(pairs)
        if taken:
            originator_id, version = taken[0]
            raise VersionConflict(f"version conflict: aggregate {originator_id} version {version} already "
                                  f"exists in Kafka topic {self.settings.topic}")

    def _send(self, stored_events: Sequence[StoredEvent], batch_id: str) -> list[int]:
        kafka = _kafka()
        producer = self._producer
        producer.begin_transaction()
        futures = []
        now = datetime.now(timezone.utc)
        previous = self.mirror.last_link()
        for index, event in enumerate(stored_events):
            # as the only writer, with LSO == HW, our records take the next offsets in order
            content = chain.content_hash(event.originator_id, event.originator_version, event.topic, event.state)
            previous = chain.link(previous, content, self._next_offset + index + 1)
            headers = self._headers(event, self._next_offset + index + 1, batch_id, index, len(stored_events), now)
            headers += [(HEADER_PREFIX + "content", content.encode()), (HEADER_PREFIX + "chain", previous.encode())]
            futures.append(producer.send(self.settings.topic, partition=0, key=str(event.originator_id).encode(),
                                         value=event.state, headers=headers))
        # kafka-python's commit has no timeout of its own: bound it from a helper thread
        outcome: list[BaseException | None] = []
        worker = threading.Thread(target=lambda: outcome.append(_try(producer.commit_transaction)), daemon=True)
        worker.start()
        worker.join(max(self.remaining(), self.settings.call_timeout / 4))
        if not outcome:
            raise _OutcomeUnknown()
        if outcome[0] is not None:
            error = outcome[0]
            if _fenced(error):
                raise error
            if _definitive(error):
                _try(producer.abort_transaction)
                raise OperationalError(f"Kafka rejected the write: {type(error).__name__}: {error}")
            # a timeout, a retriable error or the broker's UNKNOWN_SERVER_ERROR (seen under six
            # writers fencing each other): the commit may have happened, so the log decides
            raise _OutcomeUnknown()
        return [f.get(timeout=max(self.remaining(), 1.0)).offset + 1 for f in futures]

    def _headers(self, event: StoredEvent, position: int, batch_id: str, index: int, size: int,
                 now: datetime) -> list[tuple[str, bytes]]:
        timestamp = _event_time(event.state) or now
        return [
            # CloudEvents 1.0 Kafka protocol binding (binary mode)
            ("ce_specversion", b"1.0"),
            ("ce_id", cloudevent_id(event.originator_id, event.originator_version).encode()),
            ("ce_type", cloudevent_type(event.topic).encode()),
            ("ce_source", self.source.encode()),
            ("ce_sequence", cloudevent_sequence(position).encode()),  # the Sequence extension
            ("ce_time", timestamp.astimezone(timezone.utc).isoformat().replace("+00:00", "Z").encode()),
            ("ce_subject", str(event.originator_id).encode()),
            ("content-type", b"application/json"),
            # what the recorder needs to read the record back
            (HEADER_PREFIX + "topic", event.topic.encode()),
            (HEADER_PREFIX + "originator_version", str(event.originator_version).encode()),
            (HEADER_PREFIX + "batch_id", batch_id.encode()),
            (HEADER_PREFIX + "batch_index", str(index).encode()),
            (HEADER_PREFIX + "batch_size", str(size).encode()),
            (HEADER_PREFIX + "writer", self.writer.encode()),
        ]

    def chained_records(self) -> Iterator[chain.ChainedRecord]:
        """Every committed record of the topic itself (not the mirror), for `verify`."""
        kafka = _kafka()
        consumer = self._call("a consumer connection", kafka.KafkaConsumer, group_id=None,
                              enable_auto_commit=False, isolation_level="read_committed", **self.settings.client_config())
        try:
            tp = self._partition()
            consumer.assign([tp])
            consumer.seek_to_beginning(tp)
            end = self._call("list offsets", consumer.end_offsets, [tp])[tp]
            while consumer.position(tp) < end:
                for record in consumer.poll(timeout_ms=500, max_records=2000).get(tp, []):
                    row = _decode(record)
                    if isinstance(row, str):
                        yield chain.ChainedRecord(record.offset + 1, None, None, None, None, None, None)
                    else:
                        position, originator_id, version, topic, state, _, content, link = row
                        yield chain.ChainedRecord(position, originator_id, version, topic, state, content, link)
        finally:
            consumer.close()

    def close(self) -> None:
        with self.lock:
            self._drop_producer()
            for consumer in (self._consumer, self._uncommitted):
                if consumer is not None:
                    _try(consumer.close)
            self._consumer = self._uncommitted = None


def _fenced(error: BaseException) -> bool:
    """Fenced by another writer: directly, or as the error state kafka-python reports afterwards."""
    errors = _kafka().errors
    return isinstance(error, (errors.ProducerFencedError, errors.InvalidProducerEpochError)) or (
        isinstance(error, errors.KafkaError) and ("ProducerFenced" in str(error) or "InvalidProducerEpoch" in str(error)))


def _definitive(error: BaseException) -> bool:
    """A commit error that says the transaction did not commit (authorization, invalid state, …)."""
    errors = _kafka().errors
    return (isinstance(error, errors.KafkaError) and not isinstance(error, errors.KafkaTimeoutError)
            and not getattr(error, "retriable", False)
            and not isinstance(error, errors.UnknownError) and "UnknownError" not in str(error))


def _unreachable_errors() -> tuple[type[BaseException], ...]:
    errors = _kafka().errors
    names = ("KafkaTimeoutError", "NoBrokersAvailable", "KafkaConnectionError", "RequestTimedOutError",
             "BrokerNotAvailableError", "NodeNotReadyError")
    return tuple(getattr(errors, n) for n in names if hasattr(errors, n))


class _OutcomeUnknown(Exception):
    """The commit did not answer in time: it may or may not have happened."""


def _try(fn) -> BaseException | None:
    try:
        fn()
    except BaseException as e:  # reported to the caller, which decides
        return e
    return None


def _event_time(state: bytes) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(state)["timestamp"])
    except (ValueError, KeyError, TypeError):
        return None


def _decode(record: Any) -> tuple | str:
    """A record as a mirror row, or why it is not one of ours."""
    headers = {k: v for k, v in (record.headers or [])}
    try:
        topic = headers[HEADER_PREFIX + "topic"].decode()
        version = int(headers[HEADER_PREFIX + "originator_version"])
        batch_id = headers[HEADER_PREFIX + "batch_id"].decode()
        originator_id = record.key.decode()
    except (KeyError, ValueError, AttributeError, UnicodeDecodeError):
        return "not written by imagetrail (missing or invalid imagetrail headers)"
    if record.value is None:
        return "tombstone (no value)"
    content, link = headers.get(HEADER_PREFIX + "content"), headers.get(HEADER_PREFIX + "chain")
    return (record.offset + 1, originator_id, version, topic, record.value, batch_id,
            content.decode() if content else None, link.decode() if link else None)


def _originator_id(value: str) -> UUID | str:
    try:
        return UUID(value)
    except ValueError:
        return value


# -- the recorders and the factory -----------------------------------------------------------

class KafkaAggregateRecorder(AggregateRecorder):
    def __init__(self, log: KafkaLog):
        self.log = log

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        self._insert(stored_events)
        return None

    def _insert(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        if not stored_events:
            return []
        return self.log.append(stored_events)

    def select_events(self, originator_id: UUID | str, *, gt: int | None = None, lte: int | None = None,
                      desc: bool = False, limit: int | None = None) -> Sequence[StoredEvent]:
        self.log.catch_up(max_age=0.2)  # reads within one command share a catch-up
        rows = self.log.mirror.select_events(str(originator_id), gt, lte, desc, limit)
        return [StoredEvent(originator_id=_originator_id(r[0]), originator_version=r[1], topic=r[2], state=r[3])
                for r in rows]


class KafkaApplicationRecorder(KafkaAggregateRecorder, ApplicationRecorder):
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        return self._insert(stored_events)

    def select_notifications(self, start: int | None, limit: int, stop: int | None = None,
                             topics: Sequence[str] = (), *, inclusive_of_start: bool = True) -> Sequence[Notification]:
        self.log.catch_up()
        first = 1 if start is None else (start if inclusive_of_start else start + 1)
        rows = self.log.mirror.select_notifications(first, limit, stop, topics)
        return [Notification(id=r[0], originator_id=_originator_id(r[1]), originator_version=r[2], topic=r[3],
                             state=r[4]) for r in rows]

    def max_notification_id(self) -> int | None:
        self.log.catch_up()
        return self.log.mirror.max_position()

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Subscription[ApplicationRecorder]:
        raise NotImplementedError("the Kafka store has no push subscription yet: pull with select_notifications")

    @property
    def views_path(self) -> str:
        return self.log.views_path

    @property
    def source(self) -> str:
        return self.log.source

    def chained_records(self) -> Iterator[chain.ChainedRecord]:
        return self.log.chained_records()


class KafkaFactory(InfrastructureFactory[SQLiteTrackingRecorder]):
    """Events in Kafka; tracking views in SQLite next to the local mirror."""

    def __init__(self, env: Environment):
        super().__init__(env)
        self.settings = KafkaSettings.from_env(self.env)
        self.log = KafkaLog.for_settings(self.settings)
        self.log.may_create = self.settings.create_topic  # the log is shared; the command opening it decides

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        if purpose == "snapshots":  # a cache, like the mirror: never in the event topic
            recorder = SnapshotRecorder(open_datastore(self.log.views_path),
                                               events_table_name="snapshots")
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


Factory = KafkaFactory
