"""The SQLite application recorder, plus the hash chain written in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from imagetrail.engine.chain import GENESIS, ChainedRecord, content_hash, link


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                "CREATE TABLE IF NOT EXISTS event_chain "
                "(notification_id INTEGER PRIMARY KEY, content TEXT NOT NULL, link TEXT NOT NULL)"]

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
                yield ChainedRecord(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], r[6])
            last = rows[-1][0]
