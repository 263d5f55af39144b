"""`events tail --follow` on Kafka is pushed by the broker's long poll: a commit shows within a second."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time

from test_kafka_store import new_topic, run_cli


def test_events_tail_follow_prints_a_commit_within_a_second(kafka_bootstrap, tmp_path):
    store = f"kafka://{kafka_bootstrap}/{new_topic()}"
    env = {**os.environ, "IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / "writer")}
    assert run_cli("--store", store, "tag", f"quay.io/a/b@sha256:{1:064x}", "b:1", env=env).returncode == 0
    follower = subprocess.Popen([sys.executable, "-m", "imagetrail", "--store", store, "events", "tail", "--follow",
                                 "--poll", "30"],  # the longest wait: a push must come well before it
                                env={**os.environ, "IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / "follower")},
                                stdout=subprocess.PIPE, text=True)
    try:
        lines = selectors.DefaultSelector()
        lines.register(follower.stdout, selectors.EVENT_READ)

        def next_line(within: float) -> str:
            assert lines.select(timeout=within), f"no event within {within}s"
            return follower.stdout.readline()

        while "b:1" not in next_line(30):
            pass  # the history so far
        time.sleep(1)
        assert run_cli("--store", store, "tag", f"quay.io/a/b@sha256:{2:064x}", "b:2", env=env).returncode == 0
        committed = time.monotonic()
        event = json.loads(next_line(5))
        assert time.monotonic() - committed < 1.0
        assert event["type"].startswith("dev.imagetrail.ImageStream")
    finally:
        follower.terminate()
        follower.wait(timeout=30)
