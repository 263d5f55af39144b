"""Event consumers: your code, run over the event stream, resuming where it stopped.

Subclass `Consumer`, list the event types you care about, and write `on_<EventName>`
methods. `run()` feeds every event after the consumer's saved position to them, in log
order, and saves the position after each event:

- a side effect in the consumer's own SQLite database (`self.db`) commits in the same
  transaction as the position: exactly once;
- any other side effect (a file, a webhook) is at least once; `self.event_id(event)` gives a
  stable idempotence key to make it exactly once on the other side, as `ChangeNotifier` does.
"""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from imagetrail.engine.domain.cloudevents import cloudevent_id
from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.parsing import timestamp
from imagetrail.projections.pump import pump


def event_id(event: Any, source: str) -> str:
    """Unique and stable for an event: the same in every replay, and never the same for two
    events. Its store's identity (the CloudEvents `source`) is part of it, because the
    CloudEvents `id` alone repeats across stores: aggregate ids are derived from
    kind/namespace/name, so two users' stores give different events the same `id`, and one
    webhook receiving from both would drop the second as a duplicate."""
    return f"{source}#{cloudevent_id(event.originator_id, event.originator_version)}"


class Consumer:
    types: ClassVar[tuple[type, ...]] = ()  # event classes to receive; empty means all
    name: ClassVar[str] = ""

    def __init__(self, state_path: str):
        Path(state_path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(state_path, isolation_level=None, timeout=30)
        self.db.execute("CREATE TABLE IF NOT EXISTS consumer_position (name TEXT PRIMARY KEY, position INTEGER)")

    def event_id(self, event: Any) -> str:
        """The idempotence key of an event of the store this consumer runs on."""
        return event_id(event, self.app.source)

    @property
    def position(self) -> int:
        row = self.db.execute("SELECT position FROM consumer_position WHERE name = ?",
                              (self.name or type(self).__name__,)).fetchone()
        return row[0] if row else 0

    def run(self, app: Any, *, follow: bool = False, poll: float = 0.5, pace: float = 0.0,
            should_stop: Callable[[], bool] = lambda: False) -> int:
        """Process every event after the saved position; with `follow`, keep waiting for more."""
        self.app = app
        done = 0
        for page in pump(app, lambda: self.position, limit=200, follow=follow, poll=poll, should_stop=should_stop):
            for position, event in page:
                handler = getattr(self, f"on_{type(event).__name__}", None)
                wanted = handler is not None and (not self.types or isinstance(event, self.types))
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    if wanted:
                        handler(event, position)
                    self.db.execute("INSERT INTO consumer_position VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
                                    "SET position = excluded.position", (self.name or type(self).__name__, position))
                    self.db.execute("COMMIT")
                except BaseException:
                    self.db.execute("ROLLBACK")
                    raise
                done += 1
                if wanted and pace:
                    time.sleep(pace)
        return done


class ChangeNotifier(Consumer):
    """One human-readable line per tag move and per rollout, to a file or a webhook.

    Each line ends with the event id. A file is checked for the last id it holds before
    writing (so a crash between the write and the saved position never doubles a line);
    a webhook gets the id as its Idempotency-Key header.
    """

    types = (ImageStream.TagMoved, Deployment.RolledOut)
    name = "change-notifier"

    def __init__(self, state_path: str, *, file: str | None = None, webhook: str | None = None):
        super().__init__(state_path)
        self.file, self.webhook = file, webhook
        self.names: dict[Any, str] = {}  # aggregate id → "namespace/name"
        self.last_written = self._last_id_in_file()

    def name_of(self, originator_id: Any) -> str:
        if originator_id not in self.names:
            state = self.app.repository.get(originator_id, version=1).state
            self.names[originator_id] = f"{state.namespace}/{state.name}"
        return self.names[originator_id]

    def on_TagMoved(self, event: Any, position: int) -> None:  # noqa: N802  (event names are CamelCase)
        stream = self.name_of(event.originator_id)
        self.deliver(event, f"{timestamp(event.timestamp, seconds=True)} {event.actor}: {stream}:{event.tag} → "
                            f"{event.item.docker_image_reference} ({event.change})")

    def on_RolledOut(self, event: Any, position: int) -> None:  # noqa: N802
        deployment = self.name_of(event.originator_id)
        images = ", ".join(f"{c}={i}" for c, i in event.images.items())
        self.deliver(event, f"{timestamp(event.timestamp, seconds=True)} {event.actor}: deployment {deployment} "
                            f"rolled out revision {event.revision} ({images})")

    def deliver(self, event: Any, text: str) -> None:
        key = self.event_id(event)
        if self.file:
            if self.last_written == key:  # written just before a crash: do not write it twice
                return
            with open(self.file, "a", encoding="utf-8") as out:
                out.write(f"{text} [{key}]\n")
            self.last_written = key
        if self.webhook:
            request = urllib.request.Request(self.webhook, data=json.dumps({"text": text, "id": key}).encode(),
                                             headers={"Content-Type": "application/json", "Idempotency-Key": key})
            urllib.request.urlopen(request, timeout=10).close()

    def _last_id_in_file(self) -> str | None:
        if not self.file or not Path(self.file).exists():
            return None
        with open(self.file, "rb") as f:
            lines = f.read().splitlines()
        last = lines[-1].decode() if lines else ""
        return last[last.rfind("[") + 1:-1] if last.endswith("]") else None
