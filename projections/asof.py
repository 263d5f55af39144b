"""As-of reads: every object exactly as it was at a log position.

The audit index says which version of an object held at a position (an index lookup);
the aggregate is then loaded at that version from its nearest snapshot, so a read of
the past costs at most one snapshot plus the events after it, never a replay of the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.domain.aggregate import project
from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.projections.views import CurrentStateView

AGGREGATES = {"imagestream": ImageStream, "deployment": Deployment}


class AsOf:
    """Reads with the same shape as the current-state view's, at `position`."""

    def __init__(self, app: ImageTrail, view: CurrentStateView, position: int):
        self.app, self.view, self.position = app, view, view.command_end(position)
        moment = view.time_of(position)
        self.moment = datetime.fromisoformat(moment.replace("Z", "+00:00")) if moment else None

    def get(self, kind: str, namespace: str, name: str) -> Any:
        version = self.view.version_at(kind, namespace, name, self.position)
        if version is None:
            return None
        aggregate = AGGREGATES[kind]
        state = self.app.repository.get(aggregate.id_for(namespace, name), version=version,
                                        projector_func=project).state
        return None if state.deleted else state

    def list(self, kind: str, namespace: str | None) -> list[Any]:
        """Every object of `kind` in `namespace` (None: in every namespace) as it was then."""
        states = (self.get(kind, ns, name) for ns, name in self.view.names_at(kind, namespace, self.position))
        return [state for state in states if state is not None]
