"""Start-up cost of the CLI: whole-process medians of a few commands against the floors.

    python tests/benchmarks/bench_startup.py [--runs 10]

Prints the median wall time of `imagetrail --help`, `imagetrail get is app` (SQLite, one
stream) and `imagetrail tag SRC app:1` moving a tag a Deployment's trigger follows (a
rollout each time), next to `python -c "import click"` and `python -c "import click,
pydantic"`. Offline, with the demo's registry snapshot: nothing leaves the machine.
It prints figures; the targets are in the README, not in a test. By default it lets Python
cache bytecode (as an installed package has), whatever PYTHONDONTWRITEBYTECODE says.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

IMAGETRAIL = [str(Path(sys.executable).with_name("imagetrail"))]
SRC = ["quay.io/keycloak/keycloak:20.0.2", "quay.io/keycloak/keycloak:20.0.3"]


def timings(argv, env: dict[str, str], runs: int) -> list[float]:
    """The wall times of `runs` runs of `argv` (or of `argv(i)` for run i)."""
    times = []
    for i in range(runs):
        command = argv(i) if callable(argv) else argv
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def measure(runs: int, bytecode_cache: bool = True) -> dict[str, list[float]]:
    """The wall times of each command and floor, by name."""
    workdir = tempfile.mkdtemp(prefix="imagetrail-startup-")
    base = dict(os.environ)
    if bytecode_cache:  # an installed package has its .pyc files: so does this run
        base.pop("PYTHONDONTWRITEBYTECODE", None)
    env = dict(base, IMAGETRAIL_STORE=f"sqlite:///{workdir}/bench.db", IMAGETRAIL_OFFLINE="1",
               IMAGETRAIL_MIRROR=str(resources.files("imagetrail.cli").joinpath("demo-mirror.json")),
               IMAGETRAIL_NAMESPACE="bench", IMAGETRAIL_ACTOR="bench")
    for command in (["create", "istag", "app:1", "--from-image", SRC[0]],
                    ["create", "deployment", "web", "--image", SRC[0]],
                    ["set", "triggers", "deployment/web", "--from-image", "app:1", "--containers", "keycloak"]):
        subprocess.run(IMAGETRAIL + command, env=env, check=True, stdout=subprocess.DEVNULL)
    return {
        CLICK: timings([sys.executable, "-c", "import click"], env, runs),
        FLOOR: timings([sys.executable, "-c", "import click, pydantic"], env, runs),
        "imagetrail --help": timings(IMAGETRAIL + ["--help"], env, runs),
        "imagetrail get is app": timings(IMAGETRAIL + ["get", "is", "app"], env, runs),
        # alternate the source so every run moves the tag and rolls the Deployment out
        "imagetrail tag SRC app:1 (rollout)": timings(
            lambda i: IMAGETRAIL + ["tag", SRC[(i + 1) % 2], "app:1"], env, runs),
    }


CLICK, FLOOR = 'python -c "import click"', 'python -c "import click, pydantic"'
# the README's targets: each command against its floor
TARGETS = {"imagetrail --help": (CLICK, 1.5), "imagetrail get is app": (FLOOR, 2.0),
           "imagetrail tag SRC app:1 (rollout)": (FLOOR, 2.5)}


def figures(scale) -> list:
    """The start-up figures for `make bench` (tests/benchmarks/table.py): medians, spread in brackets."""
    from table import Figure

    times = measure(max(scale.runs, 3))

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.0f} ms ({min(values) * 1000:.0f}–{max(values) * 1000:.0f})"

    out = [Figure(f"start-up: {name} (floor)", ms(times[name])) for name in (CLICK, FLOOR)]
    for name, (floor, target) in TARGETS.items():
        ratio = statistics.median(times[name]) / statistics.median(times[floor])
        out.append(Figure(f"start-up: {name}", ms(times[name]), f"{floor} {ms(times[floor])}",
                          f"{ratio:.2f}×", f"≤ {target}×", ratio <= target))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE: imagetrail's modules compile at every start")
    options = parser.parse_args()
    figures = {name: (statistics.median(times), min(times))
               for name, times in measure(options.runs, not options.no_bytecode_cache).items()}
    floor, fastest_floor = figures[FLOOR]
    print(f"{'':40} {'median':>10}  {'':16}  {'fastest':>10}")
    for name, (seconds, fastest) in figures.items():
        print(f"{name:40} {seconds * 1000:7.0f} ms  {seconds / floor:4.2f}× click+pydantic"
              f"  {fastest * 1000:7.0f} ms  {fastest / fastest_floor:4.2f}×")


if __name__ == "__main__":
    main()
