"""`rollback -o oc|patch`: the commands that apply a rollback plan to a real cluster (issue 13 §4)."""

import json
import os
import shlex

import pytest
from conftest import A, B, C, KEYCLOAK


def moved_forward(keycloak):
    """keycloak:20 was 20.0.2 (A) through its alias, then moved to 20.0.3 (B) by digest."""
    keycloak(f"tag --reference-policy=local {KEYCLOAK}@{B} keycloak:20")
    keycloak("tag --alias keycloak:20 keycloak:stable")


def test_rollback_prints_the_oc_tag_that_pins_the_digest_on_the_cluster(keycloak):
    moved_forward(keycloak)
    lines = keycloak("rollback keycloak:20 --steps 1 --dry-run -o oc").out.splitlines()
    # one command: the alias keycloak:stable and the Deployment follow on the cluster by themselves
    assert [shlex.split(line) for line in lines] == [
        ["oc", "tag", f"{KEYCLOAK}@{A}", "keycloak:20", "-n", "demo", "--reference-policy=local"]]
    assert keycloak("get istag keycloak:20 -o jsonpath={.image.metadata.name}").out == B  # a dry run: nothing moved


def test_rollback_prints_the_same_change_as_a_strategic_merge_patch(keycloak):
    moved_forward(keycloak)
    line = keycloak("rollback keycloak:20 --steps 1 --dry-run -o patch").out.strip()
    argv = shlex.split(line)
    assert argv[:8] == ["kubectl", "patch", "imagestream", "keycloak", "-n", "demo", "--type", "strategic"]
    assert json.loads(argv[-1]) == {"spec": {"tags": [{
        "name": "20", "from": {"kind": "DockerImage", "name": f"{KEYCLOAK}@{A}"},
        "importPolicy": {"scheduled": False, "insecure": False, "importMode": "Legacy"},
        "referencePolicy": {"type": "Local"}}]}}


def test_a_real_rollback_with_oc_output_records_it_and_prints_the_commands(keycloak):
    moved_forward(keycloak)
    out = keycloak("rollback keycloak:20 --steps 1 --reason incident -o oc").out
    assert shlex.split(out)[:5] == ["oc", "tag", f"{KEYCLOAK}@{A}", "keycloak:20", "-n"]
    assert keycloak("get istag keycloak:20 -o jsonpath={.image.metadata.name}").out == A


def test_nothing_to_roll_back_prints_no_command_and_restore_spec_is_refused(keycloak):
    keycloak(f"tag {KEYCLOAK}@{A} keycloak:20")
    assert keycloak(f"rollback keycloak:20 --to-revision 1 --dry-run -o oc").out == ""
    refused = keycloak.fails("rollback keycloak:20 --restore-spec --to-position 1 -o oc")
    assert refused.err == "error: -o oc prints a rollback to a digest; --restore-spec is not supported with it\n"


FAKE_OC = """#!/bin/sh
# a throwaway oc: records its arguments, answers get/whoami from files, runs nothing
printf '%s\\n' "$*" >> "$FAKE_OC_DIR/calls"
case "$1" in
  whoami) echo "alice@cluster" ;;
  get) cat "$FAKE_OC_DIR/object.json" ;;
  tag) if [ -e "$FAKE_OC_DIR/fail" ]; then echo 'Error from server (Forbidden): imagestreamtags is forbidden' >&2; exit 1; fi
       echo "Tag $3 set to $2." ;;
  *) exit 2 ;;
esac
"""


@pytest.fixture
def fake_oc(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "oc").write_text(FAKE_OC)
    (bin_dir / "oc").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_OC_DIR", str(tmp_path))
    return tmp_path


def calls(fake_oc) -> list[list[str]]:
    path = fake_oc / "calls"
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def test_apply_checks_the_cluster_runs_the_commands_and_records_them(keycloak, fake_oc):
    moved_forward(keycloak)
    (fake_oc / "object.json").write_text(keycloak("get is keycloak -o json").out)  # the cluster is as imagetrail has it
    out = keycloak("rollback keycloak:20 --steps 1 --apply --reason incident").out
    assert calls(fake_oc) == [["get", "imagestream", "keycloak", "-n", "demo", "-o", "json"], ["whoami"],
                              ["tag", f"{KEYCLOAK}@{A}", "keycloak:20", "-n", "demo", "--reference-policy=local"]]
    assert f"Ran on the cluster as alice@cluster: oc tag {KEYCLOAK}@{A} keycloak:20 -n demo" in out
    assert keycloak("get istag keycloak:20 -o jsonpath={.image.metadata.name}").out == A
    applied = [e for e in keycloak("log -o json").json()["items"] if e["kind"] == "imagestream.applied-to-cluster"]
    assert len(applied) == 1 and applied[0]["summary"].startswith("ran on the cluster as alice@cluster: oc tag ")
    assert applied[0]["summary"].endswith("(exit 0)") and applied[0]["reason"] == "incident"


def test_apply_refuses_on_drift_and_changes_nothing(keycloak, fake_oc):
    moved_forward(keycloak)
    cluster = keycloak("get is keycloak -o json").json()
    entry = next(t for t in cluster["status"]["tags"] if t["tag"] == "20")
    entry["items"].insert(0, {**entry["items"][0], "image": C})  # someone moved it on the cluster since
    (fake_oc / "object.json").write_text(json.dumps(cluster))
    count = keycloak.event_count()
    refused = keycloak.fails("rollback keycloak:20 --steps 1 --apply")
    assert refused.err.startswith("error: the cluster is not where imagetrail's plan starts, nothing was changed: "
                                  f"imagestream demo/keycloak: tag 20 is at {C} on the cluster, imagetrail has {B}")
    assert refused.err.count("\n") == 1
    assert [c[0] for c in calls(fake_oc)] == ["get"] and keycloak.event_count() == count


def test_a_command_the_cluster_refuses_is_recorded_and_moves_nothing_here(keycloak, fake_oc):
    moved_forward(keycloak)
    (fake_oc / "object.json").write_text(keycloak("get is keycloak -o json").out)
    (fake_oc / "fail").write_text("")
    failed = keycloak.fails("rollback keycloak:20 --steps 1 --apply")
    assert failed.err.startswith(f"error: oc tag {KEYCLOAK}@{A} keycloak:20 -n demo --reference-policy=local failed "
                                 "on the cluster (exit 1: Error from server (Forbidden)")
    assert keycloak("get istag keycloak:20 -o jsonpath={.image.metadata.name}").out == B
    applied = [e for e in keycloak("log -o json").json()["items"] if e["kind"] == "imagestream.applied-to-cluster"]
    assert [e["summary"].endswith("(exit 1)") for e in applied] == [True]


def test_apply_without_a_client_on_path_says_so(keycloak, monkeypatch, tmp_path):
    moved_forward(keycloak)
    monkeypatch.setenv("PATH", str(tmp_path))
    refused = keycloak.fails("rollback keycloak:20 --steps 1 --apply")
    assert refused.err.startswith("error: neither oc nor kubectl is on PATH")
    assert keycloak.fails("rollback keycloak:20 --steps 1 --apply --dry-run").err.startswith("error: --apply runs")
