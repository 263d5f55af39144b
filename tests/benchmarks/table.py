"""The shape every benchmark reports in, so `make bench` can print them all as one table.

A benchmark module exposes `figures(scale: Scale) -> list[Figure]`; its own `main()` prints
the same figures alone. Figures are printed, never asserted: targets live in the README.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    events: int = int(os.environ.get("BENCH_EVENTS", "10000"))  # log size for the scale figures
    runs: int = int(os.environ.get("BENCH_RUNS", "5"))          # repetitions behind each median
    bootstrap: str | None = os.environ.get("BENCH_KAFKA") or None  # a running broker, or start one


@dataclass(frozen=True)
class Figure:
    name: str          # what was measured, as a user would say it
    value: str         # the median, with its unit ("353 ms", "2,140 events/s")
    anchor: str = ""   # what it is compared with, measured in the same run, with its value
    ratio: str = ""    # value ÷ anchor as the target states it ("4.5×", "0.83")
    target: str = ""   # the target ("≤ 2×", "≥ 0.8"), empty when none
    met: bool | None = None  # None: no target, or not comparable


def render(figures: list[Figure]) -> str:
    """A plain-text table, one figure a row (also valid Markdown)."""
    header = ("figure", "median", "anchor (same run)", "ratio", "target", "met")
    rows = [header] + [(f.name, f.value, f.anchor, f.ratio, f.target,
                        "" if f.met is None else ("yes" if f.met else "no")) for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
