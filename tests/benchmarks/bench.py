"""Every benchmark's figures as one table: `make bench`.

    make bench                                   # small: 10k events, 5 runs, no Kafka rows
    BENCH_EVENTS=1000000 BENCH_RUNS=5 make bench # the full scale (the store is generated once)
    BENCH_KAFKA=127.0.0.1:9092 make bench        # with the Kafka rows, on that running broker

Each module's `figures(scale)` measures its figures beside their anchors, in the same run
(tests/benchmarks/table.py); this prints them, the median of BENCH_RUNS runs with the spread
in brackets. It prints; it asserts nothing. A module that is missing, has no `figures`, or
needs a broker that was not given is left out with a note under the table.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from table import Figure, Scale, render  # noqa: E402

MODULES = ("bench_startup", "bench_writes", "bench_scale", "bench_kafka", "bench_watch")


def collect(scale: Scale) -> tuple[list[Figure], list[str]]:
    rows: list[Figure] = []
    notes: list[str] = []
    for name in MODULES:
        if name == "bench_kafka" and not scale.bootstrap:
            notes.append("bench_kafka: left out, no broker given (BENCH_KAFKA=HOST:PORT)")
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            notes.append(f"{name}: left out, tests/benchmarks/{name}.py is not there")
            continue
        if not hasattr(module, "figures"):
            notes.append(f"{name}: left out, it has no figures(scale) yet")
            continue
        started = time.perf_counter()
        try:
            rows += module.figures(scale)
        except Exception as e:  # one failing benchmark should not hide the others' figures
            traceback.print_exc()
            notes.append(f"{name}: failed: {type(e).__name__}: {e}")
            continue
        print(f"{name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return rows, notes


def main() -> None:
    scale = Scale()
    load = os.getloadavg()
    print(f"imagetrail benchmarks: BENCH_EVENTS={scale.events}, BENCH_RUNS={scale.runs}, "
          f"BENCH_KAFKA={scale.bootstrap or '-'}; {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores, load average before {load[0]:.2f}", file=sys.stderr, flush=True)
    rows, notes = collect(scale)
    print(render(rows))
    for note in notes:
        print(f"- {note}")
    print(f"- BENCH_EVENTS={scale.events}, BENCH_RUNS={scale.runs}; load average at the end "
          f"{os.getloadavg()[0]:.2f} (was {load[0]:.2f}) on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
