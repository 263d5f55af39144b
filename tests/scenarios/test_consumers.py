"""Consumers: resume where they stopped, without loss or duplicates, even after kill -9."""

import json
import os
import random
import signal
import subprocess
import sys

import pytest
from conftest import KEYCLOAK

from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.settings import Settings
from imagetrail.projections.consumers import Consumer


def expected_ids(it) -> list[str]:
    events = [json.loads(line) for line in it("events tail").out.splitlines()]
    return [f"{e['source']}#{e['id']}" for e in events if e["type"].endswith((".TagMoved", ".RolledOut"))]


def written_ids(path) -> list[str]:
    return [line[line.rfind("[") + 1:-1] for line in path.read_text().splitlines()]


def test_the_notifier_writes_one_line_per_move_and_rollout_and_resumes(keycloak, tmp_path):
    out = tmp_path / "changes.txt"
    keycloak(f"events notify --file {out}")
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak(f"events notify --file {out}")
    assert written_ids(out) == expected_ids(keycloak)
    lines = out.read_text().splitlines()
    assert "alice: demo/keycloak:20 → quay.io/keycloak/keycloak@sha256:" in lines[-2]
    assert "deployment demo/mykeycloak rolled out revision 2" in lines[-1]


def test_a_notifier_killed_mid_stream_resumes_without_loss_or_duplicate(keycloak, store_url, tmp_path):
    for i in range(40):
        keycloak(f"tag {KEYCLOAK}@sha256:{i:064x} keycloak:20")  # 40 moves, 40 rollouts
    out = tmp_path / "changes.txt"
    env = {**os.environ, "IMAGETRAIL_STORE": store_url}
    kills = 0
    for _ in range(8):  # kill it mid-stream, again and again ...
        runner = subprocess.Popen([sys.executable, "-m", "imagetrail", "events", "notify", "--file", str(out),
                                   "--pace", "0.02"], env=env)
        try:
            runner.wait(timeout=random.uniform(0.6, 1.2))
            break
        except subprocess.TimeoutExpired:
            runner.send_signal(signal.SIGKILL)
            runner.wait()
            kills += 1
    finished = subprocess.run([sys.executable, "-m", "imagetrail", "events", "notify", "--file", str(out)],
                              env=env, timeout=300)  # ... then let it finish
    assert finished.returncode == 0
    assert kills >= 1, "the notifier should have been killed mid-stream at least once"
    assert written_ids(out) == expected_ids(keycloak)  # every line, once, in log order


class CountingConsumer(Consumer):
    """Keeps its side effect in its own database: exactly once with the position."""

    types = (ImageStream.TagMoved,)
    fail_at: int | None = None

    def __init__(self, path):
        super().__init__(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS moves (id TEXT PRIMARY KEY, tag TEXT)")

    def on_TagMoved(self, event, position):  # noqa: N802
        self.db.execute("INSERT INTO moves VALUES (?, ?)", (self.event_id(event), event.tag))
        if position == self.fail_at:
            raise RuntimeError("crash after the side effect, before the position is saved")


def test_a_side_effect_in_the_consumers_database_is_exactly_once(store_url, tmp_path):
    app = ImageTrail(parse_store(Settings(store=store_url)), Resolver())
    for i in range(5):
        app.tag("demo", f"{KEYCLOAK}@sha256:{i:064x}", ["keycloak:20"])
    consumer = CountingConsumer(str(tmp_path / "consumer.db"))
    consumer.fail_at = app.recorder.max_notification_id()  # the last move fails midway
    with pytest.raises(RuntimeError):
        consumer.run(app)
    assert consumer.db.execute("SELECT COUNT(*) FROM moves").fetchone()[0] == 4  # the failed one rolled back
    consumer.fail_at = None
    consumer.run(app)
    assert consumer.db.execute("SELECT COUNT(*) FROM moves").fetchone()[0] == 5
    assert consumer.run(app) == 0  # nothing new: nothing processed
