"""Scenario tests run imagetrail the way users do: command lines, in-process, on a real store."""

from __future__ import annotations

import json
import shlex
import sqlite3
from dataclasses import dataclass

import pytest

from imagetrail.cli.main import main

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64
KEYCLOAK = "quay.io/keycloak/keycloak"
SNAPSHOT = {f"{KEYCLOAK}:20.0.2": A, f"{KEYCLOAK}:20.0.3": B, f"{KEYCLOAK}:21.0.0": C}


@dataclass
class Result:
    out: str
    err: str
    code: int

    def json(self):
        return json.loads(self.out)


class Imagetrail:
    """`imagetrail <args>` against one store; returns stdout, stderr and the exit code."""

    def __init__(self, capsys, db_path):
        self.capsys = capsys
        self.db_path = db_path

    def __call__(self, command: str, *, ok: bool = True) -> Result:
        self.capsys.readouterr()
        code = 0
        try:
            main(shlex.split(command))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        captured = self.capsys.readouterr()
        result = Result(captured.out, captured.err, code)
        if ok and code != 0:
            raise AssertionError(f"imagetrail {command} failed ({code}): {result.err}")
        return result

    def fails(self, command: str) -> Result:
        result = self(command, ok=False)
        assert result.code != 0, f"imagetrail {command} should have failed"
        assert "Traceback" not in result.err
        return result

    def event_count(self) -> int:
        with sqlite3.connect(self.db_path) as db:
            try:
                return db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
            except sqlite3.OperationalError:  # no table yet: nothing was ever written
                return 0

    def stream(self, name: str = "keycloak") -> dict:
        return self(f"get is {name} -o json").json()

    def history(self, tag: str, stream: str = "keycloak") -> list[str]:
        for entry in self.stream(stream)["status"].get("tags", []):
            if entry["tag"] == tag:
                return [item["image"] for item in entry["items"]]
        return []

    def image(self, deployment: str = "mykeycloak", container: str = "keycloak") -> str:
        doc = self(f"get deployment {deployment} -o json").json()
        return next(c["image"] for c in doc["spec"]["template"]["spec"]["containers"] if c["name"] == container)


@pytest.fixture
def snapshot_file(tmp_path):
    path = tmp_path / "mirror.json"
    path.write_text(json.dumps(SNAPSHOT))
    return path


@pytest.fixture
def imagetrail(capsys, tmp_path, monkeypatch, snapshot_file) -> Imagetrail:
    db = tmp_path / "store.db"
    monkeypatch.setenv("IMAGETRAIL_STORE", f"sqlite:///{db}")
    monkeypatch.setenv("IMAGETRAIL_MIRROR", str(snapshot_file))
    monkeypatch.setenv("IMAGETRAIL_NAMESPACE", "demo")
    monkeypatch.setenv("IMAGETRAIL_ACTOR", "alice")
    return Imagetrail(capsys, db)


@pytest.fixture
def keycloak(imagetrail) -> Imagetrail:
    """The lecture's starting point: 20.0.2 and 20.0.3 imported, lookup on, 20 → 20.0.2,
    Deployment mykeycloak created from keycloak:20 with an automatic trigger."""
    imagetrail(f"create istag keycloak:20.0.2 --from-image {KEYCLOAK}:20.0.2")
    imagetrail(f"import-image keycloak:20.0.3 --from {KEYCLOAK}:20.0.3 --confirm")
    imagetrail("set image-lookup keycloak")
    imagetrail("tag --alias keycloak:20.0.2 keycloak:20")
    imagetrail("create deployment mykeycloak --image keycloak:20")
    imagetrail("set triggers deployment/mykeycloak --from-image keycloak:20 --containers keycloak")
    return imagetrail
