"""Audit queries: who moved which tag, from what to what, when, and what it rolled out."""

import json

from conftest import A, B, C, KEYCLOAK


def test_history_of_a_tag_lists_every_change_newest_first_with_actor_and_rollouts(keycloak):
    keycloak(f"--as bob tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak("--as carol tag --alias keycloak:20.0.2 keycloak:20")
    rows = json.loads(keycloak("history keycloak:20 -o json").out)
    assert [(r["change"], r["actor"], r["old_image"], r["new_image"]) for r in rows] == [
        ("alias-set", "carol", B, A), ("import", "bob", A, B), ("alias-set", "alice", None, A)]
    assert rows[0]["deployments"] == ["mykeycloak"] and rows[2]["deployments"] == []
    assert rows[0]["new_pull_spec"] == f"{KEYCLOAK}@{A}"
    assert rows[0]["position"] > rows[1]["position"] > rows[2]["position"]
    assert rows[0]["command"] == "imagetrail tag keycloak:20.0.2 keycloak:20"
    table = keycloak("history keycloak:20").out.splitlines()
    assert table[0].split() == ["REV", "POSITION", "TIME", "ACTOR", "CHANGE", "FROM", "TO", "DEPLOYMENTS", "COMMAND"]
    assert table[1].split()[3:8] == ["carol", "alias-set", B[:19], A[:19], "mykeycloak"]


def test_history_shows_alias_following_and_deletion(keycloak):
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20.0.2")  # 20 follows its source
    keycloak("tag -d keycloak:20.0.2")
    changes = [r["change"] for r in json.loads(keycloak("history keycloak:20.0.2 -o json").out)]
    assert changes == ["delete", "import", "import"]
    followed = json.loads(keycloak("history keycloak:20 -o json").out)[0]
    assert (followed["change"], followed["new_image"], followed["source"]) == ("alias-followed", C, "keycloak:20.0.2")
    assert followed["deployments"] == ["mykeycloak"]


def test_history_of_a_deployment_follows_each_change_back_to_its_tag_event(keycloak):
    keycloak(f"--as bob tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak("set triggers deployment/mykeycloak --manual")
    keycloak("--as dave set image deployment/mykeycloak keycloak=nginx:1.25")
    rows = json.loads(keycloak("history deployment/mykeycloak -o json").out)
    manual, triggered = rows[0], rows[1]
    assert (manual["cause"], manual["actor"], manual["new_image"]) == ("manual", "dave", "nginx:1.25")
    assert triggered["cause"] == "trigger" and triggered["new_image"] == f"{KEYCLOAK}@{B}"
    tag_event = json.loads(keycloak("history keycloak:20 -o json").out)[0]
    assert triggered["tag_event"]["position"] == tag_event["position"]
    assert triggered["tag_event"]["actor"] == "bob"
    assert triggered["correlation_id"] == tag_event["correlation_id"]  # same command
    assert "trigger keycloak:20 ← import @" in keycloak("history deployment/mykeycloak").out


def test_log_filters_by_actor_kind_object_tag_and_namespace(keycloak):
    keycloak(f"--as bob tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak(f"-n other --as bob tag {KEYCLOAK}:21.0.0 web:1")
    lines = [json.loads(line) for line in keycloak("log --actor bob -o json").out.splitlines()]
    assert lines and {r["actor"] for r in lines} == {"bob"} and {r["namespace"] for r in lines} == {"demo"}
    everywhere = [json.loads(line) for line in keycloak("log --actor bob -A -o json").out.splitlines()]
    assert {r["namespace"] for r in everywhere} == {"demo", "other"}
    kinds = {json.loads(line)["kind"] for line in keycloak("log --kind tag -o json").out.splitlines()}
    assert kinds and all(k.startswith("tag.") for k in kinds)
    imports = [json.loads(line) for line in keycloak("log --kind import -o json").out.splitlines()]
    assert {r["kind"] for r in imports} == {"tag.import"}
    rolled = [json.loads(line) for line in keycloak("log --deployment mykeycloak --kind rolled-out -o json")
              .out.splitlines()]
    assert [r["summary"].split(":")[0] for r in rolled] == ["revision 2"]  # revision 1 came with Created
    tagged = {json.loads(line)["tag"] for line in keycloak("log --tag keycloak:20 -o json").out.splitlines()}
    assert tagged == {"20"}
    assert len(keycloak("log --limit 3 -o json").out.splitlines()) == 3


def test_log_time_windows(keycloak):
    everything = keycloak("log -o json --limit 1000").out.splitlines()
    assert keycloak("log --since 1h -o json --limit 1000").out.splitlines() == everything
    assert keycloak("log --until 1h -o json").out == ""
    assert keycloak("log --since 2000-01-01T00:00:00Z -o json --limit 1000").out.splitlines() == everything
    assert keycloak.fails("log --since yesterday").err.startswith('error: invalid --since "yesterday"')


def test_history_of_unknown_objects_is_a_clear_error(keycloak):
    assert keycloak.fails("history nope:1").err == 'error: imagestreams.image.openshift.io "nope" not found\n'
    assert keycloak.fails("history deployment/nope").err == 'error: deployments.apps "nope" not found\n'
    assert keycloak.fails("history keycloak").err.startswith('error: "keycloak" is neither IS:TAG')
