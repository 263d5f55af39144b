"""`rollback -o oc|patch`: the commands that apply a rollback plan to a real cluster (issue 13 §4)."""

import json
import shlex

from conftest import A, B, KEYCLOAK


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
