"""The topic of a Kafka store: its safety checks, catching up its local cache, the fenced writer.

Fenced single-writer append on a single-partition topic (README "Kafka store"): every
writer shares one `transactional.id`; `init_transactions()` fences any older writer, so
between it and the commit only this writer can commit. The writer catches up with the
committed log, checks (aggregate, version) uniqueness against it, and appends the batch
in one transaction. Readers use read_committed, so a batch is seen whole or not at all.
Notification id = offset + 1: it only increases and never changes.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent

from imagetrail.engine.adapters import chain
from imagetrail.engine.adapters.kafka import diagnosis
from imagetrail.engine.adapters.kafka.errors import OutcomeUnknown, definitive, error_of, fenced, unreachable_errors
from imagetrail.engine.adapters.kafka.cache import CACHE_FORMAT, LocalCache
from imagetrail.engine.adapters.kafka.records import HEADER_PREFIX, decode_batch, decode_record, record_headers
from imagetrail.engine.adapters.kafka.settings import KafkaSettings
from imagetrail.engine.adapters.sqlite import views_beside
from imagetrail.engine.domain.errors import NotFound

WRITER_ATTEMPTS = 6
# How long a passed safety check of the topic's settings (DescribeConfigs) is trusted. The
# topic's identity is still checked on every command, from the metadata the consumer gets anyway.
TOPIC_CHECK_MAX_AGE = 600.0


class StoreUnavailable(OperationalError):
    """The broker could not be reached, or did not answer in time."""


class UnsafeTopic(OperationalError):
    """The topic exists with settings that would lose or rewrite events."""


class StoreBusy(OperationalError):
    """Other writers kept fencing this one; the command was not written."""


class VersionConflict(IntegrityError):
    pass


def _kafka():
    import kafka  # imported lazily: the embedded store must not need a broker library loaded

    return kafka


class KafkaLog:
    """One imagetrail topic: its safety checks, its local cache, and the single-writer append."""

    _instances: dict[tuple, KafkaLog] = {}
    _instances_lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: KafkaSettings) -> KafkaLog:
        """One log object per topic per process, so in-process callers share clients and locks."""
        key = (settings.bootstrap_servers, settings.topic, settings.cache_dir, settings.security)
        with cls._instances_lock:
            log = cls._instances.get(key)
            if log is None:
                log = cls._instances[key] = cls(settings)
            return log

    def __init__(self, settings: KafkaSettings):
        self.settings = settings
        self.lock = threading.RLock()
        self.writer_lock = threading.Lock()
        self._cache: LocalCache | None = None
        self._consumer: Any = None
        self._producer: Any = None
        self._uncommitted: Any = None  # a read_uncommitted consumer: the high watermark
        self._next_offset = 0
        self.identity: tuple[str, str] | None = None
        self._checked_at: float | None = None  # when this process ran the full topic check
        self._local = threading.local()  # the current operation's deadline, per thread
        self.caught_up_at = 0.0
        self.writer = f"{getpass.getuser()}@{socket.gethostname()}:{os.getpid()}"
        self.may_create = True
        self._clusters: dict[str, Any] = {}  # each client's kafka-python ClusterMetadata, by role
        diagnosis.watch()

    # errors ---------------------------------------------------------------------------------

    def unavailable(self, what: str, error: BaseException | None = None) -> StoreUnavailable:
        detail = f": {type(error).__name__}: {error}" if error else ""
        refused = diagnosis.connection_problem(self.settings) if error is not None else ""
        if refused:  # kafka-python retried a refused login or handshake until its bound
            return StoreUnavailable(f"Kafka broker at {self.settings.address} refused {what}{refused}")
        if isinstance(error, _kafka().errors.KafkaTimeoutError):  # reachable, yet no answer
            detail = diagnosis.in_sync_shortfall(self.settings) or detail
        return StoreUnavailable(
            f"Kafka broker at {self.settings.address} did not answer {what} within "
            f"{self.settings.timeout:g}s{detail}")

    @contextlib.contextmanager
    def operation(self) -> Iterator[None]:
        """One time budget for a whole store operation; nested operations share the outer one."""
        if self._local.__dict__.get("deadline") is not None:
            yield
            return
        self._local.deadline = time.monotonic() + self.settings.call_timeout
        try:
            yield
        finally:
            self._local.deadline = None

    def remaining(self) -> float:
        deadline = self._local.__dict__.get("deadline")
        return self.settings.call_timeout if deadline is None else deadline - time.monotonic()

    def _call(self, what: str, fn, *args, **kwargs):
        if self.remaining() <= 0:
            raise self.unavailable(what)
        try:
            return fn(*args, **kwargs)
        except unreachable_errors() as e:
            raise self.unavailable(what, e) from None
        except _kafka().errors.KafkaError as e:
            refused = diagnosis.authorization_problem(self.settings, getattr(e, "errno", None),
                                                     diagnosis.resource_of(self.settings, e), what)
            if refused:
                raise OperationalError(refused) from None
            raise

    # topic ----------------------------------------------------------------------------------

    @property
    def cache(self) -> LocalCache:
        with self.lock:
            if self._cache is None:
                self._cache = self._open_cache(self.ensure_topic())
                if self._checked_at is not None:
                    self._cache.mark_topic_checked(self._checked_at)
            return self._cache

    def _open_cache(self, identity: tuple[str, str]) -> Any:
        """The local cache of this topic (a shard's log opens its share of the merged cache)."""
        return LocalCache(self._cache_path(*identity))

    def _topic_checked_at(self, identity: tuple[str, str]) -> float | None:
        return LocalCache.topic_checked_at(self._cache_path(*identity))

    def _cache_path(self, cluster_id: str, topic_id: str) -> Path:
        return Path(self.settings.cache_dir) / cluster_id / f"{self.settings.topic}-{topic_id}.{CACHE_FORMAT}.db"

    @property
    def views_path(self) -> Path:
        """The projections and the snapshots: beside the local cache, so keyed to the topic's id too."""
        return views_beside(self.cache.path)

    @property
    def source(self) -> str:
        """The CloudEvents `source`: the cluster, the topic, and the topic's id, so a topic
        deleted and created again under the same name is another source."""
        if self.settings.source:
            return self.settings.source
        cluster_id, topic_id = self.ensure_topic()
        return f"kafka://{cluster_id}/{self.settings.topic}/{topic_id}"

    def ensure_topic(self) -> tuple[str, str]:
        """Create the topic if missing; refuse one whose settings would lose events."""
        if self.identity:
            return self.identity
        with self.operation():
            self.identity = self._known_topic() or self._ensure_topic()
            return self.identity

    def _known_topic(self) -> tuple[str, str] | None:
        """The topic's identity without an admin round trip: the consumer's bootstrap metadata
        names the cluster and the topic's id, so a topic deleted and created again (a new id) or
        another cluster (another cluster id) leads to another cache, never marked checked. Only
        a cache whose topic passed the full check within TOPIC_CHECK_MAX_AGE is trusted."""
        self.consumer()  # bootstraps with the topic's metadata (_client_factory)
        cluster = self._clusters["consumer"]
        topic_id = cluster.topic_id(self.settings.topic)
        if not cluster.cluster_id or topic_id is None or cluster.partitions_for_topic(self.settings.topic) != {0}:
            return None  # missing, or not what the full check accepts: it says why
        identity = (cluster.cluster_id, str(topic_id))
        checked_at = self._topic_checked_at(identity)
        return identity if checked_at is not None and 0 <= time.time() - checked_at <= TOPIC_CHECK_MAX_AGE else None

    def _ensure_topic(self) -> tuple[str, str]:
        kafka = _kafka()
        from kafka.admin import ConfigResource, ConfigResourceType

        s = self.settings
        admin = self._call("an admin connection", kafka.KafkaAdminClient, **s.client_config())
        with contextlib.closing(admin):
            cluster_id = self._call("describe cluster", admin.describe_cluster)["cluster_id"]
            described = self._call("describe topics", admin.describe_topics, [s.topic])[0]
            if described["error_code"] == 3 and not self.may_create:  # UNKNOWN_TOPIC_OR_PARTITION
                raise NotFound(f"no topic {s.topic} at {s.address}: nothing has been recorded yet "
                               "(a write command creates it)")
            if described["error_code"] == 3:
                configs = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1",
                           "min.insync.replicas": str(s.min_insync_replicas),
                           "unclean.leader.election.enable": "false"}
                try:
                    self._call("create topic", admin.create_topics, {s.topic: {
                        "num_partitions": 1, "replication_factor": s.replication_factor, "configs": configs}})
                except kafka.errors.TopicAlreadyExistsError:
                    pass  # created concurrently by another process
                # a new topic takes a moment to reach the metadata every broker serves
                while (described := self._call("describe topics", admin.describe_topics, [s.topic])[0]
                       )["error_code"] == 3:
                    time.sleep(0.05)
            if described["error_code"]:
                raise OperationalError(
                    diagnosis.authorization_problem(s, described["error_code"], s.topic, "describe topics")
                    or f"Kafka topic {s.topic}: error code {described['error_code']}")
            resource = ConfigResource(ConfigResourceType.TOPIC, s.topic)
            configs = self._call("describe configs", admin.describe_configs, [resource],
                                 config_filter="all")["topic"][s.topic]
            problems = []
            if len(described["partitions"]) != 1:
                problems.append(f"it has {len(described['partitions'])} partitions (must be 1)")
            if "compact" in configs["cleanup.policy"]["value"]:
                problems.append(f"cleanup.policy={configs['cleanup.policy']['value']} (must be delete)")
            for key in ("retention.ms", "retention.bytes"):
                if configs[key]["value"] != "-1":
                    problems.append(f"{key}={configs[key]['value']} (must be -1: infinite)")
            if problems:
                raise UnsafeTopic(
                    f"refusing to use Kafka topic {s.topic} as an event store: {'; '.join(problems)}. "
                    f"Fix it with kafka-configs.sh --alter --entity-type topics --entity-name {s.topic} "
                    "--add-config retention.ms=-1,retention.bytes=-1,cleanup.policy=delete, or use a new topic")
        self._checked_at = time.time()
        return cluster_id, described["topic_id"]

    # reading --------------------------------------------------------------------------------

    def _partition(self):
        return _kafka().TopicPartition(self.settings.topic, 0)

    def _client_factory(self, role: str, topics: tuple[str, ...] | None = None):
        """kafka-python's network client, asking for the topic in its bootstrap metadata request: else
        the first end_offsets or send asks again, and kafka-python 3.0 spaces metadata requests by a
        fixed 100 ms (its ClusterMetadata is built without the client's retry_backoff_ms)."""
        from kafka.net.compat import KafkaNetClient

        def client(**config):
            if role != "producer":
                # kafka-python 3.0 retries a list offsets answered NOT_LEADER_OR_FOLLOWER on the leader it
                # has cached without asking for new metadata (the Java client's KAFKA-9535) and refreshes
                # it only every metadata_max_age_ms (5 min): after a rolling restart a process's consumers
                # asked a follower until each call timed out. Fresh within a quarter of a call's bound, a
                # call finds the new leader. (The producer's sender refreshes on NOT_LEADER itself.)
                config = {**config, "metadata_max_age_ms": int(max(self.settings.call_timeout / 4, 1.0) * 1000)}
            made = KafkaNetClient(**config)
            cluster = made.cluster
            # also built without the client's allow_auto_create_topics: never let a metadata
            # request create the topic with the broker's defaults (the full check creates it safe)
            cluster.config["allow_auto_create_topics"] = False
            # the set itself: add_topic() would start the metadata refresh loop, whose own
            # bootstrap has no deadline and would stand in for the client's bounded one
            cluster._topics.update((self.settings.topic,) if topics is None else topics)
            self._clusters[role] = cluster
            return made
        return client

    def consumer(self):
        if self._consumer is None:
            kafka = _kafka()
            self._consumer = self._call(
                "a consumer connection", kafka.KafkaConsumer, group_id=None, enable_auto_commit=False,
                isolation_level="read_committed", auto_offset_reset="earliest",
                fetch_max_wait_ms=100, kafka_client=self._client_factory("consumer"),
                **self.settings.client_config())
            self._consumer.assign([self._partition()])
        return self._consumer

    def catch_up(self, max_age: float = 0.0) -> None:
        """Copy every committed record after the local cache's position into it."""
        with self.lock, self.operation():
            if max_age and time.monotonic() - self.caught_up_at < max_age:
                return
            cache, consumer, tp = self.cache, self.consumer(), self._partition()
            end = self._call("list offsets", consumer.end_offsets, [tp])[tp]  # the LSO under read_committed
            start = cache.next_offset
            if start < end:
                consumer.seek(tp, start)
                while consumer.position(tp) < end:
                    if self.remaining() <= 0:
                        raise self.unavailable("catching up with the log")
                    batch = self._call("fetch", consumer.poll, timeout_ms=200, max_records=2000)
                    rows, foreign = decode_batch(batch.get(tp, []))
                    cache.store([row for _, row in rows], foreign, consumer.position(tp))
            self.caught_up_at = time.monotonic()

    # writing --------------------------------------------------------------------------------

    def _new_producer(self):
        kafka = _kafka()
        s = self.settings
        producer = self._call("a producer connection", kafka.KafkaProducer,
                              **s.producer_config(f"imagetrail-writer.{s.topic}"),  # shared by every writer: the fence
                              kafka_client=self._client_factory("producer"))
        try:
            self._call("init transactions", producer.init_transactions)
        except BaseException:
            producer.close(timeout=1)
            raise
        return producer

    def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            # Stop its sender thread first, sending nothing more (whatever it had pending, the log
            # decides): kafka-python's close() flushes before it stops the thread, and raises when a
            # batch cannot be delivered (its leader down), so the thread lived on, retried the batch
            # and bumped the producer's epoch, fencing this writer's next producer.
            sender = getattr(producer, "_sender", None)
            if sender is not None:
                error_of(sender.force_close)
            error_of(lambda: producer.close(timeout=1))  # a fenced or broken producer may fail to close

    def append(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Append one batch atomically, or raise IntegrityError when a (id, version) is taken."""
        kafka = _kafka()
        batch_id = str(uuid.uuid4())
        with self.writer_lock, self.operation():
            for attempt in range(WRITER_ATTEMPTS):
                try:
                    fresh = self._producer is None
                    if fresh:
                        # The init fences every other writer and settles their open transactions,
                        # so the catch-up below sees all that committed before it. The producer
                        # stays ours until another writer inits, and then our commit fails: a
                        # commit that succeeds had no other commit between our init and it.
                        self._producer = self._new_producer()
                    self.catch_up()
                    if not self._check_quiescent(wait=fresh):
                        # a transaction is open, so another writer inited after our producer: ours is
                        # fenced already, and a new init settles that transaction (a writer that died
                        # mid-commit would otherwise hold the log until its transaction times out)
                        self._drop_producer()
                        continue
                    self._check_versions(stored_events)
                    positions = self._send(stored_events, batch_id)
                    self._await_readable(max(positions))
                    return positions
                except kafka.errors.KafkaError as e:
                    if not fenced(e):
                        self._drop_producer()
                        raise
                    self._drop_producer()  # a fenced producer is dead: the next attempt inits anew
                    time.sleep(0.05 * (attempt + 1) + 0.05 * (os.getpid() % 7) / 7)
                except IntegrityError:
                    raise  # checked before the transaction began: the producer is still good
                except OutcomeUnknown:
                    # Never resend blindly: a new writer's init completes or aborts the old
                    # transaction, and then the log says whether the batch is in it. The
                    # lookup gets a budget of its own, so the whole append stays within the bound.
                    self._drop_producer()
                    self._local.deadline = time.monotonic() + self.settings.call_timeout
                    try:
                        self._producer = self._new_producer()
                        self.catch_up()
                    except StoreUnavailable:
                        raise StoreUnavailable(
                            f"Kafka broker at {self.settings.address} did not confirm the commit within "
                            f"{self.settings.timeout:g}s, and the log could not be checked: the command may "
                            "or may not be recorded; look (imagetrail get …) before retrying") from None
                    positions = self.cache.batch_positions(batch_id)
                    if positions:
                        self.caught_up_at = 0.0
                        return positions
                except BaseException:
                    self._drop_producer()  # in an unknown state: never reuse it
                    raise
            raise StoreBusy(f"Kafka topic {self.settings.topic}: other writers kept fencing this one; "
                            "nothing was written, retry the command")

    def _await_readable(self, position: int) -> None:
        """A commit returns before its markers land; acknowledge only once read_committed
        readers (in any process) can see the batch."""
        tp = self._partition()
        while self._call("list offsets", self.consumer().end_offsets, [tp])[tp] < position:
            time.sleep(0.005)
        self.caught_up_at = 0.0  # our own batch is not in the local cache yet

    def _check_quiescent(self, wait: bool = True) -> bool:
        """After our init every imagetrail transaction is settled, so the last stable offset
        must reach the high watermark. If it does not, a producer outside the protocol holds
        a transaction open: our batch would be stuck behind it, unreadable. Without `wait`
        (our producer is not fresh from its init), an open transaction returns False at once."""
        tp = self._partition()
        if self._uncommitted is None:
            self._uncommitted = self._call(
                "a consumer connection", _kafka().KafkaConsumer, group_id=None, enable_auto_commit=False,
                isolation_level="read_uncommitted", kafka_client=self._client_factory("uncommitted"),
                **self.settings.client_config())
        while True:
            stable = self._call("list offsets", self.consumer().end_offsets, [tp])[tp]
            high = self._call("list offsets", self._uncommitted.end_offsets, [tp])[tp]
            if stable >= high:
                self._next_offset = high  # our batch will start here: nobody else can write now
                return True
            if not wait:
                return False
            if self.remaining() <= 0.2:  # stop while there is budget left to say why
                raise OperationalError(
                    f"Kafka topic {self.settings.topic} has a transaction left open by another producer "
                    f"(last stable offset {stable} < high watermark {high}); nothing was written. Find and "
                    "abort it with kafka-transactions.sh find-hanging / abort")
            time.sleep(0.05)

    def _check_versions(self, stored_events: Sequence[StoredEvent]) -> None:
        pairs = [(str(e.originator_id), e.originator_version) for e in stored_events]
        if len(set(pairs)) != len(pairs):
            raise VersionConflict("the batch repeats an (aggregate, version) pair")
        taken = self.cache.taken(pairs)
        if taken:
            originator_id, version = taken[0]
            raise VersionConflict(f"version conflict: aggregate {originator_id} version {version} already "
                                  f"exists in Kafka topic {self.settings.topic}")

    def _send(self, stored_events: Sequence[StoredEvent], batch_id: str) -> list[int]:
        producer = self._producer
        producer.begin_transaction()
        futures = []
        now = datetime.now(timezone.utc)
        previous = self.cache.last_link()
        for index, event in enumerate(stored_events):
            # as the only writer, with LSO == HW, our records take the next offsets in order
            content = chain.content_hash(event.originator_id, event.originator_version, event.topic, event.state)
            previous = chain.link(previous, content, self._next_offset + index + 1)
            headers = record_headers(event, self._next_offset + index + 1, batch_id, index, len(stored_events), now,
                                     source=self.source, writer=self.writer)
            headers += [(HEADER_PREFIX + "content", content.encode()), (HEADER_PREFIX + "chain", previous.encode())]
            futures.append(producer.send(self.settings.topic, partition=0, key=str(event.originator_id).encode(),
                                         value=event.state, headers=headers))
        # kafka-python's commit has no timeout of its own: bound it from a helper thread
        outcome: list[BaseException | None] = []
        worker = threading.Thread(target=lambda: outcome.append(error_of(producer.commit_transaction)), daemon=True)
        worker.start()
        worker.join(max(self.remaining(), self.settings.call_timeout / 4))
        if not outcome:
            raise OutcomeUnknown()
        if outcome[0] is not None:
            error = outcome[0]
            if fenced(error):
                raise error
            if definitive(error):
                error_of(producer.abort_transaction)
                raise OperationalError(f"Kafka rejected the write: {type(error).__name__}: {error}")
            # a timeout, a retriable error or the broker's UNKNOWN_SERVER_ERROR (seen under six
            # writers fencing each other): the commit may have happened, so the log decides
            raise OutcomeUnknown()
        return [f.get(timeout=max(self.remaining(), 1.0)).offset + 1 for f in futures]

    def chained_records(self) -> Iterator[chain.ChainedRecord]:
        """Every committed record of the topic itself (not the local cache), for `verify`."""
        kafka = _kafka()
        consumer = self._call("a consumer connection", kafka.KafkaConsumer, group_id=None,
                              enable_auto_commit=False, isolation_level="read_committed", **self.settings.client_config())
        try:
            tp = self._partition()
            consumer.assign([tp])
            consumer.seek_to_beginning(tp)
            end = self._call("list offsets", consumer.end_offsets, [tp])[tp]
            while consumer.position(tp) < end:
                for record in consumer.poll(timeout_ms=500, max_records=2000).get(tp, []):
                    row = decode_record(record)
                    if isinstance(row, str):
                        yield chain.ChainedRecord(record.offset + 1, None, None, None, None, None, None)
                    else:
                        position, originator_id, version, topic, state, _, content, link = row
                        yield chain.ChainedRecord(position, originator_id, version, topic, state, content, link)
        finally:
            consumer.close()

    def close(self) -> None:
        with self.lock:
            self._drop_producer()
            for consumer in (self._consumer, self._uncommitted):
                if consumer is not None:
                    error_of(consumer.close)
            self._consumer = self._uncommitted = None

