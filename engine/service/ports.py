"""What the service needs from the outside, as protocols: the composition root (the CLI)
plugs in the adapters, so the service never imports them."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


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
