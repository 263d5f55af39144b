"""The local cache of a Kafka store's log: its committed records in SQLite, indexed for the
recorders' reads (per aggregate, notification pages), so a CLI call only fetches what is new.
Keyed to the cluster and topic ids; delete it and it is rebuilt from the topic."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from imagetrail.engine.adapters.chain import GENESIS

CACHE_FORMAT = "v2"  # bump when the cache's tables change: an old cache is left and rebuilt


class IndexedReads:
    """The reads the recorders and the writer's version check make, on an `events` table with
    position, originator_id, originator_version, topic and state (the local cache's, the merged one's)."""

    db: sqlite3.Connection

    def taken(self, pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
        found = []
        for originator_id, version in pairs:
            if self.db.execute("SELECT 1 FROM events WHERE originator_id = ? AND originator_version = ?",
                               (originator_id, version)).fetchone():
                found.append((originator_id, version))
        return found

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

    def max_position(self) -> int | None:
        return self.db.execute("SELECT MAX(position) FROM events").fetchone()[0]


class LocalCache(IndexedReads):
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

    @staticmethod
    def topic_checked_at(path: Path) -> float | None:
        """When the topic this cache belongs to last passed the full safety check (a Unix time),
        read without creating anything: None if the cache or the mark is missing."""
        if not path.exists():
            return None
        try:
            db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
            try:
                row = db.execute("SELECT value FROM meta WHERE key = 'topic_checked_at'").fetchone()
            finally:
                db.close()
        except sqlite3.Error:  # not a cache of this format: the full check decides
            return None
        return float(row[0]) if row else None

    def mark_topic_checked(self, at: float) -> None:
        self.db.execute("INSERT INTO meta VALUES ('topic_checked_at', ?) ON CONFLICT (key) DO UPDATE "
                        "SET value = excluded.value", (repr(at),))

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

    def batch_positions(self, batch_id: str) -> list[int]:
        rows = self.db.execute("SELECT position FROM events WHERE batch_id = ? ORDER BY position", (batch_id,))
        return [r[0] for r in rows]

    def last_link(self) -> str:
        row = self.db.execute("SELECT link FROM events ORDER BY position DESC LIMIT 1").fetchone()
        return row[0] if row and row[0] else GENESIS

    def foreign(self) -> list[tuple[int, str]]:
        return self.db.execute("SELECT position, reason FROM foreign_records ORDER BY position").fetchall()
