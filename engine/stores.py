"""Store URLs (`--store`, IMAGETRAIL_STORE) to eventsourcing persistence settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from imagetrail.engine.errors import UsageError


@dataclass(frozen=True)
class StoreConfig:
    url: str
    env: dict[str, str]
    views_path: str  # the SQLite file holding projections (":memory:" for memory://)


def default_store_url() -> str:
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{data_home / 'imagetrail' / 'imagetrail.db'}"


def parse_store(url: str | None) -> StoreConfig:
    url = url or os.environ.get("IMAGETRAIL_STORE") or default_store_url()
    if url in ("memory://", "memory:"):
        return StoreConfig(url, {"PERSISTENCE_MODULE": "eventsourcing.popo"}, ":memory:")
    if url.startswith("sqlite:"):
        if not url.startswith("sqlite:///"):
            raise UsageError(f"invalid store {url!r}: use sqlite:///ABSOLUTE/PATH.db")
        path = Path(url[len("sqlite:///") - 1:])
        if not path.is_absolute() or path.name == "":
            raise UsageError(f"invalid store {url!r}: use sqlite:///ABSOLUTE/PATH.db")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"cannot create the store directory {path.parent}: {e.strerror}") from None
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path),
               "SQLITE_LOCK_TIMEOUT": "30"}
        return StoreConfig(url, env, str(path.with_suffix(".views.db")))
    if url.startswith("kafka://"):
        raise UsageError(f"store {url!r}: the Kafka store is not available in this build; "
                         "use sqlite:///PATH.db or memory://")
    raise UsageError(f"unknown store {url!r}: use sqlite:///ABSOLUTE/PATH.db or memory://")
