"""Readers and writers in separate OS processes on one store: no read ever fails, no write half-happens."""

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.settings import Settings
from imagetrail.projections.runner import catch_up, rebuild
from imagetrail.projections.views import open_view

HERE = Path(__file__).parent
WRITERS, READERS, MOVES = 6, 2, 12


def test_two_readers_never_fail_while_six_writers_move_one_tag(keycloak, store_url, tmp_path):
    stop = tmp_path / "writers-done"
    readers = [subprocess.Popen([sys.executable, str(HERE / "race_worker.py"), "reader", str(r), str(stop)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(READERS)]
    writers = [subprocess.Popen([sys.executable, str(HERE / "race_worker.py"), "writer", str(w), str(MOVES)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(WRITERS)]
    started = time.monotonic()
    writes = []
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        writes += [json.loads(line) for line in out.splitlines()]
    stop.touch()
    reads = []
    for reader in readers:
        out, err = reader.communicate(timeout=120)
        assert reader.returncode == 0, err
        reads += [json.loads(line) for line in out.splitlines()]
    figures = f"{len(writes)} writes, {len(reads)} reads in {time.monotonic() - started:.1f}s"

    assert len(writes) == WRITERS * MOVES
    assert len(reads) >= 2 * READERS, "the readers should have overlapped the writers"
    failed_reads = [r for r in reads if r["code"] != 0]
    assert failed_reads == [], f"{len(failed_reads)} of {len(reads)} reads failed, e.g. {failed_reads[0]}"
    for w in writes:  # done, or lost the race cleanly: one error line saying so, exit 1
        assert w["code"] == 0 or (w["code"] == 1 and w["err"].count("\n") == 1 and w["err"].startswith("error: ")
                                  and w["err"].endswith("nothing was written, retry the command\n")), w
    succeeded = [w for w in writes if w["code"] == 0]
    assert succeeded, "no write got through"

    assert keycloak("verify").out.startswith("ok")
    moves = keycloak("history keycloak:20 -o json").json()["items"]
    movers = [m["actor"] for m in moves if m["actor"].startswith("writer-")]
    assert sorted(movers) == sorted(w["command"].split()[1] for w in succeeded)  # each success once, no failure

    app = ImageTrail(parse_store(Settings(store=store_url)), Resolver())
    live = open_view(app.views_path)
    catch_up(app, live)
    rebuilt = open_view(str(tmp_path / "rebuilt.views.db"))
    rebuild(app, rebuilt)
    assert live.dump() == rebuilt.dump()
    print(f"{store_url.split(':')[0]}: {figures}, {len(succeeded)} writes succeeded")  # shown with pytest -s


@pytest.mark.sqlite_only
def test_a_read_of_a_current_view_does_not_wait_for_a_writer(keycloak, tmp_path):
    """WAL readers never wait: opening the store and its views takes no write lock when
    there is nothing to create, so a long write (a big import -f) does not hold reads up."""
    keycloak("get is keycloak")  # the view is current
    locks = [sqlite3.connect(tmp_path / name, isolation_level=None) for name in ("store.db", "store.views.db")]
    for db in locks:
        db.execute("BEGIN IMMEDIATE")  # a writer in the middle of its transaction, on both files
    try:
        for command in (["get", "is", "keycloak", "-o", "json"], ["history", "keycloak:20"], ["events", "tail"]):
            read = subprocess.run([sys.executable, "-m", "imagetrail", *command], capture_output=True, text=True,
                                  timeout=20)  # the busy timeout is 30s: waiting for the lock fails here
            assert read.returncode == 0, read.stderr
    finally:
        for db in locks:
            db.execute("ROLLBACK")
            db.close()
