"""imagetrail's SQLite persistence module: the application recorder with its hash chain
written in the same transaction, and a datastore whose write transactions lock up front."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Notification, OperationalError, StoredEvent
from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteTransaction,
)

from imagetrail.engine.adapters.chain import GENESIS, ChainedRecord, content_hash, link
from imagetrail.engine.adapters.subscriptions import WaitingSubscription


class _Transaction(SQLiteTransaction):
    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE" if self.commit else "BEGIN")
        except sqlite3.OperationalError as e:  # still locked after the busy timeout
            raise OperationalError(e) from e
        return cursor


class LockingSQLiteDatastore(SQLiteDatastore):
    """Every write transaction (commit=True) begins IMMEDIATE, so it takes the write lock
    before its first read. eventsourcing's plain BEGIN is deferred: a transaction that reads,
    then writes, must upgrade its lock, and in WAL mode SQLite refuses that upgrade at once
    (SQLITE_BUSY, no busy wait) when another connection wrote since the read began. With
    the lock taken at BEGIN, a second writer waits there, within the busy timeout, and then
    reads what the first one committed. Read transactions stay deferred: WAL readers never
    wait for writers."""

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        with self.get_connection(commit=commit) as conn, _Transaction(conn, commit=commit) as curs, curs:
            yield curs


def views_beside(store_file: Path) -> Path:
    """Where the projections (and a Kafka store's snapshots) live: beside the store's own file."""
    return store_file.with_suffix(".views.db")


def open_datastore(path: str | Path, lock_timeout: int = 30) -> LockingSQLiteDatastore:
    """Every SQLite file imagetrail writes (store, views, snapshots) is opened through here."""
    return LockingSQLiteDatastore(db_name=str(path), lock_timeout=lock_timeout)


_CREATED = re.compile(r"CREATE (?:UNIQUE )?(?:TABLE|INDEX) IF NOT EXISTS (\w+)")


class SchemaOnce:
    """`create_table` runs at every open, in a write transaction, which now waits for the
    write lock. A read first checks whether there is anything to create, so opening an
    existing file (what every read command does) never queues behind a writer."""

    def create_table(self) -> None:
        if not self.schema_complete():
            super().create_table()  # type: ignore[misc]

    def schema_complete(self) -> bool:
        matches = [_CREATED.match(s) for s in self.create_table_statements]  # type: ignore[attr-defined]
        if not all(matches):
            return False  # a statement of another form: let it run
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            c.execute("SELECT name FROM sqlite_master")
            return {m[1] for m in matches} <= {r[0] for r in c.fetchall()}


class SnapshotRecorder(SchemaOnce, SQLiteAggregateRecorder):
    """The snapshots table (in the store file, or beside the Kafka store's local cache)."""


class ChainedSQLiteApplicationRecorder(SchemaOnce, SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                "CREATE TABLE IF NOT EXISTS event_chain "
                "(notification_id INTEGER PRIMARY KEY, content TEXT NOT NULL, link TEXT NOT NULL)",
                # the store's identity, one row, never changed: a copy of the file is the same store
                "CREATE TABLE IF NOT EXISTS imagetrail_store "
                "(singleton INTEGER PRIMARY KEY CHECK (singleton = 1), id TEXT NOT NULL)"]

    @property
    def source(self) -> str:
        """The CloudEvents `source` of this store's events: an absolute URI naming this store
        and no other, so `source` + `id` is unique per event even across stores whose
        aggregate ids (deterministic per kind/namespace/name) coincide."""
        if not hasattr(self, "_source"):
            self._source = f"imagetrail://sqlite/{self._identity()}"
        return self._source

    def create_table(self) -> None:
        if self.schema_complete() and self._identity() is not None:
            return
        SQLiteApplicationRecorder.create_table(self)
        self._adopt_unlinked_events()

    def _identity(self) -> str | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT id FROM imagetrail_store")
            row = c.fetchone()
        return row[0] if row else None

    def _adopt_unlinked_events(self) -> None:
        """A store written before the chain existed gets linked once, on first open: tamper
        evidence then covers it from this moment on. The store's identity is written in the
        same transaction, last: once it is there, the store is set up."""
        with self.datastore.transaction(commit=True) as c:
            c.execute("SELECT COUNT(*) FROM event_chain")
            if not c.fetchone()[0]:
                c.execute(f"SELECT rowid, originator_id, originator_version, topic, state FROM "
                          f"{self.events_table_name} ORDER BY rowid")
                previous = GENESIS
                for position, originator_id, version, topic, state in c.fetchall():
                    content = content_hash(originator_id, version, topic, bytes(state))
                    previous = link(previous, content, position)
                    c.execute("INSERT INTO event_chain VALUES (?, ?, ?)", (position, content, previous))
            c.execute("INSERT OR IGNORE INTO imagetrail_store VALUES (1, ?)", (str(uuid.uuid4()),))

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
                       ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        # inside the writer's transaction: nobody else can extend the chain meanwhile
        c.execute("SELECT link FROM event_chain ORDER BY notification_id DESC LIMIT 1")
        row = c.fetchone()
        previous = row[0] if row else GENESIS
        for position, event in zip(ids, stored_events):
            content = content_hash(event.originator_id, event.originator_version, event.topic, event.state)
            previous = link(previous, content, position)
            c.execute("INSERT INTO event_chain VALUES (?, ?, ?)", (position, content, previous))
        return ids

    def select_notifications(self, start: int | None, limit: int, stop: int | None = None,
                             topics: Sequence[str] = (), *, inclusive_of_start: bool = True) -> list[Notification]:
        """Only linked events: a row written around imagetrail is reported by `verify`, and
        never fed to projections or consumers."""
        sql = (f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state FROM "
               f"{self.events_table_name} e JOIN event_chain ch ON ch.notification_id = e.rowid WHERE 1 = 1")
        params: list[Any] = []
        if start is not None:
            sql += " AND e.rowid >= ?" if inclusive_of_start else " AND e.rowid > ?"
            params.append(start)
        if stop is not None:
            sql += " AND e.rowid <= ?"
            params.append(stop)
        if topics:
            sql += f" AND e.topic IN ({','.join('?' * len(topics))})"
            params += list(topics)
        sql += " ORDER BY e.rowid LIMIT ?"
        params.append(limit)
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            rows = c.fetchall()
        return [Notification(id=r[0], originator_id=self.convert_originator_id(r[1]), originator_version=r[2],
                             topic=r[3], state=bytes(r[4])) for r in rows]

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> WaitingSubscription:
        return WaitingSubscription(self, gt=gt, topics=topics)

    def wait_for_new(self, after: int, timeout: float) -> int | None:
        """The last position once it is beyond `after`, or None after `timeout` seconds. SQLite tells
        no other process of a commit, so this looks every 50 ms (one indexed query each)."""
        deadline = time.monotonic() + timeout
        while True:
            last = self.max_notification_id() or 0
            if last > after:
                return last
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))

    def chained_records(self) -> Iterator[ChainedRecord]:
        """Every stored event with its link, in position order (a LEFT JOIN: unlinked rows show up)."""
        last = 0
        while True:
            with self.datastore.transaction(commit=False) as c:
                c.execute(f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, ch.content,"
                          f" ch.link FROM {self.events_table_name} e LEFT JOIN event_chain ch"
                          f" ON ch.notification_id = e.rowid WHERE e.rowid > ? ORDER BY e.rowid LIMIT 1000", (last,))
                rows = c.fetchall()
            if not rows:
                return
            for r in rows:
                state = r[4].encode() if isinstance(r[4], str) else bytes(r[4])  # a tampered row may hold text
                yield ChainedRecord(r[0], r[1], r[2], r[3], state, r[5], r[6])
            last = rows[-1][0]


class Factory(SQLiteFactory):
    """eventsourcing's SQLite factory, on the locking datastore."""

    aggregate_recorder_class = SnapshotRecorder
    application_recorder_class = ChainedSQLiteApplicationRecorder

    def __init__(self, env: Any):
        super().__init__(env)
        plain = self.datastore  # built by the base class from the same settings; not yet connected
        self.datastore = LockingSQLiteDatastore(
            db_name=plain.pool.db_name, lock_timeout=plain.pool.lock_timeout,
            single_row_tracking=plain.single_row_tracking, originator_id_type=plain.originator_id_type)
        plain.close()
