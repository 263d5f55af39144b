"""The Kafka record format: CloudEvents headers for consumers, imagetrail headers to read a record back."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from eventsourcing.persistence import StoredEvent

from imagetrail.engine.domain.cloudevents import cloudevent_id, cloudevent_sequence, cloudevent_type

HEADER_PREFIX = "imagetrail_"


def record_headers(event: StoredEvent, position: int, batch_id: str, index: int, size: int, now: datetime, *,
                   source: str, writer: str) -> list[tuple[str, bytes]]:
    timestamp = event_time(event.state) or now
    return [
        # CloudEvents 1.0 Kafka protocol binding (binary mode)
        ("ce_specversion", b"1.0"),
        ("ce_id", cloudevent_id(event.originator_id, event.originator_version).encode()),
        ("ce_type", cloudevent_type(event.topic).encode()),
        ("ce_source", source.encode()),
        ("ce_sequence", cloudevent_sequence(position).encode()),  # the Sequence extension
        ("ce_time", timestamp.astimezone(timezone.utc).isoformat().replace("+00:00", "Z").encode()),
        ("ce_subject", str(event.originator_id).encode()),
        ("content-type", b"application/json"),
        # what the recorder needs to read the record back
        (HEADER_PREFIX + "topic", event.topic.encode()),
        (HEADER_PREFIX + "originator_version", str(event.originator_version).encode()),
        (HEADER_PREFIX + "batch_id", batch_id.encode()),
        (HEADER_PREFIX + "batch_index", str(index).encode()),
        (HEADER_PREFIX + "batch_size", str(size).encode()),
        (HEADER_PREFIX + "writer", writer.encode()),
    ]


def event_time(state: bytes) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(state)["timestamp"])
    except (ValueError, KeyError, TypeError):
        return None


def decode_record(record: Any) -> tuple | str:
    """A record as a row of the local cache, or why it is not one of ours."""
    headers = {k: v for k, v in (record.headers or [])}
    try:
        topic = headers[HEADER_PREFIX + "topic"].decode()
        version = int(headers[HEADER_PREFIX + "originator_version"])
        batch_id = headers[HEADER_PREFIX + "batch_id"].decode()
        originator_id = record.key.decode()
    except (KeyError, ValueError, AttributeError, UnicodeDecodeError):
        return "not written by imagetrail (missing or invalid imagetrail headers)"
    if record.value is None:
        return "tombstone (no value)"
    content, link = headers.get(HEADER_PREFIX + "content"), headers.get(HEADER_PREFIX + "chain")
    return (record.offset + 1, originator_id, version, topic, record.value, batch_id,
            content.decode() if content else None, link.decode() if link else None)


def decode_batch(records: list[Any]) -> tuple[list[tuple[Any, tuple]], list[tuple[int, str]]]:
    """A fetched batch as (record, row) pairs for the cache, and (position, reason) for the
    records that are not imagetrail's."""
    rows, foreign = [], []
    for record in records:
        row = decode_record(record)
        if isinstance(row, str):
            foreign.append((record.offset + 1, row))
        else:
            rows.append((record, row))
    return rows, foreign
