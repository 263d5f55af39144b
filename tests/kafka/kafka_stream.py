"""A stream of tag moves for the fault test: one command at a time, each outcome as a JSON line."""

import contextlib
import io
import json
import sys
import time

from imagetrail.cli.main import main

store, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    digest = f"sha256:{i:064x}"
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--store", store, "-n", "faults", "tag", f"quay.io/keycloak/keycloak@{digest}", f"keycloak:t{i}"])
        except SystemExit as e:
            code = e.code or 0
    print(json.dumps({"i": i, "code": code, "err": err.getvalue(), "elapsed": time.monotonic() - started}),
          flush=True)
    time.sleep(0.2)
