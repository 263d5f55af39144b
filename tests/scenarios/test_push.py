"""Push subscriptions on the embedded store: the library's subscription contract on imagetrail's
SQLite recorder, and a follower that gets a commit from another process within a second."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

from eventsourcing.tests.persistence import ApplicationRecorderTestCase

from imagetrail.engine.adapters.sqlite import ChainedSQLiteApplicationRecorder, open_datastore


class TestSQLiteSubscriptions(ApplicationRecorderTestCase):
    EXPECT_CONTIGUOUS_NOTIFICATION_IDS = False  # not asserted here: the contract below is what counts

    def setUp(self) -> None:
        import tempfile

        self.dir = tempfile.mkdtemp(prefix="imagetrail-push-")

    def create_recorder(self):
        recorder = ChainedSQLiteApplicationRecorder(open_datastore(f"{self.dir}/{uuid.uuid4().hex}.db"))
        recorder.create_table()
        return recorder

    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()

    # only the subscription contract here: the rest of the library's suite is about inserts
    test_insert_select = test_concurrent_no_conflicts = test_concurrent_throughput = test_performance = None


def test_a_follower_gets_another_processes_commit_within_a_second(tmp_path):
    path = tmp_path / "store.db"
    recorder = ChainedSQLiteApplicationRecorder(open_datastore(path))
    recorder.create_table()
    writer = f"""
import time, uuid
from eventsourcing.persistence import StoredEvent
from imagetrail.engine.adapters.sqlite import ChainedSQLiteApplicationRecorder, open_datastore
recorder = ChainedSQLiteApplicationRecorder(open_datastore({str(path)!r}))
time.sleep(1.0)
print(time.time(), flush=True)
recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "topic", b"{{}}")])
"""
    with recorder.subscribe(gt=recorder.max_notification_id() or 0) as subscription:
        proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True,
                                env={**os.environ})
        notification = next(subscription)
        received = time.time()
        committed_before = float(proc.stdout.readline())
        proc.wait(timeout=30)
    assert notification.topic == "topic"
    assert received - committed_before < 1.0
