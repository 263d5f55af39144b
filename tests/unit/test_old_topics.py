"""Logs written before the domain moved into engine/domain still read."""

from uuid import uuid4

from eventsourcing.persistence import JSONTranscoder, StoredEvent

from imagetrail.engine.adapters.mapper import PydanticMapper
from imagetrail.engine.domain.imagestream import ImageStream


def test_an_event_stored_under_the_old_module_path_reads_as_todays_class():
    mapper = PydanticMapper(transcoder=JSONTranscoder())
    event = ImageStream.LookupPolicySet(originator_id=uuid4(), originator_version=2,
                                        timestamp="2026-01-01T00:00:00+00:00", local=True, generation=3)
    stored = mapper.to_stored_event(event)
    assert stored.topic == "imagetrail.engine.domain.imagestream:ImageStream.LookupPolicySet"
    old = StoredEvent(stored.originator_id, stored.originator_version,
                      "imagetrail.engine.imagestream:ImageStream.LookupPolicySet", stored.state)
    assert mapper.to_domain_event(old) == event
