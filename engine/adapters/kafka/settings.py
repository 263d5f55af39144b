"""The Kafka store's settings, from the eventsourcing environment the store URL was turned into."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from eventsourcing.persistence import OperationalError
from eventsourcing.utils import Environment

from imagetrail.engine.domain.parsing import setting_number

# The producer's retry backoff (kafka-python's default: 100 ms). kafka-python idles a whole backoff
# where it could go on (README "Where kafka-python waits"): twice in init_transactions (after
# the coordinator lookup is queued, and before the InitProducerId that follows it), and after the
# CONCURRENT_TRANSACTIONS answer the broker gives an AddPartitionsToTxn sent while the previous
# commit's markers are still being written. 20 ms is Kafka's own backoff for that last case
# (the Java client's and the broker's). It only spaces retries: acks, idempotence, the
# transactions and every timeout stay as they are.
RETRY_BACKOFF_MS = 20
SHARD_PLACEHOLDER = "{namespace}"


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: tuple[str, ...]
    topic: str
    timeout: float = 30.0
    cache_dir: str = ""  # the local cache of the log and the views beside it
    replication_factor: int = 1
    min_insync_replicas: int = 1
    security: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # credentials: never printed
    source: str = ""  # IMAGETRAIL_KAFKA_CE_SOURCE: overrides the CloudEvents source derived from the topic
    create_topic: bool = field(default=True, compare=False)  # reads never create the topic

    @property
    def sharded(self) -> bool:
        """A topic name with `{namespace}` in it: one topic, and one writer's fence, per namespace."""
        return SHARD_PLACEHOLDER in self.topic

    def for_namespace(self, namespace: str) -> KafkaSettings:
        """The settings of one namespace's topic (its shard), a single-topic store of its own."""
        return replace(self, topic=self.topic.replace(SHARD_PLACEHOLDER, namespace))

    @property
    def address(self) -> str:
        return ",".join(self.bootstrap_servers)

    @classmethod
    def from_env(cls, env: Environment) -> KafkaSettings:
        servers = tuple(s.strip() for s in (env.get("KAFKA_BOOTSTRAP_SERVERS") or "").split(",") if s.strip())
        topic = env.get("KAFKA_TOPIC") or ""
        cache_dir = env.get("KAFKA_CACHE_DIR") or ""  # the composition root's default: under $XDG_CACHE_HOME
        if not servers or not topic or not cache_dir:
            raise OperationalError("the Kafka store needs KAFKA_BOOTSTRAP_SERVERS, KAFKA_TOPIC and KAFKA_CACHE_DIR")
        security = {
            "security_protocol": env.get("KAFKA_SECURITY_PROTOCOL"),
            "sasl_mechanism": env.get("KAFKA_SASL_MECHANISM"),
            "sasl_plain_username": env.get("KAFKA_SASL_USERNAME"),
            "sasl_plain_password": env.get("KAFKA_SASL_PASSWORD"),
            "ssl_cafile": env.get("KAFKA_SSL_CAFILE"),
            "client_id": env.get("KAFKA_CLIENT_ID"),
        }
        return cls(
            bootstrap_servers=servers, topic=topic,
            timeout=setting_number("IMAGETRAIL_KAFKA_TIMEOUT", env.get("KAFKA_TIMEOUT"), 30, minimum=0.1),
            cache_dir=cache_dir,
            replication_factor=int(setting_number("IMAGETRAIL_KAFKA_REPLICATION_FACTOR",
                                                  env.get("KAFKA_REPLICATION_FACTOR"), 1, minimum=1,
                                                  maximum=1000, whole=True)),
            min_insync_replicas=int(setting_number("IMAGETRAIL_KAFKA_MIN_INSYNC_REPLICAS",
                                                   env.get("KAFKA_MIN_INSYNC_REPLICAS"), 1, minimum=1,
                                                   maximum=1000, whole=True)),
            security=tuple((k, v) for k, v in security.items() if v),
            source=env.get("KAFKA_CE_SOURCE") or "",
            create_topic=(env.get("KAFKA_CREATE_TOPIC") or "1") == "1",
        )

    @property
    def call_timeout(self) -> float:
        """Each broker wait gets half the bound, and a store operation stops starting new
        waits after the other half, so a whole operation ends within `timeout`."""
        return max(self.timeout / 2, 0.5)

    def client_config(self) -> dict[str, Any]:
        ms = int(self.call_timeout * 1000)
        return {
            "bootstrap_servers": list(self.bootstrap_servers),
            "request_timeout_ms": ms, "bootstrap_timeout_ms": ms, "reconnect_backoff_max_ms": 1000,
            **dict(self.security),
        }

    def producer_config(self, transactional_id: str) -> dict[str, Any]:
        """The writer's producer. Durability is fixed here: acks=all, idempotence, one
        transaction per batch; a transaction the writer leaves open is aborted after `timeout`
        (at least 10 s), and a send or commit waits at most the call bound."""
        return {
            **self.client_config(),
            "transactional_id": transactional_id,
            "transaction_timeout_ms": max(int(self.timeout * 1000), 10000),
            "max_block_ms": int(self.call_timeout * 1000),
            "acks": "all", "enable_idempotence": True, "linger_ms": 0,
            "retry_backoff_ms": RETRY_BACKOFF_MS,
        }
