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
from imagetrail.engine.adapters.kafka.cache import CACHE_FORMAT, LocalCache
from imagetrail.engine.adapters.kafka.records import HEADER_PREFIX, decode_record, record_headers
from imagetrail.engine.adapters.kafka.settings import KafkaSettings
from imagetrail.engine.adapters.sqlite import views_beside
from imagetrail.engine.domain.errors import NotFound

WRITER_ATTEMPTS = 6


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
        self._local = threading.local()  # the current operation's deadline, per thread
        self.caught_up_at = 0.0
        self.writer = f"{getpass.getuser()}@{socket.gethostname()}:{os.getpid()}"
        self.may_create = True
        diagnosis.watch()

    # errors ---------------------------------------------------------------------------------

    def unavailable(self, what: str, error: BaseException | None = None) -> StoreUnavailable:
        detail = f": {type(error).__name__}: {error}" if error else ""
        if isinstance(error, _kafka().errors.KafkaTimeoutError):  # refused, or reachable yet no answer
            refused = diagnosis.connection_problem(self.settings)
            if refused:
                return StoreUnavailable(f"Kafka broker at {self.settings.address} refused {what}{refused}")
            detail = self._in_sync_shortfall() or detail
        return StoreUnavailable(
            f"Kafka broker at {self.settings.address} did not answer {what} within "
            f"{self.settings.timeout:g}s{detail}")

    def _in_sync_shortfall(self) -> str:
        """Why a cluster that answers metadata still did not take a write: a partition of the topic
        or of the transaction log with fewer replicas in sync than min.insync.replicas. Asked only
        after a timeout, with a short bound of its own; empty when it cannot tell."""
        try:
            admin = _kafka().KafkaAdminClient(**{**self.settings.client_config(), "request_timeout_ms": 1500,
                                                 "bootstrap_timeout_ms": 1500})
            try:
                described = admin.describe_topics([self.settings.topic, "__transaction_state"])
            finally:
                admin.close()
        except Exception:  # the diagnosis is a courtesy: without it the plain timeout is reported
            return ""
        need = max(self.settings.min_insync_replicas, 2)
        short = [f"{t['name']}-{p['partition_index']} has {len(p['isr_nodes'])} of {len(p['replica_nodes'])}"
                 for t in described for p in t.get("partitions", [])
                 if len(p["replica_nodes"]) >= need > len(p["isr_nodes"])]
        if not short:
            return ""
        return (f": too few replicas in sync for min.insync.replicas ({', '.join(short[:3])} in sync); "
                f"writes resume when the brokers are back")

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
        except _unreachable_errors() as e:
            raise self.unavailable(what, e) from None
        except _kafka().errors.KafkaError as e:
            refused = diagnosis.authorization_problem(self.settings, getattr(e, "errno", None), self._resource_of(e), what)
            if refused:
                raise OperationalError(refused) from None
            raise

    def _resource_of(self, error: BaseException) -> str:
        name = type(error).__name__
        if name.startswith("TransactionalId"):
            return f"imagetrail-writer.{self.settings.topic}"
        if name.startswith("Group"):
            return "(its consumer group)"
        return "" if name.startswith("Cluster") else self.settings.topic

    # topic ----------------------------------------------------------------------------------

    @property
    def cache(self) -> LocalCache:
        with self.lock:
            if self._cache is None:
                cluster_id, topic_id = self.ensure_topic()
                path = Path(self.settings.cache_dir) / cluster_id / f"{self.settings.topic}-{topic_id}.{CACHE_FORMAT}.db"
                self._cache = LocalCache(path)
            return self._cache

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
            return self._ensure_topic()

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
        self.identity = (cluster_id, described["topic_id"])
        return self.identity

    # reading --------------------------------------------------------------------------------

    def _partition(self):
        return _kafka().TopicPartition(self.settings.topic, 0)

    def consumer(self):
        if self._consumer is None:
            kafka = _kafka()
            self._consumer = self._call(
                "a consumer connection", kafka.KafkaConsumer, group_id=None, enable_auto_commit=False,
                isolation_level="read_committed", auto_offset_reset="earliest",
                fetch_max_wait_ms=100, **self.settings.client_config())
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
                    rows, foreign = [], []
                    for record in batch.get(tp, []):
                        row = decode_record(record)
                        if isinstance(row, str):
                            foreign.append((record.offset + 1, row))
                        else:
                            rows.append(row)
                    cache.store(rows, foreign, consumer.position(tp))
            self.caught_up_at = time.monotonic()

    # writing --------------------------------------------------------------------------------

    def _new_producer(self):
        kafka = _kafka()
        s = self.settings
        producer = self._call("a producer connection", kafka.KafkaProducer,
                              **s.producer_config(f"imagetrail-writer.{s.topic}"))  # shared by every writer: the fence
        try:
            self._call("init transactions", producer.init_transactions)
        except BaseException:
            producer.close(timeout=1)
            raise
        return producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # a fenced or broken producer may fail to close cleanly
                pass
            self._producer = None

    def append(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Append one batch atomically, or raise IntegrityError when a (id, version) is taken."""
        kafka = _kafka()
        batch_id = str(uuid.uuid4())
        with self.writer_lock, self.operation():
            for attempt in range(WRITER_ATTEMPTS):
                try:
                    if self._producer is None:
                        # The init fences every other writer and settles their open transactions,
                        # so the catch-up below sees all that committed before it. The producer
                        # stays ours until another writer inits, and then our commit fails: a
                        # commit that succeeds had no other commit between our init and it.
                        self._producer = self._new_producer()
                    self.catch_up()
                    self._check_quiescent()
                    self._check_versions(stored_events)
                    positions = self._send(stored_events, batch_id)
                    self._await_readable(max(positions))
                    return positions
                except kafka.errors.KafkaError as e:
                    if not _fenced(e):
                        self._drop_producer()
                        raise
                    self._drop_producer()  # a fenced producer is dead: the next attempt inits anew
                    time.sleep(0.05 * (attempt + 1) + 0.05 * (os.getpid() % 7) / 7)
                except IntegrityError:
                    raise  # checked before the transaction began: the producer is still good
                except _OutcomeUnknown:
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

    def _check_quiescent(self) -> None:
        """After our init every imagetrail transaction is settled, so the last stable offset
        must reach the high watermark. If it does not, a producer outside the protocol holds
        a transaction open: our batch would be stuck behind it, unreadable."""
        tp = self._partition()
        if self._uncommitted is None:
            self._uncommitted = self._call(
                "a consumer connection", _kafka().KafkaConsumer, group_id=None, enable_auto_commit=False,
                isolation_level="read_uncommitted", **self.settings.client_config())
        while True:
            stable = self._call("list offsets", self.consumer().end_offsets, [tp])[tp]
            high = self._call("list offsets", self._uncommitted.end_offsets, [tp])[tp]
            if stable >= high:
                self._next_offset = high  # our batch will start here: nobody else can write now
                return
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
        worker = threading.Thread(target=lambda: outcome.append(_try(producer.commit_transaction)), daemon=True)
        worker.start()
        worker.join(max(self.remaining(), self.settings.call_timeout / 4))
        if not outcome:
            raise _OutcomeUnknown()
        if outcome[0] is not None:
            error = outcome[0]
            if _fenced(error):
                raise error
            if _definitive(error):
                _try(producer.abort_transaction)
                raise OperationalError(f"Kafka rejected the write: {type(error).__name__}: {error}")
            # a timeout, a retriable error or the broker's UNKNOWN_SERVER_ERROR (seen under six
            # writers fencing each other): the commit may have happened, so the log decides
            raise _OutcomeUnknown()
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
                    _try(consumer.close)
            self._consumer = self._uncommitted = None


def _fenced(error: BaseException) -> bool:
    """Fenced by another writer: directly, or as the error state kafka-python reports afterwards."""
    errors = _kafka().errors
    return isinstance(error, (errors.ProducerFencedError, errors.InvalidProducerEpochError)) or (
        isinstance(error, errors.KafkaError) and ("ProducerFenced" in str(error) or "InvalidProducerEpoch" in str(error)))


def _definitive(error: BaseException) -> bool:
    """A commit error that says the transaction did not commit (authorization, invalid state, …)."""
    errors = _kafka().errors
    return (isinstance(error, errors.KafkaError) and not isinstance(error, errors.KafkaTimeoutError)
            and not getattr(error, "retriable", False)
            and not isinstance(error, errors.UnknownError) and "UnknownError" not in str(error))


def _unreachable_errors() -> tuple[type[BaseException], ...]:
    errors = _kafka().errors
    names = ("KafkaTimeoutError", "NoBrokersAvailable", "KafkaConnectionError", "RequestTimedOutError",
             "BrokerNotAvailableError", "NodeNotReadyError")
    return tuple(getattr(errors, n) for n in names if hasattr(errors, n))


class _OutcomeUnknown(Exception):
    """The commit did not answer in time: it may or may not have happened."""


def _try(fn) -> BaseException | None:
    try:
        fn()
    except BaseException as e:  # reported to the caller, which decides
        return e
    return None
