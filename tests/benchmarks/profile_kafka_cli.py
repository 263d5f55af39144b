"""Where one `imagetrail tag` CLI process on Kafka spends its time (printed, not a timed test):

  python tests/benchmarks/profile_kafka_cli.py BOOTSTRAP [--runs 7]

Each run is a fresh interpreter on one topic and one local cache (as a user's shell would run
it, after a first command created both). The child stamps each phase; the parent adds the
interpreter start and the exit. Prints the median and the spread of every phase over the runs.
Phases nest: `topic checks` and `catch-up` fall inside `append`, which falls inside `command`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

CHILD = r"""
import atexit, json, os, sys, time
T0 = float(os.environ["PROFILE_T0"])
stamps = []
def mark(name, start, end=None):
    stamps.append((name, start - T0, (end if end is not None else time.time()) - start))
def last():  # registered first, so it runs after every other exit handler
    mark("atexit (client cleanup)", EXIT_AT)
    with open(os.environ["PROFILE_OUT"], "w") as f:
        f.write(json.dumps(stamps))
    if os.environ.get("PROFILE_SKIP_FINALIZE"):  # what the interpreter's own teardown costs
        sys.stdout.flush(), sys.stderr.flush()
        os._exit(0)
atexit.register(last)
if os.environ.get("PROFILE_FREEZE"):  # the final garbage collections then skip every live object
    import gc
    atexit.register(gc.freeze)
EXIT_AT = started = time.time()
mark("interpreter start", T0, started)
from imagetrail.cli.main import main
mark("import imagetrail.cli.main", started)

from imagetrail.engine.adapters.kafka import log as kafka_log

def timed(owner, attr, name):
    real = getattr(owner, attr)
    def wrapper(*args, **kwargs):
        t = time.time()
        try:
            return real(*args, **kwargs)
        finally:
            mark(name, t)
    setattr(owner, attr, wrapper)

real_kafka = kafka_log._kafka
patched = []
def _kafka():
    if not patched:
        t = time.time()
        kafka = real_kafka()
        mark("import kafka", t)
        timed(kafka.KafkaProducer, "init_transactions", "init_transactions")
        timed(kafka.KafkaProducer, "close", "producer close")
        timed(kafka.KafkaConsumer, "close", "consumer close")
        for cls in ("KafkaAdminClient", "KafkaConsumer", "KafkaProducer"):
            timed(getattr(kafka, cls), "__init__", f"bootstrap {cls}")
        patched.append(kafka)
    return patched[0]
kafka_log._kafka = _kafka
for attr, name in [("_ensure_topic", "topic checks"), ("catch_up", "catch-up"), ("append", "append"),
                   ("_check_quiescent", "quiescence check"), ("_send", "produce + commit"),
                   ("_await_readable", "await readable"), ("close", "log close")]:
    timed(kafka_log.KafkaLog, attr, name)
t = time.time()
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
else:
    code = 0
mark("command (main)", t)
EXIT_AT = time.time()
sys.exit(code)
"""


def run(store: str, cache: str, n: int, skip_finalize: bool = False, freeze: bool = False) -> dict[str, float]:
    out = tempfile.mktemp(suffix=".json")
    env = {**os.environ, "IMAGETRAIL_KAFKA_CACHE_DIR": cache, "PROFILE_OUT": out}
    if skip_finalize:
        env["PROFILE_SKIP_FINALIZE"] = "1"
    if freeze:
        env["PROFILE_FREEZE"] = "1"
    args = ["--store", store, "-n", "bench", "tag", f"quay.io/org/cli@sha256:{n + 1:064x}", "cli:live"]
    env["PROFILE_T0"] = repr(time.time())
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], env=env, capture_output=True, text=True)
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"the command failed: {done.stderr}")
    with open(out) as f:
        stamps = json.load(f)
    os.unlink(out)
    phases: dict[str, float] = {}
    last_end = 0.0
    for name, start, duration in stamps:
        phases[name] = phases.get(name, 0.0) + duration
        last_end = max(last_end, start + duration)
    phases["after atexit until exit"] = ended - started - last_end
    phases["whole process"] = ended - started
    # a busy machine stretches the wall times; the CPU the process used much less so
    phases["process CPU (user + sys)"] = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bootstrap")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-finalize", action="store_true",
                        help="end each process with os._exit after the exit handlers, to show what teardown costs")
    parser.add_argument("--freeze-at-exit", action="store_true", help="gc.freeze() at exit, before the teardown")
    args = parser.parse_args()
    store = f"kafka://{args.bootstrap}/imagetrail-profile-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as cache:
        run(store, cache, 0)  # creates the topic and the local cache: not counted
        runs = [run(store, cache, n, args.skip_finalize, args.freeze_at_exit) for n in range(1, args.runs + 1)]
    names = list(dict.fromkeys(name for r in runs for name in r))
    print(f"{'phase':32} {'median':>8} {'min':>8} {'max':>8}   ({args.runs} runs, ms)")
    for name in names:
        values = [r.get(name, 0.0) * 1000 for r in runs]
        print(f"{name:32} {statistics.median(values):8.0f} {min(values):8.0f} {max(values):8.0f}")


if __name__ == "__main__":
    main()
