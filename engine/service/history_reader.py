"""The port through which the rollback use cases read the past: a tag's changes, the log's
positions and times, the names a namespace holds. The projections implement it
(projections/history_reader.py); a test can hand in a few rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from imagetrail.engine.domain.model import TagReference


@dataclass(frozen=True)
class TagChangeRecord:
    """One move of a tag's head: the log position it was written at and what the tag had after it
    (no image: the tag was deleted)."""

    position: int
    image: str | None
    pull_spec: str | None


class HistoryReader(Protocol):
    def head(self) -> int:
        """The log's last position (0 when empty)."""

    def position_at(self, moment: datetime) -> int | None:
        """The last position written at or before `moment`; None when nothing was."""

    def stream_exists(self, namespace: str, stream: str) -> bool: ...

    def status_tags(self, namespace: str) -> list[tuple[str, str]]:
        """Every (stream, tag) of the namespace that has a status history, by stream, then tag."""

    def tag_changes(self, namespace: str, stream: str, tag: str) -> list[TagChangeRecord]:
        """The tag's changes, newest first."""

    def deployment_names(self, namespace: str) -> list[str]: ...

    def spec_at(self, namespace: str, stream: str, tag: str, position: int) -> tuple[TagReference | None, int]:
        """The tag's spec as it was at `position`, and the position that state is read at (the end
        of the command that wrote `position`: no reader ever saw the middle of a command)."""
