"""Audit and as-of query latency on a large log, printed (not a timed test):

  python tests/benchmarks/bench_audit.py [--events 100000] [--store sqlite:///…]

Builds a log of about N events (tag moves that roll Deployments out, over 50 streams),
then times, as a user runs them: `imagetrail history IS:TAG`, `imagetrail log --actor`,
`imagetrail get deployment X --at POSITION` and `describe is --at`, against replaying the
whole log into a fresh view (what those answers would cost without the indexes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def cli(store: str, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "imagetrail", "--store", store, "-n", "bench", *args],
                   check=True, capture_output=True)
    return time.perf_counter() - started


def median(store: str, runs: int, *args: str) -> float:
    return statistics.median(cli(store, *args) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--store")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from imagetrail.engine.domain.trigger_definition import TriggerChange
    from imagetrail.engine.service.application import ImageTrail
    from imagetrail.engine.service.deployments import Deployments
    from imagetrail.engine.adapters.registry.resolver import Resolver
    from imagetrail.engine.adapters.store_urls import parse_store
    from imagetrail.engine.settings import Settings
    from imagetrail.projections.runner import catch_up, rebuild
    from imagetrail.projections.views import open_view

    work = tempfile.mkdtemp(prefix="imagetrail-bench-")
    store = args.store or f"sqlite:///{work}/big.db"
    os.environ.setdefault("IMAGETRAIL_KAFKA_CACHE_DIR", f"{work}/cache")
    app = ImageTrail(parse_store(Settings(store=store)), Resolver())
    streams = 50
    for n in range(streams):
        Deployments(app).create_deployment("bench", f"web-{n}", ["nginx:1"], actor="setup")
        Deployments(app).set_triggers("bench", f"web-{n}", TriggerChange(f"app-{n}:live", containers=("nginx",)),
                                      actor="setup")
    started, i = time.perf_counter(), 0
    while (app.recorder.max_notification_id() or 0) < args.events:
        app.tag("bench", f"quay.io/org/app-{i % streams}@sha256:{i:064x}", [f"app-{i % streams}:live"],
                actor=f"user-{i % 7}")
        i += 1
    written = time.perf_counter() - started
    events = app.recorder.max_notification_id()
    view = open_view(app.views_path)
    started = time.perf_counter()
    catch_up(app, view)
    indexed = time.perf_counter() - started
    middle = events // 2

    history = median(store, args.runs, "history", "app-7:live")
    log = median(store, args.runs, "log", "--actor", "user-3", "--limit", "20")
    as_of = median(store, args.runs, "get", "deployment", "web-7", "-o", "json", "--at", str(middle))
    describe_as_of = median(store, args.runs, "describe", "is", "app-7", "--at", str(middle))
    baseline = median(store, args.runs, "get", "deployment", "web-7", "-o", "json")

    fresh = open_view(f"{work}/replay.views.db")
    started = time.perf_counter()
    rebuild(app, fresh)
    replay = time.perf_counter() - started

    print(f"store {store}: {events} events ({i} tag commands, written in {written:.0f}s; "
          f"projections indexed in {indexed:.0f}s)")
    print(f"{'imagetrail history app-7:live (CLI, median)':52} {history * 1000:8.0f} ms")
    print(f"{'imagetrail log --actor user-3 --limit 20':52} {log * 1000:8.0f} ms")
    print(f"{'imagetrail get deployment web-7 --at <middle>':52} {as_of * 1000:8.0f} ms")
    print(f"{'imagetrail describe is app-7 --at <middle>':52} {describe_as_of * 1000:8.0f} ms")
    print(f"{'imagetrail get deployment web-7 (now, for scale)':52} {baseline * 1000:8.0f} ms")
    print(f"{'replaying the whole log into a fresh view':52} {replay * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
