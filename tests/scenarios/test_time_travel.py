"""--at: ask the past the questions you ask the present, with the same output."""

import json
import time

from conftest import KEYCLOAK

READS = ["get is keycloak -o json", "get istag keycloak:20 -o json", "get deployment mykeycloak -o json",
         "describe is keycloak", "set triggers deployment/mykeycloak", "rollout history deployment/mykeycloak",
         "get deployment -o wide"]


def position(it) -> int:
    return json.loads(it("log --limit 1 -o json").out)["items"][0]["position"]


def capture(it) -> dict[str, str]:
    return {read: it(read).out for read in READS}


def without_ages(text: str) -> str:
    """Ages are measured from the asked moment, which differs from 'now' by a few ms."""
    return "\n".join(line for line in text.splitlines() if " ago" not in line and "AGE" not in line
                     and not line.startswith("mykeycloak "))


def test_every_read_answers_as_it_would_have_then(keycloak):
    snapshots = [(position(keycloak), capture(keycloak))]
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    snapshots.append((position(keycloak), capture(keycloak)))
    keycloak("rollout pause deployment/mykeycloak")
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20")
    snapshots.append((position(keycloak), capture(keycloak)))
    keycloak("set triggers deployment/mykeycloak --manual")
    keycloak("tag --alias keycloak:20.0.2 keycloak:20")
    for at, then in snapshots:
        for read in READS:
            past = keycloak(f"{read} --at {at}").out
            assert without_ages(past) == without_ages(then[read]), (at, read)


def test_a_position_inside_a_command_reads_the_whole_command(keycloak):
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")  # tag move, then trigger reaction and rollout: one command
    after = keycloak("get deployment mykeycloak -o json").out
    tag_moved = json.loads(keycloak("history keycloak:20 -o json").out)["items"][0]["position"]
    assert tag_moved < position(keycloak)
    assert keycloak(f"get deployment mykeycloak -o json --at {tag_moved}").out == after


def test_at_a_time(keycloak):
    then = keycloak("get deployment mykeycloak -o json").out
    time.sleep(1.1)
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    time.sleep(1.1)
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    assert keycloak(f"get deployment mykeycloak -o json --at {moment}").out == then
    assert keycloak("get deployment mykeycloak -o json --at 0s").out == keycloak("get deployment mykeycloak -o json").out


def test_objects_that_did_not_exist_yet_are_not_found(keycloak):
    first = position(keycloak)
    keycloak("create deployment later --image nginx:1.25")
    assert keycloak.fails(f"get deployment later --at {first}").err == 'error: deployments.apps "later" not found\n'
    names = [d["metadata"]["name"] for d in keycloak(f"get deployment -o json --at {first}").json()["items"]]
    assert names == ["mykeycloak"]
    assert keycloak.fails("set triggers deployment/mykeycloak --auto --at 1").err == \
        "error: --at only reads the past: drop it to change triggers\n"
