"""Image triggers and rollouts: §11–§13 and checklist rules §16.10–§16.14."""

import json

from conftest import A, B, C, KEYCLOAK

TRIGGERS = "'{.metadata.annotations.image\\.openshift\\.io/triggers}'"


def annotation(it, name="mykeycloak"):
    return it(f"get deployment {name} -o jsonpath={TRIGGERS}").out


def revisions(it, name="mykeycloak"):
    return it(f"rollout history deployment/{name}").out.splitlines()[2:]


def test_rule_16_10_manual_writes_paused_true_and_auto_omits_it(keycloak):
    keycloak("set triggers deployment/mykeycloak --manual")
    value = annotation(keycloak)
    assert '"paused":true' in value and json.loads(value)[0]["paused"] is True
    keycloak("set triggers deployment/mykeycloak --auto")
    assert "paused" not in annotation(keycloak)


def test_rule_16_10_remove_all_writes_null_and_pauses(keycloak):
    keycloak("set triggers deployment/mykeycloak --remove-all")
    assert annotation(keycloak) == "null"
    doc = keycloak("get deployment mykeycloak -o json").json()
    assert doc["spec"]["paused"] is True
    assert keycloak("set triggers deployment/mykeycloak").out.splitlines()[1].split() == \
        ["deployments/mykeycloak", "config", "false"]


def test_rule_16_11_manual_and_auto_pause_and_resume_the_deployment(keycloak):
    keycloak("set triggers deployment/mykeycloak --manual")
    assert keycloak("get deployment mykeycloak -o jsonpath='{.spec.paused}'").out == "true"
    listing = keycloak("set triggers deployment/mykeycloak").out.splitlines()
    assert listing[1].split() == ["deployments/mykeycloak", "config", "false"]
    assert listing[2].split()[-1] == "false"
    keycloak("set triggers deployment/mykeycloak --auto")
    assert keycloak("get deployment mykeycloak -o jsonpath='{.spec.paused}'").out == ""


def test_rule_16_12_paused_trigger_ignores_moves_and_auto_jumps_to_the_current_head(keycloak):
    keycloak("set triggers deployment/mykeycloak --manual")
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20")
    assert keycloak.image() == f"{KEYCLOAK}@{A}"
    keycloak("set triggers deployment/mykeycloak --auto")
    assert keycloak.image() == f"{KEYCLOAK}@{C}"  # intermediate B is skipped
    assert [r.split()[1] for r in revisions(keycloak)][-1] == f"keycloak={KEYCLOAK}@{C}"


def test_rule_16_12_paused_deployment_updates_template_and_rolls_out_once_on_resume(keycloak):
    keycloak("rollout pause deployment/mykeycloak")
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20")
    assert keycloak.image() == f"{KEYCLOAK}@{C}"  # template follows while paused
    assert len(revisions(keycloak)) == 1           # but nothing rolled out
    resumed = keycloak("rollout resume deployment/mykeycloak")
    assert "rolled out revision 2" in resumed.err
    assert [r.split()[:2] for r in revisions(keycloak)] == [["1", f"keycloak={KEYCLOAK}@{A}"],
                                                           ["2", f"keycloak={KEYCLOAK}@{C}"]]


def test_pause_twice_is_an_error(keycloak):
    keycloak("rollout pause deployment/mykeycloak")
    assert keycloak.fails("rollout pause deployment/mykeycloak").err == \
        'error: deployments.apps "mykeycloak" is already paused\n'
    keycloak("rollout resume deployment/mykeycloak")
    assert keycloak.fails("rollout resume deployment/mykeycloak").err == \
        'error: deployments.apps "mykeycloak" is not paused\n'


def test_rule_16_13_manual_image_edit_of_an_auto_container_is_reverted(keycloak):
    before = revisions(keycloak)
    result = keycloak("set image deployment/mykeycloak keycloak=nginx:1.25")
    assert result.out == "deployment.apps/mykeycloak image updated\n"
    assert "follows image stream tag keycloak:20" in result.err and "set back" in result.err
    assert keycloak.image() == f"{KEYCLOAK}@{A}"
    assert revisions(keycloak) == before  # net template unchanged: no rollout


def test_manual_image_edit_sticks_when_the_trigger_is_manual(keycloak):
    keycloak("set triggers deployment/mykeycloak --manual")
    keycloak("set image deployment/mykeycloak keycloak=nginx:1.25")
    assert keycloak.image() == "nginx:1.25"


def test_rule_16_14_unresolvable_tag_is_a_silent_no_op(keycloak):
    keycloak("create deployment other --image nginx:1.25")
    keycloak("set triggers deployment/other --from-image nothere:1 --containers nginx")
    assert keycloak.image("other", "nginx") == "nginx:1.25"
    keycloak(f"tag {KEYCLOAK}:21.0.0 nothere:1")  # the tag appears: the trigger fires
    assert keycloak.image("other", "nginx") == f"{KEYCLOAK}@{C}"


def test_rule_12_9_a_new_trigger_aligns_the_container_at_once(imagetrail):
    imagetrail(f"create istag keycloak:20 --from-image {KEYCLOAK}:20.0.2")
    imagetrail("create deployment literal --image keycloak:20")  # no lookup: literal
    imagetrail("set triggers deployment/literal --from-image keycloak:20 --containers keycloak")
    assert imagetrail.image("literal") == f"{KEYCLOAK}@{A}"
    assert len(revisions(imagetrail, "literal")) == 2


def test_trigger_reaction_records_its_cause(keycloak):
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    last = revisions(keycloak)[-1]
    assert "image trigger keycloak:20" in last


def test_from_image_without_containers_is_an_error(keycloak):
    before = keycloak.event_count()
    assert keycloak.fails("set triggers deployment/mykeycloak --from-image keycloak:20").err == \
        "error: you must specify --containers when setting --from-image\n"
    assert keycloak.event_count() == before


def test_unknown_container_is_an_error(keycloak):
    assert keycloak.fails("set triggers deployment/mykeycloak --from-image keycloak:20 -c tools").err == \
        "error: not all container names exist: tools (accepts: keycloak)\n"


def test_one_trigger_per_container(keycloak):
    assert keycloak.fails("set triggers deployment/mykeycloak --from-image keycloak:20.0.3 -c keycloak").err == \
        "error: only one trigger may reference each container: keycloak\n"


def test_from_image_must_be_an_image_stream_tag(keycloak):
    assert keycloak.fails(f"set triggers deployment/mykeycloak --from-image {KEYCLOAK}:20 -c keycloak").err == \
        "error: the value of --from-image must point to an image stream tag on this server\n"
    assert keycloak.fails("set triggers deployment/mykeycloak --from-image keycloak -c keycloak").err == \
        "error: the value of --from-image must include the tag you wish to pull from\n"


def test_flag_combinations_are_checked(keycloak):
    assert keycloak.fails("set triggers deployment/mykeycloak --auto --manual").err == \
        "error: you must specify at most one of --auto or --manual\n"
    assert keycloak.fails("set triggers deployment/mykeycloak --remove-all --auto").err == \
        "error: --remove-all may not be used with any other flag\n"
    assert keycloak.fails("set triggers deployment/mykeycloak --remove").err == \
        "error: --remove requires a flag defining a trigger type to be specified\n"


def test_remove_one_trigger_keeps_the_config_trigger(keycloak):
    keycloak("set triggers deployment/mykeycloak --remove --from-image keycloak:20")
    assert annotation(keycloak) == "null"
    assert keycloak("get deployment mykeycloak -o jsonpath='{.spec.paused}'").out == ""
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20")
    assert keycloak.image() == f"{KEYCLOAK}@{A}"


def test_rollback_by_moving_the_tag_reuses_the_old_revision(keycloak):
    keycloak("tag --alias keycloak:20.0.3 keycloak:20")
    keycloak("tag --alias keycloak:20.0.2 keycloak:20")
    # revision 1 (image A) is reused as revision 3, so only 2 and 3 remain (§13.5)
    assert [r.split()[0] for r in revisions(keycloak)] == ["2", "3"]
    assert keycloak("get deployment mykeycloak -o "
                    "jsonpath='{.metadata.annotations.deployment\\.kubernetes\\.io/revision}'").out == "3"


def test_triggers_on_several_deployments_fire_in_one_command(keycloak):
    keycloak("create deployment second --image keycloak:20")
    keycloak("set triggers deployment/second --from-image keycloak:20 --containers keycloak")
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    assert keycloak.image() == keycloak.image("second") == f"{KEYCLOAK}@{B}"


def test_rule_16_14_bad_container_in_a_trigger_aborts_the_whole_update(keycloak, tmp_path):
    triggers = ('[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},'
                '"fieldPath":"spec.template.spec.containers[?(@.name==\\"web\\")].image"},'
                '{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},'
                '"fieldPath":"spec.template.spec.containers[?(@.name==\\"ghost\\")].image"}]')
    manifest = tmp_path / "two.json"
    manifest.write_text(json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "two", "annotations": {"image.openshift.io/triggers": triggers}},
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}))
    applied = keycloak(f"apply -f {manifest}")
    assert "no such container: ghost" in applied.err
    moved = keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    assert "deployment.apps/two: image trigger not applied: no such container: ghost" in moved.err
    assert keycloak.image("two", "web") == "nginx:1.25"   # no partial update
    assert keycloak.image() == f"{KEYCLOAK}@{B}"          # other Deployments still follow
