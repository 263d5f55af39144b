"""The triggers annotation codec and `oc set triggers`' trigger definition, rule by rule
(docs/semantics.md §11, §13.3): the codec's functions and TriggerChange/TriggerDefinition called
directly on Deployment states built in memory."""

from __future__ import annotations

import json

import pytest
from rules_builders import A, NS, new_deployment, pinned, trigger

from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.model import Container
from imagetrail.engine.domain.trigger_annotation import (
    ImageTrigger,
    TriggerError,
    TriggerSource,
    container_field_path,
    format_annotation,
    parse_annotation,
    parse_field_path,
)
from imagetrail.cli.deployments import trigger_change
from imagetrail.engine.domain.trigger_definition import TriggerChange, TriggerDefinition

KEYCLOAK_PATH = 'spec.template.spec.containers[?(@.name==\\"keycloak\\")].image'


def change(**flags) -> TriggerChange:
    """The change `oc set triggers FLAGS` asks for; the flags' own rules are the CLI's (cli/deployments.py)."""
    options = {"from_image": None, "containers": [], "auto": False, "manual": False, "remove": False,
               "remove_all": False}
    options.update(flags)
    options["containers"] = list(options["containers"] or [])
    return trigger_change(NS, **options)


def set_triggers(deployment: Deployment, **flags) -> tuple[list | None, bool]:
    """`oc set triggers deployment/x FLAGS`: the annotation it writes (decoded) and the new spec.paused."""
    annotation, paused = change(**flags).apply(deployment.state)
    deployment.set_triggers_annotation(annotation)
    if paused != deployment.state.paused:
        deployment.set_paused(paused)
    return json.loads(annotation), paused


def web_and_tools() -> Deployment:
    return Deployment.create(NS, "web", containers=[Container(name="web", image="nginx:1.25"),
                                                    Container(name="tools", image="busybox")],
                             init_containers=[Container(name="setup", image="busybox")])


# --------------------------------------------------------------------------- §11.1 the annotation


def test_s11_1_1_the_annotation_is_compact_json_in_gos_key_order():
    assert format_annotation([trigger("keycloak:20")]) == \
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},"fieldPath":"' + KEYCLOAK_PATH + '"}]'


def test_s11_1_1_paused_is_omitted_when_false_and_written_as_a_boolean_when_true():
    assert '"paused"' not in format_annotation([trigger("keycloak:20", paused=False)])
    assert format_annotation([trigger("keycloak:20", paused=True)]).endswith(',"paused":true}]')


def test_s11_1_1_namespace_and_api_version_are_written_only_when_set():
    shared = ImageTrigger(source=TriggerSource(name="keycloak:20", namespace="shared", api_version="image.openshift.io/v1"),
                          field_path=container_field_path("keycloak"))
    assert '"kind":"ImageStreamTag","name":"keycloak:20","namespace":"shared","apiVersion":"image.openshift.io/v1"' \
        in format_annotation([shared])
    assert '"namespace"' not in format_annotation([trigger("keycloak:20")])


def test_s11_1_1_no_triggers_is_null_and_an_empty_list_is_brackets():
    assert format_annotation(None) == "null" and parse_annotation("null") is None
    assert format_annotation([]) == "[]" and parse_annotation("[]") == []


def test_s11_1_2_set_triggers_writes_a_name_selector_under_containers_even_for_an_init_container():
    deployment = web_and_tools()
    written, _ = set_triggers(deployment, from_image="app:1", containers=["setup"])
    assert written[0]["fieldPath"] == 'spec.template.spec.containers[?(@.name=="setup")].image'
    assert deployment.state.triggers()[0].field_path == container_field_path("setup")


def test_s11_1_3_from_namespace_is_written_only_for_another_namespace():
    assert change(from_image=f"{NS}/keycloak:20", containers=["keycloak"]).from_namespace == ""
    assert change(from_image="shared/keycloak:20", containers=["keycloak"]).from_namespace == "shared"
    written, _ = set_triggers(new_deployment(pinned(A)), from_image="shared/keycloak:20", containers=["keycloak"])
    assert written[0]["from"] == {"kind": "ImageStreamTag", "name": "keycloak:20", "namespace": "shared"}


@pytest.mark.parametrize("path, parsed", [
    ("spec.template.spec.containers[0].image", ("containers", 0, None)),
    ("spec.template.spec.initContainers[1].image", ("initContainers", 1, None)),
    ('spec.template.spec.containers[?(@.name=="web")].image', ("containers", None, "web")),
    ('spec.template.spec.initContainers[?(@.name=="setup")].image', ("initContainers", None, "setup")),
])
def test_s11_1_4_four_container_selectors_are_accepted(path, parsed):
    assert parse_field_path(path) == parsed


def test_s11_1_4_a_single_quoted_name_selector_is_not_valid():
    with pytest.raises(TriggerError, match="field path is not valid"):
        parse_field_path("spec.template.spec.containers[?(@.name='web')].image")


def test_s11_1_4_paused_as_a_string_makes_the_whole_annotation_invalid():
    with pytest.raises(TriggerError, match="cannot unmarshal string into Go struct field ObjectFieldTrigger.paused"):
        parse_annotation('[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},'
                         '"fieldPath":"spec.template.spec.containers[0].image","paused":"false"}]')


def test_s11_1_5_two_triggers_on_one_field_path_are_refused():
    with pytest.raises(TriggerError, match="^duplicate triggers are not allowed$"):
        parse_annotation(format_annotation([trigger("keycloak:20"), trigger("keycloak:21")]))


def test_s11_1_6_an_empty_annotation_reads_as_no_triggers():
    assert parse_annotation("") is None and new_deployment().state.triggers() == []


# --------------------------------------------------------------------------- §11.2 oc set triggers


def test_s11_2_1_the_definition_is_a_config_trigger_and_one_image_trigger_per_entry():
    deployment = new_deployment(pinned(A), trigger("keycloak:20", paused=True))
    definition = TriggerDefinition.of(deployment.state)
    assert definition.config is True
    assert [(t.source, t.auto, t.names) for t in definition.images] == [("keycloak:20", False, ["keycloak"])]
    deployment.pause()
    assert TriggerDefinition.of(deployment.state).config is False


def test_s11_2_2_from_image_adds_an_automatic_trigger_for_the_named_containers():
    written, paused = set_triggers(web_and_tools(), from_image="app:1", containers=["web,tools"])
    assert [(t["from"]["name"], t["fieldPath"]) for t in written] == [
        ("app:1", container_field_path("web")), ("app:1", container_field_path("tools"))]
    assert "paused" not in written[0] and paused is False


def test_s11_2_2_from_image_again_moves_the_trigger_to_the_new_containers():
    deployment = web_and_tools()
    set_triggers(deployment, from_image="app:1", containers=["web"])
    written, _ = set_triggers(deployment, from_image="app:1", containers=["tools"])
    assert [t["fieldPath"] for t in written] == [container_field_path("tools")]


def test_s11_2_2_from_image_must_be_a_tag_of_an_image_stream_on_this_server():
    for value, message in (("quay.io/keycloak/keycloak:20", "must point to an image stream tag on this server"),
                           (f"keycloak@{A}", "must point to an image stream tag on this server"),
                           ("keycloak", "must include the tag you wish to pull from")):
        with pytest.raises(UsageError, match=message):
            change(from_image=value, containers=["keycloak"])


def test_s11_2_2_from_image_needs_containers_that_exist_and_are_not_taken():
    with pytest.raises(UsageError, match="^you must specify --containers when setting --from-image$"):
        change(from_image="app:1")
    with pytest.raises(UsageError, match=r"^not all container names exist: ghost \(accepts: setup, tools, web\)$"):
        change(from_image="app:1", containers=["ghost"]).apply(web_and_tools().state)
    deployment = web_and_tools()
    set_triggers(deployment, from_image="app:1", containers=["web"])
    with pytest.raises(UsageError, match="^only one trigger may reference each container: web$"):
        change(from_image="app:2", containers=["web"]).apply(deployment.state)


def test_s11_2_3_manual_pauses_every_image_trigger_and_the_deployment():
    deployment = new_deployment(pinned(A), trigger("keycloak:20"))
    written, paused = set_triggers(deployment, manual=True)
    assert written[0]["paused"] is True and paused is True and deployment.state.paused


def test_s11_2_4_auto_resumes_every_image_trigger_and_the_deployment():
    deployment = new_deployment(pinned(A), trigger("keycloak:20", paused=True), paused=True)
    written, paused = set_triggers(deployment, auto=True)
    assert "paused" not in written[0] and paused is False and not deployment.state.paused


def test_s11_2_5_remove_drops_the_triggers_of_that_tag_and_keeps_the_config_trigger():
    deployment = web_and_tools()
    set_triggers(deployment, from_image="app:1", containers=["web"])
    set_triggers(deployment, from_image="other:1", containers=["tools"])
    written, paused = set_triggers(deployment, remove=True, from_image="app:1")
    assert [t["from"]["name"] for t in written] == ["other:1"] and paused is False


def test_s11_2_6_remove_all_writes_null_and_pauses_the_deployment():
    deployment = new_deployment(pinned(A), trigger("keycloak:20"))
    annotation, paused = change(remove_all=True).apply(deployment.state)
    assert annotation == "null" and paused is True


def test_s11_2_7_any_run_rewrites_the_annotation_normalised():
    untouched = new_deployment(pinned(A))
    assert change(auto=True).apply(untouched.state) == ("null", False)
    by_index = new_deployment(pinned(A), trigger("keycloak:20", field_path="spec.template.spec.containers[0].image"))
    annotation, _ = change(auto=True).apply(by_index.state)
    assert json.loads(annotation)[0]["fieldPath"] == container_field_path("keycloak")


@pytest.mark.parametrize("flags, message", [
    ({"auto": True, "manual": True}, "you must specify at most one of --auto or --manual"),
    ({"remove_all": True, "auto": True}, "--remove-all may not be used with any other flag"),
    ({"remove": True}, "--remove requires a flag defining a trigger type to be specified"),
    ({"containers": ["web"], "auto": True}, "--containers can only be used with --from-image"),
    ({}, "you must specify one of --from-image, --auto, --manual, --remove or --remove-all"),
])
def test_s11_2_8_flag_combinations_are_checked_before_anything_is_read(flags, message):
    with pytest.raises(UsageError, match=f"^{message}$"):
        change(**flags)


# --------------------------------------------------------------------------- §13.3


def test_s13_3_the_config_trigger_is_the_deployments_pause_either_way():
    deployment = new_deployment(pinned(A), trigger("keycloak:20"))
    deployment.pause()  # oc rollout pause
    assert TriggerDefinition.of(deployment.state).config is False
    _, paused = set_triggers(deployment, auto=True)
    assert paused is False and not deployment.state.paused
