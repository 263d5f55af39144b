"""Stores pydantic events as JSON: the wire form event consumers read.

Event types are versioned: a class with `class_version: ClassVar[int] = N` (N > 1)
stores "class_version": N, and old events are brought up to date on reading by its
static `upcast_v1_v2(state)`, `upcast_v2_v3(state)`, … methods, as eventsourcing does.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, register_topic, resolve_topic
from pydantic import BaseModel

from imagetrail.engine.domain import aggregate, deployment, imagestream, watchers

# Stored events and snapshots name their classes by module path. The domain moved into
# engine/domain; logs written before that keep resolving through the old module names.
for _module in (aggregate, deployment, imagestream, watchers):
    register_topic(_module.__name__.replace(".domain.", "."), _module)


class PydanticMapper(Mapper):
    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        assert isinstance(domain_event, BaseModel)
        data = domain_event.model_dump(mode="json")
        if not data.get("observed"):  # only a change seen on a cluster carries it: others stay as before
            data.pop("observed", None)
        version = getattr(type(domain_event), "class_version", 1)
        if version > 1:
            data["class_version"] = version
        state = self.transcoder.encode(data)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        cls = resolve_topic(stored_event.topic)
        data = self.transcoder.decode(state)
        version, current = data.pop("class_version", 1), getattr(cls, "class_version", 1)
        while version < current:
            getattr(cls, f"upcast_v{version}_v{version + 1}")(data)
            version += 1
        if "observed" in getattr(cls, "model_fields", {}):
            data.setdefault("observed", "")  # absent: not observed (never the reading command's context)
        return cls.model_validate(data)
