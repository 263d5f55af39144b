"""describe (over API dicts) and the aggregate (over its state) follow aliases and read the
observed generation by the same domain functions, so they cannot drift apart."""

from datetime import datetime, timezone

import pytest

from imagetrail.cli.describe import _latest_observed_tag_generation, follow_tag_reference
from imagetrail.engine.domain.errors import Conflict
from imagetrail.engine.domain.imagestream import ImageStreamState
from imagetrail.engine.domain.model import (ObjectReference, TagEvent, TagEventCondition, TagHistory, TagReference)
from imagetrail.projections.documents import imagestream

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=timezone.utc)


def alias(name: str, source: str, namespace: str = "") -> TagReference:
    return TagReference(name=name, source=ObjectReference(kind="ImageStreamTag", name=source, namespace=namespace))


def state() -> ImageStreamState:
    spec = [TagReference(name="1", source=ObjectReference(kind="DockerImage", name="quay.io/a/b:1"), generation=2),
            alias("one", "web:1"), alias("uno", "one"), alias("loop", "web:pool"), alias("pool", "loop"),
            alias("far", "other:1"), alias("prod", "1", namespace="prod"), alias("gone", "missing")]
    history = TagHistory(items=[TagEvent(created=NOW, docker_image_reference="quay.io/a/b@sha256:" + "a" * 64,
                                         image="sha256:" + "a" * 64, generation=1)],
                         conditions=[TagEventCondition(last_transition_time=NOW, generation=3)])
    return ImageStreamState(namespace="demo", name="web", created=NOW, repository="r/demo/web",
                            spec_tags={t.name: t for t in spec}, status_tags={"1": history})


@pytest.mark.parametrize("tag", ["1", "one", "uno", "gone"])
def test_an_alias_chain_is_the_same_from_the_state_and_from_its_document(tag):
    final, chain, error = follow_tag_reference(imagestream(state()), tag)
    assert state().follow_tag_reference(tag) == ((final, chain) if error is None else (chain[-1], chain))


@pytest.mark.parametrize("tag, words", [("loop", "a reference to same tag"), ("far", "another ImageStream"),
                                        ("prod", "another ImageStream")])
def test_cycles_and_other_streams_are_errors_on_both_sides(tag, words):
    assert follow_tag_reference(imagestream(state()), tag)[2] is not None
    with pytest.raises(Conflict, match=words):
        state().follow_tag_reference(tag)


def test_observed_generation_is_the_same_from_the_state_and_from_its_document():
    assert state().observed_generation("1") == _latest_observed_tag_generation(imagestream(state()), "1") == 3
    assert state().observed_generation("one") == _latest_observed_tag_generation(imagestream(state()), "one") == 0
