"""Rollback: move a tag back by new events; the plan printed first is exactly what happens."""

import json

from conftest import A, B, C, KEYCLOAK


def plan(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  ")]


def test_rollback_by_steps_moves_the_tag_and_the_deployment_back(keycloak):
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    assert keycloak.image() == f"{KEYCLOAK}@{B}"
    dry = keycloak("rollback keycloak:20 --steps 1 --dry-run")
    assert dry.out.rstrip().endswith("(dry run: nothing was written)")
    assert keycloak.image() == f"{KEYCLOAK}@{B}"  # the dry run wrote nothing
    done = keycloak('--as carol rollback keycloak:20 --steps 1 --reason "20.0.3 breaks login"')
    assert plan(done.out) == plan(dry.out)      # the plan is what happened
    assert plan(done.out) == [
        f"tag keycloak:20 (rollback): {KEYCLOAK}@{B} → {KEYCLOAK}@{A}",
        f"deployment/mykeycloak: rolls out revision 3 (keycloak={KEYCLOAK}@{A})"]
    assert keycloak.image() == f"{KEYCLOAK}@{A}"
    assert keycloak.history("20") == [A, B, A]  # appended, never rewritten
    last = json.loads(keycloak("history keycloak:20 -o json").out)["items"][0]
    assert (last["change"], last["actor"], last["reason"], last["deployments"]) == \
        ("rollback", "carol", "20.0.3 breaks login", ["mykeycloak"])


def test_rollback_pins_the_digest_so_automation_cannot_move_it_forward(keycloak):
    keycloak(f"tag --scheduled {KEYCLOAK}:21.0.0 keycloak:20")
    out = keycloak("rollback keycloak:20 --steps 1").out
    assert "scheduled import of keycloak:20 is switched off" in out
    spec = next(t for t in keycloak.stream()["spec"]["tags"] if t["name"] == "20")
    assert spec["from"] == {"kind": "DockerImage", "name": f"{KEYCLOAK}@{A}"}
    assert "scheduled" not in spec["importPolicy"]
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20.0.2")  # the old alias source moves: 20 no longer follows
    assert keycloak.history("20")[0] == A


def test_rollback_to_a_position_and_to_a_time(keycloak):
    position = json.loads(keycloak("history keycloak:20 -o json").out)["items"][0]["position"]
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20")
    keycloak(f"rollback keycloak:20 --to-position {position}")
    assert keycloak.image() == f"{KEYCLOAK}@{A}"
    keycloak("rollback keycloak:20 --to-time 0s")  # now: the head it has now, so nothing to do
    assert "already points to" in keycloak("rollback keycloak:20 --to-time 0s").out
    assert keycloak.history("20")[0] == A


def test_the_plan_names_paused_and_manual_deployments(keycloak):
    keycloak("create deployment paused --image keycloak:20")
    keycloak("set triggers deployment/paused --from-image keycloak:20 --containers keycloak")
    keycloak("create deployment manual --image keycloak:20")
    keycloak("set triggers deployment/manual --from-image keycloak:20 --containers keycloak")
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak("rollout pause deployment/paused")
    keycloak("set triggers deployment/manual --manual")
    lines = plan(keycloak("rollback keycloak:20 --steps 1 --dry-run").out)
    assert f"deployment/paused: template only (keycloak={KEYCLOAK}@{A}); the Deployment is paused and rolls " \
           "out on resume" in lines
    assert "deployment/manual: unchanged (its trigger on keycloak:20 is manual)" in lines
    assert any(line.startswith("deployment/mykeycloak: rolls out revision") for line in lines)
    real = plan(keycloak("rollback keycloak:20 --steps 1").out)
    assert real == lines
    assert keycloak.image("paused") == f"{KEYCLOAK}@{A}" and keycloak.image("manual") == f"{KEYCLOAK}@{B}"


def test_rollback_also_moves_aliases_that_follow(keycloak):
    keycloak("tag --alias keycloak:20.0.3 keycloak:stable")
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20.0.3")
    lines = plan(keycloak("rollback keycloak:20.0.3 --steps 1").out)
    assert lines[1] == f"tag keycloak:stable (follows as an alias): {KEYCLOAK}@{C} → {KEYCLOAK}@{B}"


def test_rollback_refuses_what_it_cannot_do_and_writes_nothing(keycloak):
    before = keycloak.event_count()
    assert keycloak.fails("rollback keycloak:20 --steps 5").err.startswith("error: keycloak:20 has only 0 earlier")
    assert keycloak.fails("rollback keycloak:20").err == \
        "error: give exactly one of --to-position, --to-time, --steps or --to-revision\n"
    assert keycloak.fails("rollback keycloak:20 --to-position 1").err.startswith(
        "error: keycloak:20 had no image at position 1")
    assert keycloak.fails("rollback nope:1 --steps 1").err == \
        'error: imagestreams.image.openshift.io "nope" not found\n'
    assert keycloak.event_count() == before


def test_rollback_all_restores_every_tag_of_the_namespace_in_one_command(keycloak):
    position = json.loads(keycloak("log --limit 1 -o json").out)["items"][0]["position"]
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20.0.3")
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20")
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:new")  # did not exist then
    out = keycloak(f"rollback --all --to-position {position}").out
    assert "Tag keycloak:new had no image then; left as it is." in out
    assert keycloak.history("20.0.3")[0] == B and keycloak.history("20")[0] == A
    assert keycloak.history("new") == [C]
    assert keycloak.image() == f"{KEYCLOAK}@{A}"
    moves = json.loads(keycloak("history keycloak:20 -o json").out)["items"][0], \
        json.loads(keycloak("history keycloak:20.0.3 -o json").out)["items"][0]
    assert moves[0]["correlationId"] == moves[1]["correlationId"]  # one atomic command
    assert keycloak.fails("rollback --all --steps 1").err.startswith("error: --all needs --to-time or --to-position")


def test_restore_spec_puts_the_alias_back_and_resolves_it_now(keycloak):
    position = json.loads(keycloak("log --limit 1 -o json").out)["items"][0]["position"]
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")          # 20 is no longer an alias
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20.0.2")      # and its old source has moved since
    out = keycloak(f"rollback keycloak:20 --restore-spec --to-position {position}").out
    assert f"it resolves now to {KEYCLOAK}@{C}" in out
    spec = next(t for t in keycloak.stream()["spec"]["tags"] if t["name"] == "20")
    assert spec["from"] == {"kind": "ImageStreamTag", "name": "keycloak:20.0.2"}
    assert keycloak.history("20")[0] == C and keycloak.image() == f"{KEYCLOAK}@{C}"
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20.0.2")      # it follows again
    assert keycloak.image() == f"{KEYCLOAK}@{B}"


def test_rollback_to_a_revision_and_the_plan_names_deployments_without_a_trigger(keycloak):
    keycloak(f"create deployment pinned --image {KEYCLOAK}@{A}")  # runs the image, follows nothing
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20")
    revs = [r["revision"] for r in json.loads(keycloak("history keycloak:20 -o json").out)["items"]]
    assert revs == [3, 2, 1]
    out = keycloak("rollback keycloak:20 --to-revision 2 --dry-run").out
    assert f"{KEYCLOAK}@{C} → {KEYCLOAK}@{B}" in out
    keycloak(f"tag {KEYCLOAK}:20.0.2 keycloak:x")  # (another tag, untouched)
    keycloak("rollback keycloak:20 --to-revision 1")
    assert keycloak.image() == f"{KEYCLOAK}@{A}"
    lines = plan(keycloak("rollback keycloak:20 --steps 1 --dry-run").out)
    assert f"deployment/pinned: unchanged (no trigger follows keycloak:20; it keeps running {KEYCLOAK}@{A})" in lines
