"""What the service needs from the outside, as protocols: the composition root (the CLI)
plugs in the adapters (a resolver, a store) and the projections (the history the rollback
use cases read the past from), so the service never imports them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from imagetrail.engine.domain.model import TagReference


class Resolved(Protocol):
    @property
    def pull_spec(self) -> str:  # the most specific pull spec: repository@digest
        ...

    @property
    def digest(self) -> str:
        ...


class Resolver(Protocol):
    """Pull spec → image digest (a registry, a snapshot file, …)."""

    def resolve(self, pull_spec: str, *, insecure: bool = False, import_mode: str = "Legacy") -> Resolved:
        """The image `pull_spec` names now; raises ResolveFailed when it cannot say."""
        ...


class Store(Protocol):
    """An event store: the eventsourcing settings that open it (persistence module, mapper, …),
    and where its projections live."""

    @property
    def env(self) -> dict[str, str]:
        ...

    @property
    def views_path(self) -> Path:
        ...

    @property
    def partitioned(self) -> bool:
        """True when a save is atomic only within one namespace (one Kafka topic per namespace)."""
        ...


@dataclass(frozen=True)
class TagChangeRecord:
    """One move of a tag's head: the log position it was written at and what the tag had after it
    (no image: the tag was deleted)."""

    position: int
    image: str | None
    pull_spec: str | None


class HistoryReader(Protocol):
    """How the rollback use cases read the past: a tag's changes, the log's positions and times, the
    names a namespace holds. The projections implement it (projections/history_reader.py)."""

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


class Cluster(Protocol):
    """A real cluster, reached through its command-line client (oc, or kubectl): read an object,
    run a command, and say who the client acts as there."""

    @property
    def client(self) -> str:
        """"oc" or "kubectl": which form of a change it runs."""

    def get(self, resource: str, namespace: str, name: str) -> dict | None:
        """The object as the cluster has it now (`get -o json`); None when it does not exist."""

    def run(self, argv: list[str]) -> tuple[int, str]:
        """Run one command; its exit code and its output (stdout and stderr)."""

    def whoami(self) -> str: ...
