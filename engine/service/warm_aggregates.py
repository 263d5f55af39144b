"""Aggregates a long-running process saved, kept for its next commands.

A controller cycle, the import of a big dump, or a server runs many commands in one process.
Each would load its aggregates from a snapshot plus up to an interval of events; kept here, an
aggregate loads from memory plus only the events written since (by this or another process),
so a command's cost no longer grows with the history an aggregate holds.

An aggregate is handed to one unit of work at a time: taken out, and put back only once a
save has recorded every event it triggered. A command that fails, a dry run, or a second
command running at the same moment never sees another's unsaved changes, and nothing needs
copying (eventsourcing's own cache deep-copies the whole state at every load instead).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

DEFAULT_SIZE = 1024  # aggregates; the least recently used go first


class WarmAggregates:
    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = size
        self._held: OrderedDict[UUID, Any] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, aggregate_id: UUID) -> Any | None:
        with self._lock:
            return self._held.pop(aggregate_id, None)

    def put_back(self, aggregates: Iterable[Any]) -> None:
        """Keep the aggregates whose every event is saved; an aggregate with pending events is
        left out (a dry run, or a save that did not happen)."""
        with self._lock:
            for aggregate in aggregates:
                if aggregate.pending_events:
                    continue
                self._held[aggregate.id] = aggregate
                self._held.move_to_end(aggregate.id)
            while len(self._held) > self.size:
                self._held.popitem(last=False)

    def __len__(self) -> int:
        return len(self._held)
