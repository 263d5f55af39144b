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


TYPE_PREFIX = "dev.imagetrail."


def cloudevent_type(topic: str) -> str:
    """An event's CloudEvents type, from its stored topic:
    'imagetrail.engine.domain.imagestream:ImageStream.TagMoved' → 'dev.imagetrail.ImageStream.TagMoved'.
    The module is left out, so a type survives the class moving (old topics keep resolving)."""
    return TYPE_PREFIX + topic.split(":", 1)[-1] if topic.startswith("imagetrail.") else topic


def event_type(cls: type) -> str:
    """The CloudEvents type of an event class: the same as its Kafka records' ce_type header."""
    return cloudevent_type(f"{cls.__module__}:{cls.__qualname__}")


def cloudevent(position: int, event: Any, source: str) -> dict[str, Any]:
    """An event at `position` of the store `source`, as a CloudEvents 1.0 structured JSON object."""
    data = event.model_dump(mode="json")
    return {
        "specversion": "1.0", "id": cloudevent_id(event.originator_id, event.originator_version),
        "source": source, "type": event_type(type(event)), "time": data["timestamp"],
        "subject": str(event.originator_id), "datacontenttype": "application/json",
        "sequence": cloudevent_sequence(position), "data": data,
    }
