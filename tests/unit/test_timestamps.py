"""One formatter of times (parsing.timestamp): RFC 3339, UTC, Z; to the second or the microsecond."""

from datetime import datetime, timedelta, timezone

from imagetrail.engine.domain.parsing import timestamp

CEST = timezone(timedelta(hours=2))


def test_audit_times_keep_microseconds_at_a_fixed_width_so_they_sort_as_text():
    assert timestamp(datetime(2026, 11, 24, 16, 0, 0, tzinfo=CEST)) == "2026-11-24T14:00:00.000000Z"
    assert timestamp(datetime(2026, 11, 24, 14, 0, 0, 5, tzinfo=timezone.utc)) == "2026-11-24T14:00:00.000005Z"


def test_api_times_are_to_the_second_with_four_digit_years():
    assert timestamp(datetime(2026, 11, 24, 16, 0, 0, 999999, tzinfo=CEST), seconds=True) == "2026-11-24T14:00:00Z"
    # RFC 3339's year is four digits (strftime's %Y is not, for early years)
    assert timestamp(datetime(999, 1, 2, tzinfo=timezone.utc), seconds=True) == "0999-01-02T00:00:00Z"
