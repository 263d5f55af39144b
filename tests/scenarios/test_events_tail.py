"""Event consumers: CloudEvents lines for shell pipelines, and the JSON Schema contract."""

import json
import os
import selectors
import subprocess
import sys
import time

from conftest import KEYCLOAK


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_tail_prints_every_event_as_a_cloudevent_in_log_order(keycloak):
    events = lines(keycloak("events tail").out)
    assert len(events) > 10
    positions = [int(e["sequence"]) for e in events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    for e in events:
        assert e["specversion"] == "1.0" and e["datacontenttype"] == "application/json"
        assert e["type"].startswith("dev.imagetrail.") and e["id"] == f"{e['subject']}/{e['data']['originator_version']}"
        assert e["time"] == e["data"]["timestamp"]
    moved = [e for e in events if e["type"] == "dev.imagetrail.ImageStream.TagMoved"]
    assert {e["data"]["actor"] for e in moved} == {"alice"}


def test_tail_filters_by_type_and_starts_where_asked(keycloak):
    everything = lines(keycloak("events tail").out)
    moved = lines(keycloak("events tail --type TagMoved").out)
    assert moved == [e for e in everything if e["type"].endswith(".TagMoved")]
    middle = everything[len(everything) // 2]
    assert lines(keycloak(f"events tail --from {middle['sequence']}").out) == everything[len(everything) // 2:]
    assert keycloak("events tail --from end").out == ""
    assert keycloak.fails("events tail --from yesterday").err.startswith('error: invalid --from "yesterday"')


def test_follow_prints_new_events_as_they_are_written(keycloak, store_url, tmp_path):
    env = {**os.environ, "IMAGETRAIL_STORE": store_url}
    # positions only grow: the next event's is beyond the last one's
    after_the_log = str(int(lines(keycloak("events tail").out)[-1]["sequence"]) + 1)
    follower = subprocess.Popen([sys.executable, "-m", "imagetrail", "events", "tail", "--follow", "--from",
                                 after_the_log, "--poll", "0.1", "--type", "TagMoved"], env=env, stdout=subprocess.PIPE,
                                text=True)
    try:
        time.sleep(1)
        keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
        ready = selectors.DefaultSelector()
        ready.register(follower.stdout, selectors.EVENT_READ)
        assert ready.select(timeout=60), "the follower printed nothing"
        event = json.loads(follower.stdout.readline())
        assert event["data"]["tag"] == "20" and event["data"]["change"] == "import"
    finally:
        follower.terminate()
        follower.wait(timeout=10)


def test_schema_describes_every_event_type_as_stored(keycloak):
    schemas = json.loads(keycloak("schema").out)
    assert "dev.imagetrail.ImageStream.TagMoved" in schemas and "dev.imagetrail.Deployment.RolledOut" in schemas
    for event in lines(keycloak("events tail").out):
        contract = schemas[event["type"]]
        assert contract["version"] == 1
        assert set(event["data"]) <= set(contract["schema"]["properties"]), event["type"]
        assert set(contract["schema"].get("required", [])) <= set(event["data"])
    assert list(json.loads(keycloak("schema RolledOut").out)) == ["dev.imagetrail.Deployment.RolledOut"]
    assert keycloak.fails("schema Nope").err.startswith('error: unknown event type "Nope"')
