"""Scheduled import cycle cost against a real local registry, printed (not a timed test):

  python tests/benchmarks/bench_controller.py [--streams 200] [--store sqlite:///…]

Pushes one image per stream to a local docker-registry, tags each as a scheduled
import followed by a Deployment's trigger, then times three `imagetrail controller
--once` cycles as the CLI runs them: nothing moved upstream (no writes), every image
re-pushed (every tag moves, every Deployment rolls out), and nothing moved again.
Needs the registry binary (`make registry`).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from registry_harness import LocalRegistry, push_image  # noqa: E402


def controller(store: str) -> tuple[float, float, str]:
    """Wall time of the process, the cycle's own time (from its log), and the cycle summary."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "imagetrail", "--store", store, "controller", "--once",
                           "--max-per-minute", "1000000"], check=True, capture_output=True, text=True)
    summary = next(line for line in done.stderr.splitlines() if "done in" in line).split(": ", 1)[1]
    cycle = float(re.search(r"done in ([0-9.]+)s", summary)[1])
    return time.perf_counter() - started, cycle, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--store")
    args = parser.parse_args()

    from imagetrail.cli.session import registry_client
    from imagetrail.engine.service.application import ImageTrail
    from imagetrail.engine.domain.trigger_definition import TriggerChange
    from imagetrail.engine.service.deployments import Deployments
    from imagetrail.engine.adapters.registry.resolver import Resolver
    from imagetrail.engine.adapters.store_urls import parse_store
    from imagetrail.engine.settings import Settings

    work = tempfile.mkdtemp(prefix="imagetrail-bench-")
    store = args.store or f"sqlite:///{work}/controller.db"
    os.environ.setdefault("IMAGETRAIL_KAFKA_CACHE_DIR", f"{work}/cache")
    os.environ["REGISTRY_AUTH_FILE"] = f"{work}/auth.json"
    Path(os.environ["REGISTRY_AUTH_FILE"]).write_text('{"auths": {}}')
    with LocalRegistry() as registry:
        app = ImageTrail(parse_store(Settings(store=store)), Resolver(registry=registry_client(Settings())))
        started = time.perf_counter()
        for n in range(args.streams):
            push_image(registry, f"bench/app-{n}", "stable")
            app.tag("bench", f"{registry.address}/bench/app-{n}:stable", [f"app-{n}:stable"], scheduled=True,
                    insecure=True, actor="setup")
            Deployments(app).create_deployment("bench", f"web-{n}", [f"{registry.address}/bench/app-{n}:stable"],
                                               actor="setup")
            follow = TriggerChange(f"app-{n}:stable", containers=(f"app-{n}",))
            Deployments(app).set_triggers("bench", f"web-{n}", follow, actor="setup")
        print(f"set-up: {args.streams} scheduled streams with triggered Deployments in "
              f"{time.perf_counter() - started:.1f} s ({store})")
        for label, repush in (("unchanged", False), ("all moved", True), ("unchanged again", False)):
            if repush:
                for n in range(args.streams):
                    push_image(registry, f"bench/app-{n}", "stable")
            wall, cycle, summary = controller(store)
            print(f"{label:>15}: {wall:6.2f} s wall, {1000 * cycle / args.streams:5.1f} ms a stream — {summary}")


if __name__ == "__main__":
    main()
