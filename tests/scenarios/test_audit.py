"""Audit queries: who moved which tag, from what to what, when, and what it rolled out."""

import json

from conftest import A, B, C, KEYCLOAK


def items(result) -> list[dict]:
    """history and log -o json print one kubectl `kind: List`, as get does for several objects."""
    doc = json.loads(result.out)
    assert (doc["apiVersion"], doc["kind"]) == ("v1", "List")
    return doc["items"]


def test_history_of_a_tag_lists_every_change_newest_first_with_actor_and_rollouts(keycloak):
    keycloak(f"--as bob tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak("--as carol tag --alias keycloak:20.0.2 keycloak:20")
    rows = items(keycloak("history keycloak:20 -o json"))
    assert [(r["change"], r["actor"], (r["from"] or {}).get("image"), r["to"]["image"]) for r in rows] == [
        ("alias-set", "carol", B, A), ("import", "bob", A, B), ("alias-set", "alice", None, A)]
    assert rows[0]["deployments"] == ["mykeycloak"] and rows[2]["deployments"] == []
    assert rows[0]["to"]["dockerImageReference"] == f"{KEYCLOAK}@{A}"
    assert (rows[0]["namespace"], rows[0]["imageStream"], rows[0]["tag"]) == ("demo", "keycloak", "20")
    assert rows[0]["position"] > rows[1]["position"] > rows[2]["position"]
    assert rows[0]["command"] == "imagetrail tag keycloak:20.0.2 keycloak:20"
    table = keycloak("history keycloak:20").out.splitlines()
    assert table[0].split() == ["REV", "POSITION", "TIME", "ACTOR", "CHANGE", "FROM", "TO", "DEPLOYMENTS", "COMMAND"]
    assert table[1].split()[3:8] == ["carol", "alias-set", B[:19], A[:19], "mykeycloak"]


def test_history_shows_alias_following_and_deletion(keycloak):
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20.0.2")  # 20 follows its source
    keycloak("tag -d keycloak:20.0.2")
    changes = items(keycloak("history keycloak:20.0.2 -o json"))
    assert [r["change"] for r in changes] == ["delete", "import", "import"]
    assert changes[0]["to"] is None and changes[0]["from"]["image"] == C
    followed = items(keycloak("history keycloak:20 -o json"))[0]
    assert (followed["change"], followed["to"]["image"], followed["source"]) == ("alias-followed", C, "keycloak:20.0.2")
    assert followed["deployments"] == ["mykeycloak"]


def test_history_of_a_deployment_follows_each_change_back_to_its_tag_event(keycloak):
    keycloak(f"--as bob tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak("set triggers deployment/mykeycloak --manual")
    keycloak("--as dave set image deployment/mykeycloak keycloak=nginx:1.25")
    rows = items(keycloak("history deployment/mykeycloak -o json"))
    manual, triggered = rows[0], rows[1]
    assert (manual["cause"]["kind"], manual["actor"], manual["image"]) == ("manual", "dave", "nginx:1.25")
    assert manual["previousImage"] == f"{KEYCLOAK}@{B}" and manual["cause"]["tagChange"] is None
    assert triggered["cause"]["kind"] == "trigger" and triggered["image"] == f"{KEYCLOAK}@{B}"
    assert (triggered["cause"]["imageStream"], triggered["cause"]["tag"]) == ("demo/keycloak", "20")
    tag_event = items(keycloak("history keycloak:20 -o json"))[0]
    assert triggered["cause"]["tagChange"]["position"] == tag_event["position"]
    assert triggered["cause"]["tagChange"]["actor"] == "bob"
    assert triggered["correlationId"] == tag_event["correlationId"]  # same command
    assert "trigger keycloak:20 ← import @" in keycloak("history deployment/mykeycloak").out


def test_log_filters_by_actor_kind_object_tag_and_namespace(keycloak):
    keycloak(f"--as bob tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak(f"-n other --as bob tag {KEYCLOAK}:21.0.0 web:1")
    lines = items(keycloak("log --actor bob -o json"))
    assert lines and {r["actor"] for r in lines} == {"bob"} and {r["namespace"] for r in lines} == {"demo"}
    everywhere = items(keycloak("log --actor bob -A -o json"))
    assert {r["namespace"] for r in everywhere} == {"demo", "other"}
    kinds = {r["kind"] for r in items(keycloak("log --kind tag -o json"))}
    assert kinds and all(k.startswith("tag.") for k in kinds)
    imports = items(keycloak("log --kind import -o json"))
    assert {r["kind"] for r in imports} == {"tag.import"}
    rolled = items(keycloak("log --deployment mykeycloak --kind rolled-out -o json"))
    assert [r["summary"].split(":")[0] for r in rolled] == ["revision 2"]  # revision 1 came with Created
    tagged = {r["tag"] for r in items(keycloak("log --tag keycloak:20 -o json"))}
    assert tagged == {"20"}
    assert len(items(keycloak("log --limit 3 -o json"))) == 3


def test_log_time_windows(keycloak):
    everything = items(keycloak("log -o json --limit 1000"))
    assert everything and items(keycloak("log --since 1h -o json --limit 1000")) == everything
    assert items(keycloak("log --until 1h -o json")) == []
    assert items(keycloak("log --since 2000-01-01T00:00:00Z -o json --limit 1000")) == everything
    assert keycloak.fails("log --since yesterday").err.startswith('error: invalid --since "yesterday"')


def test_history_of_unknown_objects_is_a_clear_error(keycloak):
    assert keycloak.fails("history nope:1").err == 'error: imagestreams.image.openshift.io "nope" not found\n'
    assert keycloak.fails("history deployment/nope").err == 'error: deployments.apps "nope" not found\n'
    assert keycloak.fails("history keycloak").err.startswith('error: "keycloak" is neither IS:TAG')
