"""One writer of the cluster fault tests: tag commands on its own stream until told to stop,
each outcome as a JSON line (wall-clock start and end, exit code, stderr)."""

import contextlib
import io
import json
import os
import sys
import time

from imagetrail.cli.main import main

store, writer, stop_file = sys.argv[1], sys.argv[2], sys.argv[3]
i = 0
while not os.path.exists(stop_file):
    out, err = io.StringIO(), io.StringIO()
    started, code = time.time(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--store", store, "-n", "cluster", "tag", f"quay.io/org/app@sha256:{int(writer):02d}{i:062x}",
                  f"app-{writer}:t{i}"])
        except SystemExit as e:
            code = e.code or 0
    print(json.dumps({"writer": writer, "i": i, "code": code, "err": err.getvalue(), "started": started,
                      "ended": time.time()}), flush=True)
    i += 1
