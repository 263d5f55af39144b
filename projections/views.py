"""The current-state projection: every image stream and Deployment as it is now.

An eventsourcing tracking view in SQLite. Each batch of events updates the stored states
and the tracking position in one transaction, so a crash replays nothing twice and loses
nothing. States are evolved with the events' own `evolve`, the same code the aggregates use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.projection import Projection
from eventsourcing.sqlite import SQLiteCursor, SQLiteTrackingRecorder

from imagetrail.engine.domain.aggregate import Aggregate, ObjectRecreated
from imagetrail.engine.adapters.sqlite import SchemaOnce, open_datastore
from imagetrail.engine.domain.deployment import Deployment, DeploymentState
from imagetrail.engine.domain.imagestream import ImageStream, ImageStreamState
from imagetrail.projections import audit, records
from imagetrail.projections.records import ImageChange, LogEntry, TagChange

KINDS: dict[type, tuple[str, type]] = {
    ImageStream: ("imagestream", ImageStreamState),
    Deployment: ("deployment", DeploymentState),
}


def _kind_of(event: Any) -> tuple[str, type] | None:
    for aggregate_class, kind in KINDS.items():
        if type(event).__qualname__.split(".")[0] == aggregate_class.__name__ and \
                type(event).__module__ == aggregate_class.__module__:
            return kind
    return None


class CurrentStateView(SchemaOnce, SQLiteTrackingRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS objects ("
            " id TEXT PRIMARY KEY, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,"
            " version INTEGER NOT NULL, state TEXT NOT NULL)",
            "CREATE UNIQUE INDEX IF NOT EXISTS objects_by_name ON objects (kind, namespace, name)",
            # the current tag map: every tag's resolved pull spec and digest (aliases resolved)
            "CREATE TABLE IF NOT EXISTS tags ("
            " namespace TEXT NOT NULL, stream TEXT NOT NULL, tag TEXT NOT NULL, pull_spec TEXT,"
            " image TEXT, source_kind TEXT, source TEXT, PRIMARY KEY (namespace, stream, tag))",
            *audit.TABLES,
            "CREATE TABLE IF NOT EXISTS view_schema (version INTEGER NOT NULL)",
            # the store this view was built from: a view left beside another store is emptied
            "CREATE TABLE IF NOT EXISTS view_store (source TEXT NOT NULL)",
        ]

    def schema_complete(self) -> bool:
        # and the tracking table is eventsourcing's single-row one (its migration marker is there)
        return super().schema_complete() and self.max_tracking_id(self.table_migration_identifier) is not None

    # -- writing --------------------------------------------------------------------------

    def apply(self, events: Iterable[tuple[int, Any]], tracking: Tracking) -> None:
        """Evolve the states the (notification id, event) pairs belong to, and record
        `tracking`, atomically. Events at or below the recorded position are skipped, so
        overlapping pages from concurrent readers never apply an event twice."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(self.select_max_tracking_id_statement, (tracking.application_name,))
            row = c.fetchone()
            done = (row[0] if row else None) or 0
            states: dict[UUID, list[Any]] = {}  # id -> [kind, state, version]
            for notification_id, event in events:
                if notification_id <= done:
                    continue
                kind = _kind_of(event)
                if kind is None:
                    continue
                kind_name, state_class = kind
                entry = states.get(event.originator_id)
                if entry is None:
                    entry = states[event.originator_id] = [
                        kind_name, self._load(c, event.originator_id, state_class), 0]
                before = audit.prior(event, entry[1])
                if isinstance(event, Aggregate.Created):
                    entry[1] = event.initial_state()
                elif isinstance(event, ObjectRecreated):  # the deleted object's row is gone
                    entry[1] = state_class.model_validate(event.state)
                else:
                    event.evolve(entry[1])
                entry[2] = event.originator_version
                audit.record(c, notification_id, event, before, entry[1])
            for object_id, (kind_name, state, version) in states.items():
                self._store(c, object_id, kind_name, state, version)
            self._insert_tracking(c, tracking)

    def _load(self, c: SQLiteCursor, object_id: UUID, state_class: type) -> Any:
        c.execute("SELECT state FROM objects WHERE id = ?", (str(object_id),))
        row = c.fetchone()
        return state_class.model_validate_json(row["state"]) if row else None

    def _store(self, c: SQLiteCursor, object_id: UUID, kind: str, state: Any, version: int) -> None:
        if state.deleted:  # its history stays in the audit tables; the current state has no such object
            c.execute("DELETE FROM objects WHERE id = ?", (str(object_id),))
            if kind == "imagestream":
                c.execute("DELETE FROM tags WHERE namespace = ? AND stream = ?", (state.namespace, state.name))
            return
        c.execute(
            "INSERT INTO objects (id, kind, namespace, name, version, state) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state",
            (str(object_id), kind, state.namespace, state.name, version, state.model_dump_json()),
        )
        if kind == "imagestream":
            c.execute("DELETE FROM tags WHERE namespace = ? AND stream = ?", (state.namespace, state.name))
            for tag in sorted(set(state.spec_tags) | set(state.status_tags)):
                spec = state.spec_tags.get(tag)
                head = state.head(tag)
                c.execute(
                    "INSERT INTO tags VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (state.namespace, state.name, tag, state.resolve(tag), head.image if head else None,
                     spec.source.kind if spec and spec.source else None,
                     spec.source.name if spec and spec.source else None),
                )

    def clear(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._clear(c)

    def _clear(self, c: SQLiteCursor) -> None:
        for table in ("objects", "tags", "audit_events", "tag_changes", "image_changes", "object_versions",
                      "observed_changes", "attributions"):
            c.execute(f"DELETE FROM {table}")
        c.execute("DELETE FROM tracking WHERE application_name != ?", (self.table_migration_identifier,))

    def schema_version(self) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT MAX(version) FROM view_schema")
            return c.fetchone()[0]

    def upgrade(self, version: int) -> None:
        """Empty a view written by another schema version (the next catch-up rebuilds it)."""
        with self.datastore.transaction(commit=True) as c:
            c.execute("SELECT MAX(version) FROM view_schema")
            if c.fetchone()[0] != version:  # not done meanwhile by another process
                self._clear(c)
                c.execute("DELETE FROM view_schema")
                c.execute("INSERT INTO view_schema VALUES (?)", (version,))

    def bind(self, source: str) -> None:
        """Tie the view to its store; a view built from another store (its file deleted and
        created again, say) is emptied, and the next catch-up rebuilds it."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT source FROM view_store")
            row = c.fetchone()
        if row is not None and row[0] == source:
            return
        with self.datastore.transaction(commit=True) as c:
            c.execute("SELECT source FROM view_store")
            row = c.fetchone()
            if row is not None and row[0] == source:  # bound meanwhile by another process
                return
            if row is not None:
                self._clear(c)
            c.execute("DELETE FROM view_store")
            c.execute("INSERT INTO view_store VALUES (?)", (source,))

    # -- reading --------------------------------------------------------------------------

    def get(self, kind: str, namespace: str, name: str) -> Any:
        state_class = _state_class(kind)
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT state FROM objects WHERE kind = ? AND namespace = ? AND name = ?",
                      (kind, namespace, name))
            row = c.fetchone()
        return state_class.model_validate_json(row["state"]) if row else None

    def list(self, kind: str, namespace: str | None) -> list[Any]:
        state_class = _state_class(kind)
        with self.datastore.transaction(commit=False) as c:
            if namespace is None:
                c.execute("SELECT state FROM objects WHERE kind = ? ORDER BY namespace, name", (kind,))
            else:
                c.execute("SELECT state FROM objects WHERE kind = ? AND namespace = ? ORDER BY name",
                          (kind, namespace))
            rows = c.fetchall()
        return [state_class.model_validate_json(r["state"]) for r in rows]

    def tag_map(self, namespace: str | None = None) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as c:
            if namespace is None:
                c.execute("SELECT * FROM tags ORDER BY namespace, stream, tag")
            else:
                c.execute("SELECT * FROM tags WHERE namespace = ? ORDER BY stream, tag", (namespace,))
            return [dict(r) for r in c.fetchall()]

    def tag_history(self, namespace: str, stream: str, tag: str, limit: int | None = None) -> list[dict]:
        """The index's rows (rollback reads them); `tag_changes` is the documented form."""
        with self.datastore.transaction(commit=False) as c:
            return audit.tag_history(c, namespace, stream, tag, limit)

    def tag_changes(self, namespace: str, stream: str, tag: str, limit: int | None = None) -> list[TagChange]:
        return [records.tag_change(r) for r in self.tag_history(namespace, stream, tag, limit)]

    def deployment_history(self, namespace: str, name: str, limit: int | None = None) -> list[ImageChange]:
        with self.datastore.transaction(commit=False) as c:
            return [records.image_change(r) for r in audit.deployment_history(c, namespace, name, limit)]

    def version_at(self, kind: str, namespace: str, name: str, position: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            return audit.version_at(c, kind, namespace, name, position)

    def names_at(self, kind: str, namespace: str | None, position: int) -> list[tuple[str, str]]:
        with self.datastore.transaction(commit=False) as c:
            return audit.names_at(c, kind, namespace, position)

    def command_end(self, position: int) -> int:
        with self.datastore.transaction(commit=False) as c:
            return audit.command_end(c, position)

    def time_of(self, position: int) -> str | None:
        with self.datastore.transaction(commit=False) as c:
            return audit.time_of(c, position)

    def position_at(self, timestamp: str) -> int | None:
        """The last position written at or before `timestamp` (RFC 3339, UTC)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT MAX(position) FROM audit_events WHERE timestamp <= ?", (timestamp,))
            return c.fetchone()[0]

    def log(self, **filters: Any) -> list[LogEntry]:
        with self.datastore.transaction(commit=False) as c:
            return [records.log_entry(r) for r in audit.log(c, **filters)]

    def dump(self) -> dict[str, Any]:
        """Everything the view holds (for comparing a rebuild with the live view)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT id, kind, namespace, name, version, state FROM objects ORDER BY id")
            objects = [dict(r, state=json.loads(r["state"])) for r in c.fetchall()]
            audit_rows = {}
            for table, key in AUDIT_KEYS.items():
                c.execute(f"SELECT * FROM {table} ORDER BY {key}")
                audit_rows[table] = [dict(r) for r in c.fetchall()]
        return {"objects": objects, "tags": self.tag_map(), **audit_rows}


# the audit tables, each with its primary key (so a dump lists rows in one order)
AUDIT_KEYS = {"audit_events": "position", "tag_changes": "position", "image_changes": "position, container",
              "object_versions": "kind, namespace, name, version"}


def _state_class(kind: str) -> type:
    return {"imagestream": ImageStreamState, "deployment": DeploymentState}[kind]


# Bump when the view's tables or what they hold change: an older view is emptied and
# rebuilt from the log on its next catch-up, instead of answering with gaps.
VIEW_SCHEMA = 4  # 4: observed changes and their attributions (watch, API audit)


def open_view(path: str, source: str | None = None) -> CurrentStateView:
    """The view at PATH; with the store's `source`, emptied if it was built from another store."""
    view = CurrentStateView(open_datastore(path))
    view.create_table()
    if view.schema_version() != VIEW_SCHEMA:
        view.upgrade(VIEW_SCHEMA)
    if source is not None:
        view.bind(source)
    return view


class CurrentState(Projection[CurrentStateView]):
    """The eventsourcing Projection over the view: events in, view updates plus tracking out."""

    name = "current_state"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.process_batch([(tracking.notification_id, domain_event)], tracking)

    def process_batch(self, events: list[tuple[int, Any]], tracking: Tracking) -> None:
        """A page of events in one transaction; a page already applied (by another reader)
        is skipped, which is what makes the effect exactly-once."""
        try:
            self.view.apply(events, tracking)
        except IntegrityError:
            pass
