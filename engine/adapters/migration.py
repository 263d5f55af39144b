"""Copying a store's events into another store (`imagetrail migrate --to URL`): for example one
Kafka topic into a topic per namespace, or an SQLite file into Kafka.

Every event keeps its aggregate id, version, type and content (so its content hash), in the
order it was written. A command's events stay one atomic write, split by namespace when the
target keeps a topic per namespace. Safe to run again after an interruption: what the target
already has, with the same content, is skipped; anything else there is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification, StoredEvent

from imagetrail.engine.domain.errors import Conflict

PAGE = 500


@dataclass(frozen=True)
class MigrationReport:
    events: int          # events in the source
    copied: int          # written to the target now
    already_there: int   # found in the target with the same content (an earlier, interrupted run)
    writes: int          # atomic writes made


def copy_events(source: Any, target: Any, *, partitioned: bool) -> MigrationReport:
    """Copy every event of the `source` application recorder into the `target` one."""
    namespaces: dict[str, str] = {}  # aggregate id -> its namespace, from its Created event
    events = copied = already = writes = 0
    for group in _commands(_notifications(source)):
        by_namespace: dict[str, list[Notification]] = {}
        for n in group:
            key = str(n.originator_id)
            if key not in namespaces:  # the first event of an aggregate is its Created: it names the namespace
                namespaces[key] = json.loads(n.state).get("namespace", "")
            by_namespace.setdefault(namespaces[key] if partitioned else "", []).append(n)
        for namespace, batch in by_namespace.items():
            events += len(batch)
            present = [_present(target, n) for n in batch]
            if all(present):
                already += len(batch)
                continue
            if any(present):
                raise Conflict(f"the target store has part of a command's events ({batch[0].originator_id} "
                               f"version {batch[0].originator_version}): it is not a copy of this store")
            stored = [StoredEvent(originator_id=n.originator_id, originator_version=n.originator_version,
                                  topic=n.topic, state=n.state) for n in batch]
            target.insert_events(stored, **({"namespace": namespace} if partitioned else {}))
            copied += len(batch)
            writes += 1
    return MigrationReport(events, copied, already, writes)


def _notifications(recorder: Any) -> Iterator[Notification]:
    start = 1
    while page := recorder.select_notifications(start, PAGE):
        yield from page
        start = page[-1].id + 1


def _commands(notifications: Iterator[Notification]) -> Iterator[list[Notification]]:
    """Consecutive events of one command (one correlation id): what was one atomic write."""
    group: list[Notification] = []
    command = None
    for n in notifications:
        correlation = json.loads(n.state).get("correlation_id") or f"event {n.id}"
        if group and correlation != command:
            yield group
            group = []
        command = correlation
        group.append(n)
    if group:
        yield group


def _present(target: Any, n: Notification) -> bool:
    found = target.select_events(n.originator_id, gt=n.originator_version - 1, lte=n.originator_version)
    if not found:
        return False
    if found[0].state != n.state or found[0].topic != n.topic:
        raise Conflict(f"the target store has another event at {n.originator_id} version {n.originator_version}: "
                       "it is not a copy of this store")
    return True
