"""Tamper evidence: a SHA-256 hash chain over the stored events.

Each event's link = SHA-256(previous link, the event's content hash, its position), so
changing, removing or inserting a record anywhere breaks every link after it. The
recorders write the links (SQLite: a side table in the same transaction; Kafka: record
headers); `verify` walks the log and says where and why the chain breaks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

GENESIS = "0" * 64


def canonical_id(originator_id: UUID | str) -> str:
    try:
        return str(UUID(str(originator_id)))
    except ValueError:
        return str(originator_id)


def content_hash(originator_id: UUID | str, version: int, topic: str, state: bytes) -> str:
    head = f"{canonical_id(originator_id)}\n{version}\n{topic}\n".encode()
    return hashlib.sha256(head + state).hexdigest()


def link(previous: str, content: str, position: int) -> str:
    return hashlib.sha256(f"{previous}:{content}:{position}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainedRecord:
    position: int
    originator_id: str | None  # None: not an imagetrail event at all
    version: int | None
    topic: str | None
    state: bytes | None
    content: str | None        # as stored
    link: str | None           # as stored


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    head: str
    position: int | None = None
    problem: str = ""


def verify(records: Iterable[ChainedRecord]) -> Verdict:
    previous, count = GENESIS, 0
    for r in records:
        if r.originator_id is None or r.link is None or r.content is None:
            return Verdict(False, count, previous, r.position,
                           "foreign record: not written by imagetrail (it has no chain link)")
        actual = content_hash(r.originator_id, r.version, r.topic, r.state)
        if actual != r.content:
            return Verdict(False, count, previous, r.position,
                           "changed record: its content no longer matches the hash written with it")
        if link(previous, r.content, r.position) != r.link:
            return Verdict(False, count, previous, r.position,
                           "broken chain: a record before this one was removed, inserted or reordered")
        previous, count = r.link, count + 1
    return Verdict(True, count, previous)
