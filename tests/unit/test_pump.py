"""The one loop that pulls the log (projections/pump.py)."""

from types import SimpleNamespace

import pytest

from imagetrail.projections.pump import pump


class Log:
    def __init__(self, size: int, bad: int | None = None):
        self.size, self.bad, self.reads = size, bad, []
        self.recorder, self.mapper = self, self

    def select_notifications(self, start, limit, inclusive_of_start):
        assert not inclusive_of_start
        self.reads.append(start)
        return [SimpleNamespace(id=i) for i in range(start + 1, min(start + limit, self.size) + 1)]

    def to_domain_event(self, notification):
        if notification.id == self.bad:
            raise ValueError("undecodable")
        return f"event {notification.id}"


def test_pages_after_a_position_to_the_end_of_the_log():
    log = Log(5)
    pages = [list(page) for page in pump(log, 1, limit=2)]
    assert pages == [[(2, "event 2"), (3, "event 3")], [(4, "event 4"), (5, "event 5")]]
    assert log.reads == [1, 3, 5]


def test_a_position_function_is_asked_before_each_page_and_until_stops_early():
    log, done = Log(10), [0]
    for page in pump(log, lambda: done[0], limit=2, until=6):
        done[0] = max(position for position, _ in page) + 2  # another reader went further
    assert log.reads == [0, 4] and done[0] == 8


def test_events_before_an_undecodable_one_are_handled():
    handled = []
    with pytest.raises(ValueError):
        for page in pump(Log(5, bad=3), 0):
            for position, _ in page:
                handled.append(position)
    assert handled == [1, 2]


def test_follow_waits_for_more_until_told_to_stop():
    log, polls = Log(2), []
    seen = [p for page in pump(log, 0, follow=True, poll=0, should_stop=lambda: polls.append(1) or len(polls) > 3)
            for p, _ in page]
    assert seen == [1, 2] and log.reads == [0, 2, 2]
