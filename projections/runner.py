"""Bring projections up to date by pulling new notifications from the application's log
(through the pump). Cheap when the view is current: one indexed `max(id)` comparison.
"""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.persistence import Tracking

from imagetrail.engine.service.application import ImageTrail
from imagetrail.projections.pump import pump
from imagetrail.projections.views import CurrentState, CurrentStateView

PAGE = 500


def catch_up(app: ImageTrail, view: CurrentStateView,
             progress: Callable[[int, int], None] | None = None) -> int:
    """Process every notification after the view's position; returns how many were processed."""
    projection = CurrentState(view)
    head = app.recorder.max_notification_id() or 0
    processed = 0
    # asked before each page: another reader may have moved the view ahead
    for page in pump(app, lambda: view.max_tracking_id(app.name) or 0, limit=PAGE, until=head):
        events = list(page)
        projection.process_batch(events, Tracking(app.name, events[-1][0]))
        processed += len(events)
        if progress:
            progress(processed, head)
    return processed


def rebuild(app: ImageTrail, view: CurrentStateView,
            progress: Callable[[int, int], None] | None = None) -> int:
    view.clear()
    return catch_up(app, view, progress)
