"""The one loop that pulls the log: pages of (position, event) after a position, in log order.

Pages are pulled; when following, the wait for more is the store's own (`wait_for_new`: a Kafka
long poll that returns at the commit, SQLite's short poll), a plain sleep only for the memory store.
The projections' catch-up (runner.py), the event consumers (consumers.py) and `events tail`
all read the log through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

Page = Iterator[tuple[int, Any]]


def pump(app: Any, start: int | Callable[[], int], *, limit: int = 500, until: int | None = None,
         follow: bool = False, poll: float = 0.5, should_stop: Callable[[], bool] = lambda: False) -> Iterator[Page]:
    """Pages of (position, domain event) after `start`.

    `start` is a position, or a function that gives the position to read after, asked before
    each page (a view or a consumer that saves its own position, possibly moved by another
    process). Events are decoded as the page is read, so the events before an undecodable
    one are still handled. Without `follow` it stops at the end of the log (or at `until`);
    with it, it waits for the log to grow (at most `poll` seconds at a time), until `should_stop()`.
    """
    last = 0 if callable(start) else start
    while not should_stop():
        position = start() if callable(start) else last
        if until is not None and position >= until:
            return
        notifications = app.recorder.select_notifications(start=position, limit=limit, inclusive_of_start=False)
        if not notifications:
            if not follow:
                return
            wait = getattr(app.recorder, "wait_for_new", None)  # a push where the store has one
            if wait is not None:
                wait(position, timeout=poll)
            else:
                time.sleep(poll)
            continue
        yield ((n.id, app.mapper.to_domain_event(n)) for n in notifications)
        last = notifications[-1].id
