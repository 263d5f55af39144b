"""Bring projections up to date by pulling new notifications from the application's log.

Pull-based so it works on every store (SQLite has no push subscription in eventsourcing
9.5). Cheap when the view is current: one indexed `max(id)` comparison.
"""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.persistence import Tracking

from imagetrail.engine.service.application import ImageTrail
from imagetrail.projections.views import CurrentState, CurrentStateView

PAGE = 500


def catch_up(app: ImageTrail, view: CurrentStateView,
             progress: Callable[[int, int], None] | None = None) -> int:
    """Process every notification after the view's position; returns how many were processed."""
    projection = CurrentState(view)
    position = view.max_tracking_id(app.name) or 0
    head = app.recorder.max_notification_id() or 0
    processed = 0
    while position < head:
        notifications = app.recorder.select_notifications(
            start=position, limit=PAGE, inclusive_of_start=False)
        if not notifications:
            break
        events = [(n.id, app.mapper.to_domain_event(n)) for n in notifications]
        position = notifications[-1].id
        projection.process_batch(events, Tracking(app.name, position))
        position = max(position, view.max_tracking_id(app.name) or 0)  # another reader may be ahead
        processed += len(notifications)
        if progress:
            progress(processed, head)
    return processed


def rebuild(app: ImageTrail, view: CurrentStateView,
            progress: Callable[[int, int], None] | None = None) -> int:
    view.clear()
    return catch_up(app, view, progress)
