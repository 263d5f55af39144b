"""Push subscriptions for imagetrail's recorders (eventsourcing's `ApplicationRecorder.subscribe`).

eventsourcing's ListenNotifySubscription pulls new notifications whenever it is notified; here
the notification comes from the recorder's own `wait_for_new(after, timeout)`: a Kafka long poll
that the broker answers the moment a transaction commits, or, for SQLite, which has no change
notification across processes, a short poll of the last position inside the adapter.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import ListenNotifySubscription

WAKE_TIMEOUT = 1.0  # seconds a wait may block: how soon a stopped subscription notices


class WaitingSubscription(ListenNotifySubscription[Any]):
    def __init__(self, recorder: Any, gt: int | None = None, topics: Sequence[str] = ()):
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._waker = threading.Thread(target=self._wake, args=(gt or 0,), daemon=True)
        self._waker.start()

    def _wake(self, position: int) -> None:
        try:
            while not self._has_been_stopped:
                newer = self._recorder.wait_for_new(position, timeout=WAKE_TIMEOUT)
                if newer is not None and newer > position:
                    position = newer
                    self._has_been_notified.set()
        except BaseException as e:  # raised to the iterating caller by __next__
            if self._thread_error is None:
                self._thread_error = e
            self.stop()

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._waker.join(timeout=WAKE_TIMEOUT + 5)
