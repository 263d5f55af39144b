"""One OS process of the readers-and-writers race: runs imagetrail commands in a loop, one JSON line each.

    race_worker.py writer N COUNT     COUNT tag moves of keycloak:20, each to a digest of its own
    race_worker.py reader N STOPFILE  get / history / log in turn, until STOPFILE exists
"""

import contextlib
import io
import json
import os
import sys

from imagetrail.cli.main import main

role, worker, arg = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def run(command: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(command)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    print(json.dumps({"command": " ".join(command), "code": code, "err": err.getvalue()}), flush=True)


if role == "writer":
    for n in range(int(arg)):
        run(["--as", f"writer-{worker}-{n}", "tag", f"quay.io/keycloak/keycloak@sha256:{worker:032x}{n:032x}",
             "keycloak:20"])
else:
    reads = [["get", "is", "keycloak", "-o", "json"], ["history", "keycloak:20"], ["log", "--limit", "5"],
             ["get", "deployment", "mykeycloak", "-o", "wide"], ["history", "deployment/mykeycloak"]]
    n = 0
    while not os.path.exists(arg):
        run(reads[(n + worker) % len(reads)])
        n += 1
