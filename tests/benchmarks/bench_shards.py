"""Commands/s with 1, 2 and 4 concurrent writers on 4 namespaces: one topic for all, or a topic
per namespace (kafka://HOSTS/PREFIX{namespace}). Issue 12 §5's target: sharded ≥ 3× one topic
with 4 writers.

Each writer is a long-lived process running `imagetrail tag` in a loop (the CLI's main(), so
each command opens nothing new), round-robin over its share of the namespaces: with 1 writer
it takes all 4, with 2 two each, with 4 one each. The topics and streams exist before the
clock starts. Run on the three-broker cluster (replication factor 3, min.insync.replicas 2):

    compose/kafka-local start --brokers 3      # prints the bootstrap list
    python tests/benchmarks/bench_shards.py --bootstrap HOST:PORT,HOST:PORT,HOST:PORT

It prints one row per (store, writers): commands acknowledged per second, failed commands.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

NAMESPACES = ["team-a", "team-b", "team-c", "team-d"]


def writer(store: str, namespaces: list[str], start_at: float, seconds: float, cache: str) -> None:
    """One writer process: tag commands until the time is up; prints its counts as JSON."""
    from imagetrail.cli.main import main

    os.environ["IMAGETRAIL_KAFKA_CACHE_DIR"] = cache
    ok = failed = i = 0
    errors: list[str] = []
    time.sleep(max(0.0, start_at - time.time()))
    while time.time() < start_at + seconds:
        ns = namespaces[i % len(namespaces)]
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                main(["--store", store, "-n", ns, "tag", f"quay.io/org/app@sha256:{i + 1:064x}", "app:1"])
                code = 0
            except SystemExit as e:
                code = e.code or 0
        if code == 0:
            ok += 1
        else:
            failed += 1
            errors.append(err.getvalue().strip())
        i += 1
    print(json.dumps({"ok": ok, "failed": failed, "errors": errors[:3]}))


def run(bootstrap: str, sharded: bool, writers: int, seconds: float, env: dict[str, str]) -> dict:
    topic = f"bench-shards-{uuid.uuid4().hex[:8]}" + (".{namespace}" if sharded else "")
    store = f"kafka://{bootstrap}/{topic}"
    with tempfile.TemporaryDirectory() as tmp:
        for ns in NAMESPACES:  # the topics and streams exist before the clock starts
            done = subprocess.run([sys.executable, "-m", "imagetrail", "--store", store, "-n", ns, "tag",
                                   f"quay.io/org/app@sha256:{0:064x}", "app:1"], capture_output=True, text=True,
                                  env={**env, "IMAGETRAIL_KAFKA_CACHE_DIR": f"{tmp}/setup"})
            if done.returncode:
                raise SystemExit(done.stderr)
        start_at = time.time() + 8  # every writer imported and connected by then
        procs = [subprocess.Popen([sys.executable, __file__, "--writer", store, ",".join(NAMESPACES[w::writers]),
                                   str(start_at), str(seconds), f"{tmp}/w{w}"], env=env, stdout=subprocess.PIPE,
                                  text=True) for w in range(writers)]
        results = [json.loads(p.communicate()[0]) for p in procs]
    ok, failed = sum(r["ok"] for r in results), sum(r["failed"] for r in results)
    return {"store": "a topic per namespace" if sharded else "one topic", "writers": writers,
            "commands/s": round(ok / seconds, 1), "failed": failed,
            "errors": sorted({e for r in results for e in r["errors"]})[:2]}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        store, namespaces, start_at, seconds, cache = sys.argv[2:7]
        writer(store, namespaces.split(","), float(start_at), float(seconds), cache)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", required=True, help="the cluster's bootstrap list")
    parser.add_argument("--seconds", type=float, default=30, help="how long each run writes")
    parser.add_argument("--writers", default="1,2,4")
    parser.add_argument("--replication-factor", default="3")
    args = parser.parse_args()
    env = {**os.environ, "IMAGETRAIL_OFFLINE": "1", "IMAGETRAIL_KAFKA_REPLICATION_FACTOR": args.replication_factor,
           "IMAGETRAIL_KAFKA_MIN_INSYNC_REPLICAS": "2" if args.replication_factor != "1" else "1"}
    rows = []
    for writers in (int(w) for w in args.writers.split(",")):
        for sharded in (False, True):
            rows.append(run(args.bootstrap, sharded, writers, args.seconds, env))
            print(json.dumps(rows[-1]), flush=True)
    print(f"\n| writers | one topic (commands/s) | a topic per namespace (commands/s) | ratio |\n|---|---|---|---|")
    for writers in sorted({r["writers"] for r in rows}):
        one, many = (next(r for r in rows if r["writers"] == writers and r["store"] == s)
                     for s in ("one topic", "a topic per namespace"))
        ratio = many["commands/s"] / one["commands/s"] if one["commands/s"] else float("inf")
        print(f"| {writers} | {one['commands/s']} ({one['failed']} failed) | {many['commands/s']} "
              f"({many['failed']} failed) | {ratio:.2f}× |")


if __name__ == "__main__":
    main()
