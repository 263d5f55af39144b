"""A second front end can call every use case without the CLI: the lecture workflow and a rollback
through the service layer alone, in a fresh interpreter that never imports click."""

import json
import subprocess
import sys
from pathlib import Path

from conftest import A, B, KEYCLOAK

FRONT_END = Path(__file__).parent / "service_front_end.py"


def test_the_lecture_workflow_and_a_rollback_through_the_service_layer_alone(tmp_path):
    ran = subprocess.run([sys.executable, str(FRONT_END), str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert data["modules"] == []  # neither click nor imagetrail.cli was imported

    steps = data["steps"]
    assert (steps["create istag"]["stream"], steps["create istag"]["tag"]) == ("keycloak", "20.0.2")
    assert steps["set image-lookup"]["updated"] == ["keycloak"]
    assert steps["tag --alias"]["changes"] == [
        {"namespace": "shop", "stream": "keycloak", "tag": "20", "source": "keycloak:20.0.2", "mode": "alias"}]
    assert [(name, steps[name]["action"]) for name in ("create deployment", "set triggers", "rollout pause",
                                                        "rollout resume")] == [
        ("create deployment", "created"), ("set triggers", "triggers updated"), ("rollout pause", "paused"),
        ("rollout resume", "resumed")]
    moved = steps["tag 20.0.3"]
    assert moved["changes"][0]["mode"] == "set" and moved["rollouts"] == [{"deployment": "mykeycloak", "revision": 2}]

    plan, executed = data["plan"], data["executed"]
    assert plan["dry_run"] and not executed["dry_run"]
    assert [(t["tag"], t["from_image"], t["to_image"]) for t in plan["plan"]["tags"]] == [("20", B, A)]
    [fate] = plan["plan"]["deployments"]
    assert (fate["deployment"], fate["fate"], fate["trigger"]["mode"], fate["revision"]) == \
        ("mykeycloak", "rolls-out", "auto", 3)
    assert {**executed, "dry_run": True} == plan  # what was planned is what ran
    assert executed["rollouts"] == [{"deployment": "mykeycloak", "revision": 3}]
    assert data["image"] == f"{KEYCLOAK}@{A}"
