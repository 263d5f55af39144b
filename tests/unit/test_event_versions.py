"""Event types are versioned: an event stored by an older model still reads (upcasting)."""

import json
from datetime import datetime, timezone
from typing import ClassVar
from uuid import uuid4

from eventsourcing.persistence import JSONTranscoder, StoredEvent
from eventsourcing.utils import get_topic

from imagetrail.engine.domain.aggregate import Aggregate
from imagetrail.engine.adapters.mapper import PydanticMapper


class Moved(Aggregate.Event):
    """Version 3 of an event whose first version had only `tag`: v2 added `change`, v3 renamed `tag`."""

    class_version: ClassVar[int] = 3
    name: str
    change: str

    @staticmethod
    def upcast_v1_v2(state: dict) -> None:
        state["change"] = "import"  # what every v1 event was

    @staticmethod
    def upcast_v2_v3(state: dict) -> None:
        state["name"] = state.pop("tag")


def mapper() -> PydanticMapper:
    return PydanticMapper(transcoder=JSONTranscoder())


def stored_v1() -> StoredEvent:
    originator = uuid4()
    state = {"originator_id": str(originator), "originator_version": 2,
             "timestamp": datetime(2026, 1, 1, tzinfo=timezone.utc).isoformat(), "actor": "alice",
             "correlation_id": "c1", "reason": "", "command": "", "tag": "20"}
    return StoredEvent(originator, 2, get_topic(Moved), json.dumps(state).encode())


def test_an_old_event_reads_with_the_current_model():
    event = mapper().to_domain_event(stored_v1())
    assert isinstance(event, Moved)
    assert (event.name, event.change, event.actor) == ("20", "import", "alice")


def test_a_new_event_records_its_version_and_round_trips():
    event = mapper().to_domain_event(stored_v1())
    stored = mapper().to_stored_event(event)
    assert json.loads(stored.state)["class_version"] == 3
    assert mapper().to_domain_event(stored) == event
