"""A long poll on the event topic: returns as soon as a transaction commits after a position.

Its own read_committed consumer (the log's consumer belongs to catch-ups under the log's lock), so
a follower blocks in the broker's fetch, not in a sleep of ours: the broker answers the fetch when
a committed record arrives, and `fetch_max_wait_ms` bounds how long it holds it otherwise.
"""

from __future__ import annotations

import threading
import time
from typing import Any


class Follower:
    def __init__(self, log: Any):
        self.log = log
        self._consumer = None
        self._lock = threading.Lock()

    def wait_for_new(self, after: int, timeout: float) -> int | None:
        """The last position now committed when it is beyond `after` (notification ids are offsets + 1),
        or None after `timeout` seconds without one."""
        with self._lock:
            consumer, tp = self._consumer_at(after), self.log._partition()
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                records = consumer.poll(timeout_ms=max(int(left * 1000), 1), max_records=500).get(tp, [])
                if records:
                    return records[-1].offset + 1
            return None

    def _consumer_at(self, after: int) -> Any:
        tp = self.log._partition()
        if self._consumer is None:
            from kafka import KafkaConsumer  # the adapter's lazy import, as in log.py

            self._consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, isolation_level="read_committed",
                                           auto_offset_reset="earliest", fetch_max_wait_ms=500,
                                           **self.log.settings.client_config())
            self._consumer.assign([tp])
            self._consumer.seek(tp, after)
        elif self._consumer.position(tp) < after:
            self._consumer.seek(tp, after)
        return self._consumer

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
