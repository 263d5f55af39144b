"""SQLite write path, in process, printed (not a timed test):

    python tests/benchmarks/bench_writes.py [--events 10000] [--runs 3]

Tag commands that move a tag a Deployment's trigger follows (each one: the spec tag, the tag
move, the new image, the rollout: four events in one transaction) over 50 streams, until the
log holds `--events` events; the rate over the last 1,000 commands, so a cost that grows with
the log shows. The anchor is SQLite's own floor on this disk: the same number of rows of the
same size, one transaction a command, WAL and synchronous=FULL as the store uses.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Figure, Scale, render  # noqa: E402

STREAMS = 50
MEASURED = 1000  # commands timed at the end of the log


def imagetrail_rate(events: int, work: str) -> tuple[float, float, int]:
    """(events/s over the last MEASURED commands, bytes an event, events in the log)."""
    from imagetrail.engine.adapters.registry.resolver import Resolver
    from imagetrail.engine.adapters.store_urls import parse_store
    from imagetrail.engine.domain.trigger_definition import TriggerChange
    from imagetrail.engine.service.application import ImageTrail
    from imagetrail.engine.service.deployments import Deployments
    from imagetrail.engine.settings import Settings

    app = ImageTrail(parse_store(Settings(store=f"sqlite:///{work}/writes.db")), Resolver())
    for n in range(STREAMS):
        Deployments(app).create_deployment("bench", f"web-{n}", ["nginx:1"], actor="setup")
        Deployments(app).set_triggers("bench", f"web-{n}", TriggerChange(f"app-{n}:live", containers=("nginx",)),
                                      actor="setup")

    def tag(i: int) -> None:
        app.tag("bench", f"quay.io/org/app-{i % STREAMS}@sha256:{i:064x}", [f"app-{i % STREAMS}:live"],
                actor=f"user-{i % 7}")

    i = 0
    while (app.recorder.max_notification_id() or 0) < events - 4 * MEASURED:
        tag(i)
        i += 1
    before = app.recorder.max_notification_id() or 0
    started = time.perf_counter()
    for j in range(i, i + MEASURED):
        tag(j)
    elapsed = time.perf_counter() - started
    after = app.recorder.max_notification_id()
    size = sum(len(n.state) for n in app.recorder.select_notifications(before + 1, 400)) / 400
    return (after - before) / elapsed, size, after


def sqlite_floor(transactions: int, rows: int, size: int, work: str) -> float:
    """Plain sqlite3, the store's settings: events/s when each transaction only inserts and commits."""
    db = sqlite3.connect(f"{work}/floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, originator TEXT, version INTEGER, state BLOB)")
    payload = os.urandom(size)
    started = time.perf_counter()
    for t in range(transactions):
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO events (originator, version, state) VALUES (?, ?, ?)",
                       [(f"agg-{t % STREAMS}-{r}", t, payload) for r in range(rows)])
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return transactions * rows / elapsed


def figures(scale: Scale) -> list[Figure]:
    rates, floors, sizes = [], [], []
    for _ in range(scale.runs):
        with tempfile.TemporaryDirectory(prefix="imagetrail-writes-") as work:
            rate, size, _ = imagetrail_rate(max(scale.events, 4 * MEASURED + 1000), work)
            rates.append(rate)
            sizes.append(size)
            floors.append(sqlite_floor(MEASURED, 4, int(size), work))
    rate, floor = statistics.median(rates), statistics.median(floors)
    return [Figure(
        f"SQLite writes in process, tag commands with a rollout, at {scale.events:,} events",
        f"{rate:,.0f} events/s",
        anchor=f"plain sqlite3 inserts, same rows and commits: {floor:,.0f} events/s",
        ratio=f"{rate / floor:.2f} of the floor", target="≥ 2,000 events/s", met=rate >= 2000)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=Scale().events)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(render(figures(Scale(events=args.events, runs=args.runs))))


if __name__ == "__main__":
    main()
