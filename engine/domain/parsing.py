"""The one parser for numbers, durations and times that users type (flags, env vars).

Python's int()/float() accept what no Go tool would ("²"? no, but "٣", "1_000", " 5", "inf",
"nan") and fail with OverflowError far from the input on huge values. Everything here takes
ASCII digits `[0-9]` only and is bounded, and fails with a UsageError that names the flag.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.references import one_line, quote

INT64_MAX = 2**63 - 1  # SQLite INTEGER, Go int64
INT32_MAX = 2**31 - 1  # Kubernetes int32 fields (replicas, revisions)
# Go's time.Duration is int64 nanoseconds: nothing longer exists on the server side
MAX_DURATION = timedelta(microseconds=INT64_MAX // 1000)

_DIGITS = re.compile(r"[0-9]{1,30}")  # re's \d would take any Unicode digit
_DECIMAL = re.compile(r"[0-9]{1,30}(?:\.[0-9]{1,30})?")
_AGE = re.compile(r"([0-9]{1,30})([smhdw])")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_GO_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ValueRejected(UsageError):
    """A typed value broke its rule; `value` and `rule` let click phrase it its own way."""

    def __init__(self, what: str, value: str, rule: str):
        super().__init__(f"invalid {what} {quote(value)}: {rule}")
        self.value, self.rule = value, rule


def _invalid(what: str, value: str, rule: str) -> ValueRejected:
    return ValueRejected(what, value, rule)


def is_integer(value: str) -> bool:
    """ASCII digits only, as Go's strconv reads them."""
    return bool(_DIGITS.fullmatch(value))


def parse_int(value: str, what: str, *, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    """A whole number typed by a user: ASCII digits, minimum <= n <= maximum."""
    if not _DIGITS.fullmatch(value):
        raise _invalid(what, value, f"use a whole number of ASCII digits from {minimum} to {maximum}")
    number = int(value)
    if not minimum <= number <= maximum:
        raise _invalid(what, value, f"must be from {minimum} to {maximum}")
    return number


def parse_seconds(value: str, what: str, *, minimum: float = 0.0, maximum: float = 86400.0) -> float:
    """A number of seconds such as 0.5 or 30: ASCII digits and one '.', bounded (no inf or nan)."""
    if not _DECIMAL.fullmatch(value):
        raise _invalid(what, value, f"use a number of seconds from {minimum:g} to {maximum:g}, e.g. 0.5")
    seconds = float(value)
    if not minimum <= seconds <= maximum:
        raise _invalid(what, value, f"must be from {minimum:g} to {maximum:g} seconds")
    return seconds


def parse_go_duration(value: str, what: str) -> float:
    """Go's time.ParseDuration (15m, 1h30m, 90s, 0.5s, 250ms) in seconds, positive and within
    Go's int64-nanosecond range."""
    rest, total = value, 0.0
    if rest in ("", "0"):
        raise _invalid(what, value, "use a duration longer than 0s, like 15m, 1h, 90s")
    while rest:
        match = _GO_DURATION_PART.match(rest)
        if not match or match[1] in ("", "."):
            raise _invalid(what, value, "use a duration like 15m, 1h30m, 90s")
        total += float(match[1]) * _GO_UNITS[match[2]]
        rest = rest[match.end():]
    if total > MAX_DURATION.total_seconds():
        raise _invalid(what, value, "longer than Go's maximum duration (2562047h47m16s)")
    if total <= 0:
        raise _invalid(what, value, "it must be longer than 0s")
    return total


def parse_age(value: str, what: str) -> timedelta | None:
    """A time ago as the audit flags take it (30s, 30m, 2h, 1d, 1w); None if VALUE is not one."""
    match = _AGE.fullmatch(value)
    if not match:
        return None
    seconds = int(match[1]) * _AGE_UNITS[match[2]]
    if seconds > MAX_DURATION.total_seconds():
        raise _invalid(what, value, f"a duration may be at most {MAX_DURATION.days}d (Go's maximum duration)")
    return timedelta(seconds=seconds)


def parse_moment(value: str, what: str, now: datetime | None = None) -> datetime:
    """RFC 3339 with a time zone, or a time ago (2h); an aware UTC datetime."""
    now = now or datetime.now(timezone.utc)
    age = parse_age(value, what)
    if age is not None:
        if age > now - datetime(1, 1, 1, tzinfo=timezone.utc):
            raise _invalid(what, value, "that is before the year 1")
        return now - age
    rule = "use RFC 3339 (2026-11-28T14:00:00Z) or a duration like 30m, 2h, 1d"
    if not value.isascii():  # fromisoformat would take other digits
        raise _invalid(what, value, rule)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _invalid(what, value, rule) from None
    if moment.tzinfo is None:
        raise _invalid(what, value, "give a time zone, e.g. 2026-11-28T14:00:00Z")
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the year 1 in UTC
        raise _invalid(what, value, "out of range (years 1 to 9999 in UTC)") from None


def timestamp(moment: datetime, *, seconds: bool = False) -> str:
    """RFC 3339 in UTC, with a Z: the one formatter of times.

    With microseconds, as the audit index stores times (fixed width, so they sort as text);
    with `seconds`, as the Kubernetes API prints a metav1.Time (creationTimestamp, …).
    """
    spec = "seconds" if seconds else "microseconds"
    return moment.astimezone(timezone.utc).isoformat(timespec=spec).replace("+00:00", "Z")


def setting_number(name: str, raw: str | None, default: float, *, minimum: float = 0.0,
                   maximum: float = 86400.0, whole: bool = False) -> float:
    """A number from the environment or a config file (NAME=RAW); DEFAULT when unset or empty."""
    if not raw:
        return default
    pattern = _DIGITS if whole else _DECIMAL
    if not pattern.fullmatch(raw):
        kind = "whole number" if whole else "number"
        raise UsageError(f"{name}={one_line(raw)} is not a {kind} of {minimum:g} or more; fix or unset it")
    value = int(raw) if whole else float(raw)
    if not minimum <= value <= maximum:
        raise UsageError(f"{name}={raw} is out of range ({minimum:g} to {maximum:g}); fix or unset it")
    return value
