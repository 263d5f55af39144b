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


def median(argv, env: dict[str, str], runs: int) -> tuple[float, float]:
    """The median and the fastest wall time of `argv` (or of `argv(i)` for run i): on a busy
    machine the fastest run is the steadier figure."""
    times = []
    for i in range(runs):
        command = argv(i) if callable(argv) else argv
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE: imagetrail's modules compile at every start")
    options = parser.parse_args()
    runs = options.runs
    workdir = tempfile.mkdtemp(prefix="imagetrail-startup-")
    base = dict(os.environ)
    if not options.no_bytecode_cache:  # an installed package has its .pyc files: so does this run
        base.pop("PYTHONDONTWRITEBYTECODE", None)
    env = dict(base, IMAGETRAIL_STORE=f"sqlite:///{workdir}/bench.db", IMAGETRAIL_OFFLINE="1",
               IMAGETRAIL_MIRROR=str(resources.files("imagetrail.cli").joinpath("demo-mirror.json")),
               IMAGETRAIL_NAMESPACE="bench", IMAGETRAIL_ACTOR="bench")
    for command in (["create", "istag", "app:1", "--from-image", SRC[0]],
                    ["create", "deployment", "web", "--image", SRC[0]],
                    ["set", "triggers", "deployment/web", "--from-image", "app:1", "--containers", "keycloak"]):
        subprocess.run(IMAGETRAIL + command, env=env, check=True, stdout=subprocess.DEVNULL)
    figures = {
        'python -c "import click"': median([sys.executable, "-c", "import click"], env, runs),
        'python -c "import click, pydantic"': median([sys.executable, "-c", "import click, pydantic"], env, runs),
        "imagetrail --help": median(IMAGETRAIL + ["--help"], env, runs),
        "imagetrail get is app": median(IMAGETRAIL + ["get", "is", "app"], env, runs),
        # alternate the source so every run moves the tag and rolls the Deployment out
        "imagetrail tag SRC app:1 (rollout)": median(
            lambda i: IMAGETRAIL + ["tag", SRC[(i + 1) % 2], "app:1"], env, runs),
    }
    floor, fastest_floor = figures['python -c "import click, pydantic"']
    print(f"{'':40} {'median':>10}  {'':16}  {'fastest':>10}")
    for name, (seconds, fastest) in figures.items():
        print(f"{name:40} {seconds * 1000:7.0f} ms  {seconds / floor:4.2f}× click+pydantic"
              f"  {fastest * 1000:7.0f} ms  {fastest / fastest_floor:4.2f}×")


if __name__ == "__main__":
    main()
