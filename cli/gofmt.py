"""Go behaviour that `oc describe` output depends on, ported byte for byte.

* docker/go-units v0.5.0 ``HumanDuration`` over Go's int64-nanosecond durations
* blang/semver v3.5.1 ``Parse``/``Compare`` and library-go ``imageutil.PrioritizeTags``
* Go ``text/tabwriter`` as oc's describer configures it: minwidth 0, tabwidth 8, padding 1, pad
  char TAB, no flags (kubectl's table layout, with spaces, is cli/printers.py ``tabwrite``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cmp_to_key
from typing import Any

# --------------------------------------------------------------------------------------------
# Go durations (int64 nanoseconds) and docker/go-units HumanDuration
# --------------------------------------------------------------------------------------------

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MINUTE = 60 * _NS_PER_SECOND
_NS_PER_HOUR = 60 * _NS_PER_MINUTE
_MIN_DURATION = -(1 << 63)
_MAX_DURATION = (1 << 63) - 1


def _go_quo(a: int, b: int) -> int:
    """Go integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _go_unit_float(ns: int, unit: int) -> float:
    """time.Duration.Seconds/Minutes/Hours: float64(d/unit) + float64(d%unit)/unit."""
    whole = _go_quo(ns, unit)
    rest = ns - whole * unit
    return float(whole) + float(rest) / float(unit)


def _timedelta_to_ns(d: timedelta) -> int:
    ns = (d.days * 86_400 + d.seconds) * _NS_PER_SECOND + d.microseconds * 1_000
    # time.Time.Sub saturates at the int64 bounds
    return max(_MIN_DURATION, min(_MAX_DURATION, ns))


def _human_duration_ns(ns: int) -> str:
    seconds = int(_go_unit_float(ns, _NS_PER_SECOND))
    if seconds < 1:
        return "Less than a second"
    if seconds == 1:
        return "1 second"
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = int(_go_unit_float(ns, _NS_PER_MINUTE))
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(_go_unit_float(ns, _NS_PER_HOUR) + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(_go_unit_float(ns, _NS_PER_HOUR)) // 24 // 365} years"


def human_duration(d: timedelta) -> str:
    """docker/go-units (v0.5.0, the version oc vendors) ``HumanDuration``.

    Seconds and minutes are truncated, hours are rounded half up (``int(d.Hours()+0.5)``) and
    days/weeks/months derive from those rounded hours by integer division (a day is 24h, a month
    30 days); years truncate ``d.Hours()``. Thresholds: <1s "Less than a second", 1s "1 second",
    <60s "N seconds", 1m "About a minute", <60m "N minutes", 1h "About an hour", <48h "N hours",
    <14d "N days", <60d "N weeks", <730d "N months", else "N years". Negative → "Less than a second".
    """
    return _human_duration_ns(_timedelta_to_ns(d))


# --------------------------------------------------------------------------------------------
# blang/semver v3.5.1 (Parse + Compare), as used by library-go PrioritizeTags
# --------------------------------------------------------------------------------------------

_NUMBERS = frozenset("0123456789")
_ALPHANUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789")
_UINT64_MAX = (1 << 64) - 1


def _contains_only(s: str, charset: frozenset[str]) -> bool:
    return all(ch in charset for ch in s)


def _has_leading_zeroes(s: str) -> bool:
    return len(s) > 1 and s[0] == "0"


def _parse_uint(s: str) -> int | None:
    if not s or not _contains_only(s, _NUMBERS):
        return None
    value = int(s)
    return value if value <= _UINT64_MAX else None


# a parsed version: (major, minor, patch, prerelease) where prerelease is a tuple of
# (is_num, num, str) parts; build metadata is validated but (like Compare) ignored.
_SemVer = tuple[int, int, int, tuple[tuple[bool, int, str], ...]]


def _semver_parse(s: str) -> _SemVer | None:
    if not s:
        return None
    parts = s.split(".", 2)
    if len(parts) != 3:
        return None
    nums: list[int] = []
    for part in parts[:2]:
        if not _contains_only(part, _NUMBERS) or _has_leading_zeroes(part):
            return None
        value = _parse_uint(part)
        if value is None:
            return None
        nums.append(value)
    patch_str = parts[2]
    build: list[str] = []
    prerelease: list[str] = []
    if "+" in patch_str:
        i = patch_str.index("+")
        build = patch_str[i + 1 :].split(".")
        patch_str = patch_str[:i]
    if "-" in patch_str:
        i = patch_str.index("-")
        prerelease = patch_str[i + 1 :].split(".")
        patch_str = patch_str[:i]
    if not _contains_only(patch_str, _NUMBERS) or _has_leading_zeroes(patch_str):
        return None
    patch = _parse_uint(patch_str)
    if patch is None:
        return None
    pre: list[tuple[bool, int, str]] = []
    for pr in prerelease:
        if not pr:
            return None
        if _contains_only(pr, _NUMBERS):
            if _has_leading_zeroes(pr):
                return None
            num = _parse_uint(pr)
            if num is None:
                return None
            pre.append((True, num, ""))
        elif _contains_only(pr, _ALPHANUM):
            pre.append((False, 0, pr))
        else:
            return None
    for b in build:
        if not b or not _contains_only(b, _ALPHANUM):
            return None
    return (nums[0], nums[1], patch, tuple(pre))


def _cmp(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def _semver_compare(v: _SemVer, o: _SemVer) -> int:
    for x, y in zip(v[:3], o[:3]):
        if x != y:
            return _cmp(x, y)
    vp, op = v[3], o[3]
    if not vp and not op:
        return 0
    if not vp:
        return 1
    if not op:
        return -1
    for (vnum, vn, vs), (onum, on, os_) in zip(vp, op):
        if vnum and not onum:
            return -1
        if not vnum and onum:
            return 1
        c = _cmp(vn, on) if vnum else _cmp(vs, os_)
        if c:
            return c
    return _cmp(len(vp), len(op))


# --------------------------------------------------------------------------------------------
# library-go imageutil.PrioritizeTags
# --------------------------------------------------------------------------------------------

_PRIORITY_LATEST, _PRIORITY_MINOR, _PRIORITY_FULL, _PRIORITY_OTHER = range(4)
_RE_MINOR_SEMANTIC = re.compile(r"^[0-9]+\.[0-9]+$")
_RE_MINOR_WITH_PATCH = re.compile(r"^([0-9]+\.[0-9]+)-\w+$", re.ASCII)


def _prioritize_tag(tag: str) -> tuple[str, int, _SemVer | None, str]:
    if tag == "latest":
        return (tag, _PRIORITY_LATEST, None, "")
    short, prefix = tag, ""
    if tag.startswith("v"):
        short, prefix = tag[1:], "v"
    v = _semver_parse(short)  # 5.1.3
    if v is not None:
        return (tag, _PRIORITY_FULL, v, prefix)
    if _RE_MINOR_SEMANTIC.match(short):  # 5.1
        v = _semver_parse(short + ".0")
        if v is not None:
            return (tag, _PRIORITY_MINOR, v, prefix)
    m = _RE_MINOR_WITH_PATCH.match(short)  # 5.1-rc1
    if m:
        v = _semver_parse(short.replace(m.group(1), m.group(1) + ".0", 1))
        if v is not None:
            return (tag, _PRIORITY_MINOR, v, prefix)
    return (tag, _PRIORITY_OTHER, None, prefix)


def _prioritized_less(a: tuple[str, int, _SemVer | None, str], b: tuple[str, int, _SemVer | None, str]) -> bool:
    if a[1] != b[1]:
        return a[1] < b[1]
    if a[1] == _PRIORITY_OTHER:
        return a[0] < b[0]
    if a[1] == _PRIORITY_LATEST:  # zero semver on both sides: Compare == 0, prefixes ""
        return a[3] < b[3]
    c = _semver_compare(a[2], b[2])  # type: ignore[arg-type]
    if c > 0:  # the newer tag has a higher priority
        return True
    return c == 0 and a[3] < b[3]


def _prioritized_cmp(a: tuple[str, int, _SemVer | None, str], b: tuple[str, int, _SemVer | None, str]) -> int:
    if _prioritized_less(a, b):
        return -1
    if _prioritized_less(b, a):
        return 1
    return 0


def prioritize_tags(tags: list[str]) -> list[str]:
    """library-go ``imageutil.PrioritizeTags`` (returns a new list; the input is not modified).

    1. ``latest`` first;
    2. "minor" versions (``5.1``, ``v5.1``, ``5.1-rc1``) in descending semver order;
    3. full semvers (``5.1.3``, ``v5.1.3-other``) in descending semver order (for equal versions the
       un-prefixed one first);
    4. everything else lexicographically (byte order) — including bare majors such as ``20``.

    Go uses the unstable ``sort.Sort``; this sort is stable, which only matters for tags whose
    versions compare equal apart from build metadata (``1.0.0+a`` / ``1.0.0+b``).
    """
    ptags = [_prioritize_tag(t) for t in tags]
    ptags.sort(key=cmp_to_key(_prioritized_cmp))
    return [p[0] for p in ptags]


# --------------------------------------------------------------------------------------------
# Go text/tabwriter (minwidth 0, tabwidth 8, padding 1, padchar '\t', flags 0)
# --------------------------------------------------------------------------------------------

_CELL_SPLIT = re.compile(r"[\t\v]")


def tabwrite_tabs(text: str, minwidth: int = 0, tabwidth: int = 8, padding: int = 1) -> str:
    # '\f' terminates a line and flushes (ends every column block); format each section apart
    sections = text.split("\f")
    return "\n".join(_tabwrite_section(s, minwidth, tabwidth, padding) for s in sections)


def _tabwrite_section(text: str, minwidth: int, tabwidth: int, padding: int) -> str:
    lines = [_CELL_SPLIT.split(line) for line in text.split("\n")]
    out: list[str] = []
    widths: list[int] = []

    def write_padding(textw: int, cellw: int) -> None:
        cellw = (cellw + tabwidth - 1) // tabwidth * tabwidth
        n = cellw - textw
        out.append("\t" * ((n + tabwidth - 1) // tabwidth))

    def write_lines(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            for j, cell in enumerate(lines[i]):
                out.append(cell)
                if j < len(widths):
                    write_padding(len(cell), widths[j])
            if i + 1 != len(lines):
                out.append("\n")

    def fmt(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1:
                line = lines[this]
                if column >= len(line) - 1:
                    break
                width = max(width, len(line[column]) + padding)
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
            this += 1
        write_lines(line0, line1)

    fmt(0, len(lines))
    return "".join(out)
