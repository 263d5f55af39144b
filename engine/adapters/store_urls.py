"""Store URLs (`--store`, IMAGETRAIL_STORE) to eventsourcing persistence settings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from eventsourcing.utils import get_topic

from imagetrail.engine.adapters.mapper import PydanticMapper
from imagetrail.engine.domain.errors import NotFound, UsageError
from imagetrail.engine.adapters.sqlite import views_beside
from imagetrail.engine.domain.references import quote
from imagetrail.engine.settings import Settings


@dataclass(frozen=True)
class StoreConfig:
    url: str
    env: dict[str, str]
    file: Path | None = field(default=None, compare=False)  # the SQLite store's file

    def __post_init__(self) -> None:
        # every store keeps events as imagetrail's JSON (the wire form consumers read)
        self.env.setdefault("MAPPER_TOPIC", get_topic(PydanticMapper))

    @property
    def partitioned(self) -> bool:
        """Whether a save is atomic only within one namespace (a Kafka store with a topic per namespace)."""
        return "{namespace}" in self.env.get("KAFKA_TOPIC", "")

    @property
    def views_path(self) -> Path:
        """The SQLite file holding the projections: beside the store's file; beside the local
        cache of a Kafka store's log (keyed to the topic's id, so this opens the topic); in
        memory for memory://."""
        if "KAFKA_TOPIC" in self.env:
            from imagetrail.engine.adapters.kafka import KafkaSettings, open_log

            return open_log(KafkaSettings.from_env(self.env)).views_path
        return views_beside(self.file) if self.file else Path(":memory:")

    def prepare(self, *, create: bool) -> list[Path]:
        """Before opening: a write may create an SQLite store (and its directory); a read of a
        store that does not exist is refused, creating nothing (no directory, no .db, no views).
        Returns what opening will create, for `discard` when the command then writes nothing."""
        if "KAFKA_TOPIC" in self.env:  # the topic is created on first use, by a write only
            self.env["KAFKA_CREATE_TOPIC"] = "1" if create else "0"
            return []
        path = self.file
        if path is None:
            return []
        try:
            if path.is_file():
                return []
            if path.exists():
                raise UsageError(f"invalid store {quote(self.url)}: {path} is not a file")
        except OSError as e:  # a name too long for the file system, a path through a file, …
            raise UsageError(f"invalid store {quote(self.url)}: {e.strerror}") from None
        if not create:
            raise NotFound(f"no store at {path}: nothing has been recorded yet (a write command creates it)")
        missing = [d for d in reversed(path.parents) if not d.exists()]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"cannot create the store directory {path.parent}: {e.strerror}") from None
        files = [Path(f"{p}{suffix}") for p in (path, self.views_path) for suffix in ("", "-wal", "-shm")]
        return files + list(reversed(missing))

    @staticmethod
    def discard(created: list[Path]) -> None:
        """Remove a store this command created but wrote nothing to: a failed first write leaves
        no empty store behind (files first, then the directories made for them)."""
        for p in created:
            try:
                p.rmdir() if p.is_dir() else p.unlink(missing_ok=True)
            except OSError:
                pass


def parse_store(settings: Settings) -> StoreConfig:
    """The store that settings.store (--store, IMAGETRAIL_STORE) names, else the default under XDG_DATA_HOME."""
    url = settings.store or settings.default_store_url
    if url in ("memory://", "memory:"):
        return StoreConfig(url, {"PERSISTENCE_MODULE": "eventsourcing.popo"})
    if url.startswith("sqlite:"):
        if not url.startswith("sqlite:///"):
            raise UsageError(f"invalid store {quote(url)}: use sqlite:///ABSOLUTE/PATH.db")
        # sqlite:///abs and SQLAlchemy's sqlite:////abs name the same file; POSIX keeps a leading "//"
        path = Path("/" + url[len("sqlite:///"):].lstrip("/"))
        if not path.is_absolute() or path.name == "":
            raise UsageError(f"invalid store {quote(url)}: use sqlite:///ABSOLUTE/PATH.db")
        env = {"PERSISTENCE_MODULE": "imagetrail.engine.adapters.sqlite:Factory", "SQLITE_DBNAME": str(path),
               "SQLITE_LOCK_TIMEOUT": "30"}
        return StoreConfig(url, env, path)
    if url.startswith("kafka://"):
        return _kafka_store(url, settings)
    raise UsageError(f"unknown store {quote(url)}: use sqlite:///ABSOLUTE/PATH.db, "
                     "kafka://HOST:PORT[,HOST:PORT]/TOPIC[{namespace}] or memory://")


KAFKA_URL = re.compile(r"kafka://(?P<servers>[^/]+)/(?P<topic>[A-Za-z0-9._-]*(\{namespace\})?[A-Za-z0-9._-]*)")
NAMESPACE_MAX = 63  # a namespace is a DNS label: its shard's topic name must still fit in 249
# Client settings for real clusters, from IMAGETRAIL_KAFKA_CONFIG (a properties file) or the
# environment (IMAGETRAIL_KAFKA_SASL_PASSWORD, …, which take precedence). Never logged.
KAFKA_PROPERTIES = {
    "security.protocol": "KAFKA_SECURITY_PROTOCOL", "sasl.mechanism": "KAFKA_SASL_MECHANISM",
    "sasl.username": "KAFKA_SASL_USERNAME", "sasl.password": "KAFKA_SASL_PASSWORD",
    "ssl.cafile": "KAFKA_SSL_CAFILE", "client.id": "KAFKA_CLIENT_ID", "timeout": "KAFKA_TIMEOUT",
    "replication.factor": "KAFKA_REPLICATION_FACTOR", "min.insync.replicas": "KAFKA_MIN_INSYNC_REPLICAS",
    "cache.dir": "KAFKA_CACHE_DIR",
}  # and IMAGETRAIL_KAFKA_CE_SOURCE, which has no property


def _kafka_store(url: str, settings: Settings) -> StoreConfig:
    match = KAFKA_URL.fullmatch(url)
    servers = match and [s for s in match["servers"].split(",")]
    if not match or not match["topic"] or not all(re.fullmatch(r"[A-Za-z0-9.-]+:[0-9]{1,5}|\[[0-9a-fA-F:]+\]:[0-9]{1,5}", s) for s in servers):
        raise UsageError(f"invalid store {quote(url)}: use kafka://HOST:PORT[,HOST:PORT]/TOPIC "
                         "or kafka://HOST:PORT/PREFIX{namespace} (one topic per namespace)")
    topic = match["topic"]
    longest = len(topic.replace("{namespace}", "")) + (NAMESPACE_MAX if "{namespace}" in topic else 0)
    if longest > 249 or topic in (".", ".."):
        raise UsageError(f"invalid store {quote(url)}: a topic name is 1 to 249 of A-Z a-z 0-9 . _ - "
                         "(with {namespace}, the longest namespace, 63, must still fit)")
    env = {"PERSISTENCE_MODULE": "imagetrail.engine.adapters.kafka",
           "KAFKA_BOOTSTRAP_SERVERS": ",".join(servers), "KAFKA_TOPIC": match["topic"]}
    if settings.kafka_config:
        env.update(_read_kafka_config(settings.kafka_config))
    env.update(settings.kafka_overrides())
    env.setdefault("KAFKA_CACHE_DIR", str(settings.kafka_cache))
    return StoreConfig(url, env)


def _read_kafka_config(path: str) -> dict[str, str]:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as e:
        raise UsageError(f"cannot read the Kafka config file {path} (IMAGETRAIL_KAFKA_CONFIG): {e.strerror}") from None
    env = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or key.strip() not in KAFKA_PROPERTIES:
            raise UsageError(f"{path}:{number}: expected KEY=VALUE with KEY one of {', '.join(KAFKA_PROPERTIES)}")
        env[KAFKA_PROPERTIES[key.strip()]] = value.strip()
    return env
