"""One OS process of the concurrency test: runs conflicting commands, reports each outcome as JSON."""

import contextlib
import io
import json
import sys

from imagetrail.cli.main import main

store, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
digests = ["20.0.2", "20.0.3", "21.0.0"]
for n in range(count):
    actor = f"worker-{worker}-{n}"
    version = digests[(int(worker) + n) % 3]
    commands = [
        f"tag quay.io/keycloak/keycloak:{version} keycloak:20",         # all fight over one tag
        "tag --alias keycloak:20 keycloak:latest",                     # and over its alias
        f"set image-lookup keycloak --enabled={'true' if n % 2 else 'false'}",
    ]
    command = commands[n % len(commands)]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--store", store, "--as", actor, "-n", "race", *command.split()])
        except SystemExit as e:
            code = e.code or 0
    print(json.dumps({"actor": actor, "command": command, "code": code, "err": err.getvalue()}), flush=True)
