"""Reads at scale, printed (not a timed test):

    BENCH_EVENTS=1000000 python tests/benchmarks/bench_scale.py

On a store written by generate.py (kept in BENCH_DIR, default /tmp/imagetrail-bench, and
reused by later runs), in process, after the projections caught up:
- an as-of read: what `get deployment X --at POS` and `describe is X --at POS` do once
  started (AsOf over the audit index, then the aggregate at that version from its nearest
  snapshot), at random positions, Deployments and streams alternately;
- `history IS:TAG`: the view's existence check and tag_changes for a random stream's tag;
- how both grow from the 10k-event store to this one;
- a full rebuild of the projections into a fresh view, in a subprocess: its peak RSS and its
  events/s, against a plain read of every row of the store (and the RSS of that process
  before it rebuilds).
Each figure is the median of BENCH_RUNS runs (a run's latency is the p50 of its samples);
the spread (min–max of the runs) is in brackets.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from table import Figure, Scale, render  # noqa: E402

SAMPLES = 200  # reads per run behind each p50
GROWTH_BASE = 10_000
BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/imagetrail-bench"))
TAGS = ("latest", "stable", "prod", "nightly")


def store(events: int) -> tuple[Path, dict]:
    """The generated store of `events` events (written once, then reused) and its generation report."""
    from generate import generate

    folder = BENCH_DIR / f"{events}"
    done = folder / "generated.json"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("store*"):
            stale.unlink()
        print(f"generating a {events:,}-event store in {folder} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        report = generate(events, folder / "store.db", progress=lambda written: print(
            f"  {written:,} events, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True))
        done.write_text(json.dumps(report))
    return folder / "store.db", json.loads(done.read_text())


def _open(path: Path):
    from imagetrail.engine.adapters.registry.resolver import Resolver
    from imagetrail.engine.adapters.store_urls import parse_store
    from imagetrail.engine.service.application import ImageTrail
    from imagetrail.engine.settings import Settings
    from imagetrail.projections.runner import catch_up
    from imagetrail.projections.views import open_view

    app = ImageTrail(parse_store(Settings(store=f"sqlite:///{path}")), Resolver())
    view = open_view(str(app.views_path), app.source)
    catch_up(app, view)
    return app, view


class Reads:
    """Timed reads on one store: each `run()` adds the p50 (seconds) of each read over SAMPLES reads."""

    def __init__(self, path: Path):
        self.app, self.view = _open(path)
        self.head = self.app.recorder.max_notification_id()
        self.streams = [(s.namespace, s.name) for s in self.view.list("imagestream", None)]
        self.deployments = [(d.namespace, d.name) for d in self.view.list("deployment", None)]
        self.rng = random.Random(7)
        self.p50s: dict[str, list[float]] = {"asof": [], "history": [], "now": []}

    def run(self) -> None:
        from imagetrail.projections.asof import AsOf

        app, view, rng = self.app, self.view, self.rng
        times: dict[str, list[float]] = {key: [] for key in self.p50s}
        for i in range(SAMPLES):
            kind, (ns, name) = ("deployment", rng.choice(self.deployments)) if i % 2 else \
                ("imagestream", rng.choice(self.streams))
            position = rng.randint(1, self.head)
            started = time.perf_counter()
            AsOf(app, view, position).get(kind, ns, name)
            times["asof"].append(time.perf_counter() - started)

            started = time.perf_counter()
            view.get(kind, ns, name)
            times["now"].append(time.perf_counter() - started)

            ns, name = rng.choice(self.streams)
            started = time.perf_counter()
            if view.get("imagestream", ns, name) is not None:  # what `history` checks first
                view.tag_changes(ns, name, rng.choice(TAGS))
            times["history"].append(time.perf_counter() - started)
        for key, values in times.items():
            self.p50s[key].append(statistics.median(values))


REBUILD = """
import json, resource, sqlite3, sys, time
from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.settings import Settings
from imagetrail.projections.runner import rebuild
from imagetrail.projections.views import open_view
store, fresh, plain = sys.argv[1:4]
if plain == "plain":  # every row of the store, as a plain reader would fetch them
    started = time.perf_counter()
    rows = 0
    for _ in sqlite3.connect(store).execute("SELECT * FROM stored_events ORDER BY rowid"):
        rows += 1
    print(json.dumps({"events": rows, "seconds": time.perf_counter() - started}))
    sys.exit()
app = ImageTrail(parse_store(Settings(store=f"sqlite:///{store}")), Resolver())
view = open_view(fresh, app.source)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
events = rebuild(app, view)
print(json.dumps({"events": events, "seconds": time.perf_counter() - started, "before_kb": before}))
"""


def _child(path: Path, mode: str) -> tuple[dict, float]:
    """Run REBUILD in a new process; its output and its own peak RSS in MB (wait4: this child's rusage)."""
    fresh = path.with_name("fresh.views.db")
    for leftover in path.parent.glob("fresh.views.db*"):
        leftover.unlink()
    child = subprocess.Popen([sys.executable, "-c", REBUILD, str(path), str(fresh), mode],
                             stdout=subprocess.PIPE, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"error: the {mode} process exited with {child.returncode}")
    for leftover in path.parent.glob("fresh.views.db*"):
        leftover.unlink()
    return json.loads(out), usage.ru_maxrss / 1024  # KiB on Linux


def _ms(seconds: list[float]) -> str:
    values = [s * 1000 for s in seconds]
    m = statistics.median(values)
    spread = f" ({min(values):.2f}–{max(values):.2f})" if len(values) > 1 else ""
    return f"{m:.2f} ms{spread}"


def _rate(values: list[float]) -> str:
    m = statistics.median(values)
    spread = f" ({min(values):,.0f}–{max(values):,.0f})" if len(values) > 1 else ""
    return f"{m:,.0f} events/s{spread}"


class _Shown(list):
    """The figures so far, each also printed to stderr as it comes (a 1M-event run takes a while)."""

    def __init__(self, figures: list[Figure]):
        super().__init__()
        for figure in figures:
            self.append(figure)

    def append(self, figure: Figure) -> None:
        print(f"  {figure.name}: {figure.value}  [{figure.anchor}] {figure.ratio}", file=sys.stderr, flush=True)
        super().append(figure)


def figures(scale: Scale) -> list[Figure]:
    path, generated = store(scale.events)
    n = generated["events"]
    out = _Shown([Figure(f"generate a {n:,}-event store (generate.py, once)", f"{generated['seconds']:.0f} s",
                  f"{n / generated['seconds']:,.0f} events/s, {generated['streams']:,} streams, "
                  f"{generated['deployments']:,} Deployments")])
    large = Reads(path)
    small = Reads(store(GROWTH_BASE)[0]) if n > GROWTH_BASE * 1.5 else None
    for _ in range(scale.runs):  # alternately, so a busy moment of the machine falls on both stores
        large.run()
        if small:
            small.run()
    reads = large.p50s
    asof, history, now = (statistics.median(reads[k]) for k in ("asof", "history", "now"))
    out.append(Figure(f"as-of read, p50 ({n:,} events)", _ms(reads["asof"]), f"current read {_ms(reads['now'])}",
                      f"{asof / now:.1f}×", "≤ 5 ms", asof <= 0.005))
    out.append(Figure(f"history IS:TAG, p50 ({n:,} events)", _ms(reads["history"]), "", "", "≤ 50 ms",
                      history <= 0.050))
    if small:
        base, base_reads = store(GROWTH_BASE)[1], small.p50s
        for key, label in (("asof", "as-of read"), ("history", "history IS:TAG")):
            before, after = statistics.median(base_reads[key]), statistics.median(reads[key])
            out.append(Figure(f"{label} growth {base['events'] // 1000}k → {n // 1000:,}k",
                              _ms(reads[key]), f"{base['events']:,} events: {_ms(base_reads[key])}",
                              f"{after / before:.2f}×", "≤ 1.5×", after / before <= 1.5))
    else:
        out.append(Figure("as-of / history growth from 10k", "", "needs BENCH_EVENTS > 15000"))
    rebuild_runs = scale.runs if n <= 100_000 else 1  # a 1M rebuild takes minutes
    rates, peaks, bases, plain = [], [], [], []
    for _ in range(rebuild_runs):
        result, peak = _child(path, "rebuild")
        rates.append(result["events"] / result["seconds"])
        peaks.append(peak)
        bases.append(result["before_kb"] / 1024)
        result, _ = _child(path, "plain")
        plain.append(result["events"] / result["seconds"])
    rate, plain_rate, peak = statistics.median(rates), statistics.median(plain), statistics.median(peaks)
    runs = f"{rebuild_runs} run{'s' if rebuild_runs > 1 else ''}"
    out.append(Figure(f"rebuild the projections, {n:,} events ({runs})", _rate(rates),
                      f"plain read of the store {_rate(plain)}", f"{rate / plain_rate:.3f}"))
    spread = f" ({min(peaks):.0f}–{max(peaks):.0f})" if len(peaks) > 1 else ""
    out.append(Figure(f"peak RSS of that rebuild ({runs})", f"{peak:.0f} MB{spread}",
                      f"before rebuilding {statistics.median(bases):.0f} MB", "", "≤ 500 MB", peak <= 500))
    return list(out)


def main() -> None:
    print(render(figures(Scale())))


if __name__ == "__main__":
    main()
