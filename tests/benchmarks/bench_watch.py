"""What following a cluster costs: `imagetrail watch -f` over a recorded stream of N changes (a tag
move and the rollout it caused, alternately, as `oc get is,deploy -w --output-watch-events -o json`
prints them), on SQLite and, with BENCH_KAFKA, on Kafka. Per change: recording it, and reading it
again (a restarted watch), which writes nothing.

    python tests/benchmarks/bench_watch.py [--changes 400] [--kafka HOST:PORT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from table import Figure, Scale, render  # noqa: E402

REPO = "registry.example/test/app"


def stream(changes: int) -> str:
    """Watch events: the stream and the Deployment that follows it, then `changes` changes."""
    trigger = json.dumps([{"from": {"kind": "ImageStreamTag", "name": "app:latest"},
                           "fieldPath": 'spec.template.spec.containers[?(@.name=="app")].image'}])
    items = [{"created": "2026-12-01T00:00:00Z", "generation": 1, "image": f"sha256:{0:064x}",
              "dockerImageReference": f"{REPO}@sha256:{0:064x}"}]
    image_stream = {"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                    "metadata": {"name": "app", "namespace": "bench", "resourceVersion": "1"},
                    "spec": {"tags": [{"name": "latest", "from": {"kind": "DockerImage", "name": f"{REPO}:latest"}}]},
                    "status": {"dockerImageRepository": REPO, "tags": [{"tag": "latest", "items": items}]}}
    deployment = {"kind": "Deployment", "apiVersion": "apps/v1",
                  "metadata": {"name": "app", "namespace": "bench", "resourceVersion": "2",
                               "annotations": {"image.openshift.io/triggers": trigger}},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "app"}}, "template": {
                      "metadata": {"labels": {"app": "app"}},
                      "spec": {"containers": [{"name": "app", "image": f"{REPO}@sha256:{0:064x}"}]}}}}
    lines = [json.dumps({"type": "ADDED", "object": image_stream}), json.dumps({"type": "ADDED", "object": deployment})]
    version = 2
    for i in range(1, changes // 2 + 1):
        digest = f"sha256:{i:064x}"
        version += 1
        items.insert(0, {"created": "2026-12-01T00:00:00Z", "generation": i + 1, "image": digest,
                         "dockerImageReference": f"{REPO}@{digest}"})
        image_stream["metadata"]["resourceVersion"] = str(version)
        lines.append(json.dumps({"type": "MODIFIED", "object": image_stream}))
        version += 1
        deployment["metadata"]["resourceVersion"] = str(version)
        deployment["spec"]["template"]["spec"]["containers"][0]["image"] = f"{REPO}@{digest}"
        lines.append(json.dumps({"type": "MODIFIED", "object": deployment}))
    return "\n".join(lines) + "\n"


def per_change(store: str, changes: int, env: dict[str, str]) -> tuple[float, float]:
    """ms per change: recording a fresh stream, then reading the same stream again."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "watch.json"
        path.write_text(stream(changes))
        env = {**env, "IMAGETRAIL_KAFKA_CACHE_DIR": f"{tmp}/cache"}
        store = store.replace("TMP", tmp)
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "imagetrail", "--store", store, "watch", "-f", str(path)],
                           env=env, check=True, capture_output=True)
            timings.append((time.perf_counter() - started) * 1000 / (changes + 2))
    return timings[0], timings[1]


def figures(scale: Scale, changes: int = 400) -> list[Figure]:
    env = {**os.environ, "IMAGETRAIL_OFFLINE": "1"}
    stores = [("SQLite", "sqlite:///TMP/store.db")]
    if scale.bootstrap:
        stores.append(("Kafka", f"kafka://{scale.bootstrap}/bench-watch-{{run}}"))
    rows = []
    for name, url in stores:
        runs = [per_change(url.replace("{run}", uuid.uuid4().hex[:8]), changes, env) for _ in range(max(scale.runs // 2, 1))]
        record, again = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        rows.append(Figure(f"watch -f, {changes} changes on {name}: per change recorded", f"{record:.1f} ms"))
        rows.append(Figure(f"watch -f, the same stream again on {name}: per change (writes nothing)", f"{again:.1f} ms"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=400)
    parser.add_argument("--kafka", help="a running broker, for the Kafka rows")
    args = parser.parse_args()
    scale = Scale(bootstrap=args.kafka or Scale().bootstrap)
    print(render(figures(scale, args.changes)))


if __name__ == "__main__":
    main()
