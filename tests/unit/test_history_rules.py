"""§5 history update rules (AddTagEventToImageStream), on the pure domain model."""

from datetime import datetime, timedelta, timezone

from imagetrail.engine.domain.model import TagEvent, TagEventCondition, TagHistory

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def event(ref: str, image: str, generation: int = 1, minutes: int = 0) -> TagEvent:
    return TagEvent(created=T0 + timedelta(minutes=minutes), docker_image_reference=ref, image=image,
                    generation=generation)


def heads(history: TagHistory) -> list[tuple[str, str, int]]:
    return [(i.docker_image_reference, i.image, i.generation) for i in history.items]


def test_rule_5_1_first_event_starts_the_history():
    h = TagHistory()
    h.add(event("r@a", "a"))
    assert heads(h) == [("r@a", "a", 1)]


def test_rule_5_2_identical_event_changes_nothing():
    h = TagHistory()
    h.add(event("r@a", "a"))
    assert not h.would_change(event("r@a", "a", minutes=5))
    h.add(event("r@a", "a", minutes=5))
    assert heads(h) == [("r@a", "a", 1)] and h.items[0].created == T0


def test_rule_5_3_same_ref_and_image_collapses_to_a_generation_bump():
    h = TagHistory()
    h.add(event("r@a", "a"))
    h.add(event("r@a", "a", generation=7, minutes=5))
    assert heads(h) == [("r@a", "a", 7)] and h.items[0].created == T0


def test_rule_5_4_same_ref_or_same_image_overwrites_in_place():
    h = TagHistory()
    h.add(event("r:latest", "a"))
    h.add(event("r:latest", "b", generation=2))
    assert heads(h) == [("r:latest", "b", 2)]
    h.add(event("mirror@b", "b", generation=3))
    assert heads(h) == [("mirror@b", "b", 3)]


def test_rule_5_5_different_ref_and_image_prepends_and_duplicates_are_allowed():
    h = TagHistory()
    for image in "aba":
        h.add(event(f"r@{image}", image))
    assert [i.image for i in h.items] == ["a", "b", "a"]


def test_rule_5_6_any_change_clears_conditions():
    h = TagHistory()
    h.add(event("r@a", "a"))
    h.conditions = [TagEventCondition(last_transition_time=T0, reason="NotFound", message="x", generation=2)]
    h.add(event("r@b", "b", generation=3))
    assert h.conditions == []
