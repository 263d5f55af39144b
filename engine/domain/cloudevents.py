"""How imagetrail events are named as CloudEvents, in `events tail` and in Kafka headers alike."""

from __future__ import annotations

from typing import Any

# Wide enough for any int64 position. The Sequence extension orders `sequence` values as
# plain strings (github.com/cloudevents/spec, cloudevents/extensions/sequence.md): unpadded,
# "10" would sort before "9".
SEQUENCE_WIDTH = 20


def cloudevent_sequence(position: int) -> str:
    return f"{position:0{SEQUENCE_WIDTH}d}"


def cloudevent_id(originator_id: Any, originator_version: int) -> str:
    """Unique within one store only: aggregate ids are deterministic per kind/namespace/name,
    so it is `source` (the store's identity) + `id` that names one event everywhere."""
    return f"{originator_id}/{originator_version}"
