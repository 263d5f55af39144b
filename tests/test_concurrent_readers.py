"""Readers and writers in separate OS processes on one store: no read ever fails, no write half-happens."""

import json
import subprocess
import sys
import time
from pathlib import Path

from imagetrail.engine.application import ImageTrail
from imagetrail.engine.resolver import Resolver
from imagetrail.engine.stores import parse_store
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
    moves = keycloak("history keycloak:20 -o json").json()
    movers = [m["actor"] for m in moves if m["actor"].startswith("writer-")]
    assert sorted(movers) == sorted(w["command"].split()[1] for w in succeeded)  # each success once, no failure

    app = ImageTrail(parse_store(store_url), Resolver())
    live = open_view(app.views_path)
    catch_up(app, live)
    rebuilt = open_view(str(tmp_path / "rebuilt.views.db"))
    rebuild(app, rebuilt)
    assert live.dump() == rebuilt.dump()
    print(f"{store_url.split(':')[0]}: {figures}, {len(succeeded)} writes succeeded")  # shown with pytest -s
