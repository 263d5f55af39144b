"""The rollback's HistoryReader (engine/service/history_reader.py) over the projections: the audit
index for a tag's changes and the log's times, the current-state view for names, as-of reads
for a past spec. The view is brought up to date with the log before each answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from imagetrail.engine.domain.model import TagReference
from imagetrail.engine.domain.parsing import timestamp
from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.service.ports import TagChangeRecord
from imagetrail.projections.asof import AsOf
from imagetrail.projections.views import CurrentStateView


class ProjectionHistory:
    def __init__(self, app: ImageTrail, view: Callable[[], CurrentStateView]):
        self.app = app
        self._view = view  # returns the view caught up with the log

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def position_at(self, moment: datetime) -> int | None:
        return self._view().position_at(timestamp(moment))

    def stream_exists(self, namespace: str, stream: str) -> bool:
        return self._view().get("imagestream", namespace, stream) is not None

    def status_tags(self, namespace: str) -> list[tuple[str, str]]:
        return [(s.name, tag) for s in self._view().list("imagestream", namespace) for tag in sorted(s.status_tags)]

    def tag_changes(self, namespace: str, stream: str, tag: str) -> list[TagChangeRecord]:
        return [TagChangeRecord(row["position"], row["new_image"], row["new_pull_spec"])
                for row in self._view().tag_history(namespace, stream, tag)]

    def deployment_names(self, namespace: str) -> list[str]:
        return [d.name for d in self._view().list("deployment", namespace)]

    def spec_at(self, namespace: str, stream: str, tag: str, position: int) -> tuple[TagReference | None, int]:
        past = AsOf(self.app, self._view(), position)
        state = past.get("imagestream", namespace, stream)
        return (state.spec_tags.get(tag) if state else None), past.position
