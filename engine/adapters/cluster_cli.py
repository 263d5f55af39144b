"""A real cluster through the `oc` (or `kubectl`) on PATH and the user's current context: the
port imagetrail uses to read an object, run a change and ask who it acts as (ports.Cluster)."""

from __future__ import annotations

import json
import shutil
import subprocess

from imagetrail.engine.domain.errors import UsageError

TIMEOUT = 60  # seconds for one client call: a hung API server must not hang the command


class ClusterCli:
    def __init__(self, binary: str, client: str):
        self.binary, self.client = binary, client

    @classmethod
    def found(cls) -> ClusterCli:
        for client in ("oc", "kubectl"):
            binary = shutil.which(client)
            if binary:
                return cls(binary, client)
        raise UsageError("neither oc nor kubectl is on PATH: install one and log in to the cluster, "
                         "or print the commands with -o oc and run them yourself")

    def _call(self, args: list[str]) -> tuple[int, str, str]:
        try:
            done = subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise UsageError(f"{self.client} {' '.join(args[:3])} did not finish within {TIMEOUT}s; "
                             "nothing more was run") from None
        except OSError as e:
            raise UsageError(f"cannot run {self.binary}: {e.strerror}") from None
        return done.returncode, done.stdout, done.stderr

    def get(self, resource: str, namespace: str, name: str) -> dict | None:
        code, out, err = self._call(["get", resource, name, "-n", namespace, "-o", "json"])
        if code != 0:
            if "NotFound" in err or "not found" in err:
                return None
            raise UsageError(f"{self.client} get {resource} {name} -n {namespace} failed: "
                             f"{err.strip().splitlines()[-1] if err.strip() else f'exit {code}'}")
        try:
            return json.loads(out)
        except ValueError:
            raise UsageError(f"{self.client} get {resource} {name} printed no JSON object") from None

    def run(self, argv: list[str]) -> tuple[int, str]:
        code, out, err = self._call(argv[1:])  # argv[0] names the client the command was written for
        return code, (out + err).strip()

    def whoami(self) -> str:
        args = ["whoami"] if self.client == "oc" else ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]
        code, out, err = self._call(args)
        if code != 0 or not out.strip():
            raise UsageError(f"{self.client} {' '.join(args[:2])} failed: log in to the cluster first "
                             f"({err.strip().splitlines()[-1] if err.strip() else f'exit {code}'})")
        return out.strip()
