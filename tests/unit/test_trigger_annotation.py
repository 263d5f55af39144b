"""The image.openshift.io/triggers codec (docs/semantics.md §11.1, §11.3, §12.4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from imagetrail.engine.domain.trigger_annotation import (
    TRIGGERS_ANNOTATION,
    ImageTrigger,
    TriggerError,
    TriggerSource,
    container_field_path,
    format_annotation,
    parse_annotation,
    parse_field_path,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"  # copies of shared/reference/fixtures

# Verbatim from fixtures/deployment_with_triggers_annotation__openshift-oc.yaml (openshift/oc test data).
OC_FIXTURE = (
    '[{"from":{"kind":"ImageStreamTag","name":"ruby-deploy:latest"},'
    '"fieldPath":"spec.template.spec.containers[?(@.name==\\"ruby-deploy\\")].image"}]'
)
# Verbatim from fixtures/deployment_triggers_and_istag_output__rhthsa-openshift-demo.txt.
RHTHSA_FIXTURE = (
    '[{"from":{"kind":"ImageStreamTag","name":"backend:v1"},'
    '"fieldPath":"spec.template.spec.containers[?(@.name==\\"backend\\")].image"}]'
)
KEYCLOAK_PATH = 'spec.template.spec.containers[?(@.name=="keycloak")].image'
# §11.3: what `oc get deployment ... -o jsonpath=... | jq .` shows after `oc set triggers --manual`.
JQ_PAUSED = """[
  {
    "from": { "kind": "ImageStreamTag", "name": "keycloak:20" },
    "fieldPath": "spec.template.spec.containers[?(@.name==\\"keycloak\\")].image",
    "paused": true
  }
]"""
COMPACT_PAUSED = (
    '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},'
    '"fieldPath":"spec.template.spec.containers[?(@.name==\\"keycloak\\")].image","paused":true}]'
)


def keycloak(**source: str) -> TriggerSource:
    return TriggerSource(name="keycloak:20", **source)


# --------------------------------------------------------------------------- round trips

ROUND_TRIPS = [
    pytest.param(OC_FIXTURE, id="openshift-oc fixture"),
    pytest.param(RHTHSA_FIXTURE, id="rhthsa fixture"),
    pytest.param(COMPACT_PAUSED, id="paused true (11.3)"),
    pytest.param("null", id="remove-all nil slice"),
    pytest.param("[]", id="empty non-nil slice"),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20","namespace":"shared"},'
        '"fieldPath":"spec.template.spec.containers[?(@.name==\\"keycloak\\")].image"}]',
        id="cross-namespace",
    ),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":"a:1"},"fieldPath":"spec.template.spec.containers[0].image"},'
        '{"from":{"kind":"ImageStreamTag","name":"b:2"},'
        '"fieldPath":"spec.jobTemplate.spec.template.spec.initContainers[?(@.name==\\"init\\")].image",'
        '"paused":true}]',
        id="two triggers",
    ),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":"a\\u003cb\\u003e\\u0026c"},"fieldPath":"x\\u2028"}]',
        id="html-safe escapes",
    ),
]


@pytest.mark.parametrize("value", ROUND_TRIPS)
def test_round_trip_is_byte_for_byte(value: str) -> None:
    assert format_annotation(parse_annotation(value)) == value


def _fixture_values() -> list:
    oc = FIXTURES / "deployment_with_triggers_annotation__openshift-oc.yaml"
    demo = FIXTURES / "deployment_triggers_and_istag_output__rhthsa-openshift-demo.txt"
    params = []
    if oc.exists():
        doc = yaml.safe_load(oc.read_text())
        params.append(pytest.param(doc["items"][0]["metadata"]["annotations"][TRIGGERS_ANNOTATION], id=oc.name))
    if demo.exists():
        line = next(l for l in demo.read_text().splitlines() if TRIGGERS_ANNOTATION in l)
        params.append(pytest.param(re.search(r"'(.*)'", line).group(1), id=demo.name))
    return params or [pytest.param(None, marks=pytest.mark.skip("reference fixtures not available"))]


@pytest.mark.parametrize("value", _fixture_values())
def test_fixture_files_round_trip(value: str) -> None:
    assert value in (OC_FIXTURE, RHTHSA_FIXTURE)
    assert format_annotation(parse_annotation(value)) == value


def test_fixture_decodes_to_the_expected_trigger() -> None:
    assert parse_annotation(OC_FIXTURE) == [
        ImageTrigger(
            source=TriggerSource(kind="ImageStreamTag", name="ruby-deploy:latest"),
            field_path='spec.template.spec.containers[?(@.name=="ruby-deploy")].image',
        )
    ]


def test_jq_pretty_form_with_paused_true() -> None:
    triggers = parse_annotation(JQ_PAUSED)
    assert triggers == [ImageTrigger(source=keycloak(), field_path=KEYCLOAK_PATH, paused=True)]
    assert format_annotation(triggers) == COMPACT_PAUSED


# --------------------------------------------------------------------------- formatting

FORMATS = [
    pytest.param(None, "null", id="None is null"),
    pytest.param([], "[]", id="empty list"),
    pytest.param(
        [ImageTrigger(source=keycloak(), field_path=KEYCLOAK_PATH)],
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},'
        '"fieldPath":"spec.template.spec.containers[?(@.name==\\"keycloak\\")].image"}]',
        id="namespace, apiVersion, paused omitted",
    ),
    pytest.param(
        [ImageTrigger(source=keycloak(namespace="shared"), field_path=KEYCLOAK_PATH)],
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20","namespace":"shared"},'
        '"fieldPath":"spec.template.spec.containers[?(@.name==\\"keycloak\\")].image"}]',
        id="namespace when set",
    ),
    pytest.param(
        [ImageTrigger(source=keycloak(namespace="ns", api_version="image.openshift.io/v1"), field_path="p", paused=True)],
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20","namespace":"ns",'
        '"apiVersion":"image.openshift.io/v1"},"fieldPath":"p","paused":true}]',
        id="all fields in Go order",
    ),
    pytest.param(
        [ImageTrigger(source=TriggerSource(kind="", name=""), field_path="")],
        '[{"from":{"kind":"","name":""},"fieldPath":""}]',
        id="kind and name never omitted",
    ),
    pytest.param(
        [ImageTrigger(source=keycloak(), field_path='<a>&"b"\\\n\t\x01\x7f\u2029é')],
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},'
        '"fieldPath":"\\u003ca\\u003e\\u0026\\"b\\"\\\\\\n\\t\\u0001\x7f\\u2029é"}]',
        id="Go string escaping",
    ),
]


@pytest.mark.parametrize(("triggers", "expected"), FORMATS)
def test_format_annotation(triggers: list[ImageTrigger] | None, expected: str) -> None:
    assert format_annotation(triggers) == expected


def test_models_use_wire_aliases_and_are_frozen_and_strict() -> None:
    trigger = ImageTrigger.model_validate(
        {"from": {"name": "keycloak:20", "apiVersion": "v1"}, "fieldPath": KEYCLOAK_PATH}
    )
    assert trigger.source == TriggerSource(name="keycloak:20", api_version="v1")
    assert trigger.source.kind == "ImageStreamTag"
    assert trigger.model_dump(by_alias=True) == {
        "from": {"kind": "ImageStreamTag", "name": "keycloak:20", "namespace": "", "apiVersion": "v1"},
        "fieldPath": KEYCLOAK_PATH,
        "paused": False,
    }
    with pytest.raises(ValidationError):
        trigger.paused = True  # type: ignore[misc]
    with pytest.raises(ValidationError):
        ImageTrigger(source=keycloak(), field_path=KEYCLOAK_PATH, paused="false")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- parsing

PARSES = [
    pytest.param(None, None, id="no annotation"),
    pytest.param("", None, id="empty string"),
    pytest.param("null", None, id="null"),
    pytest.param(" null\n", None, id="null with whitespace"),
    pytest.param("[]", [], id="empty array"),
    pytest.param(
        '[{"from":{"name":"keycloak:20"},"fieldPath":"p"}]',
        [ImageTrigger(source=TriggerSource(kind="", name="keycloak:20"), field_path="p")],
        id="missing kind is Go's empty string, not the model default",
    ),
    pytest.param(
        "[null]",
        [ImageTrigger(source=TriggerSource(kind="", name=""), field_path="")],
        id="null element is the zero trigger",
    ),
    pytest.param(
        '[{"FROM":{"Kind":"ImageStreamTag","NAME":"keycloak:20","NameSpace":"ns"},"FieldPath":"p","PAUSED":true}]',
        [ImageTrigger(source=keycloak(namespace="ns"), field_path="p", paused=True)],
        id="keys match case-insensitively",
    ),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20","extra":[1,{"x":1e999}]},"fieldPath":"p","note":"x"}]',
        [ImageTrigger(source=keycloak(), field_path="p")],
        id="unknown keys ignored",
    ),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},"fieldPath":"p","paused":true,"paused":null,"from":null}]',
        [ImageTrigger(source=keycloak(), field_path="p", paused=True)],
        id="null values keep what was decoded",
    ),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":"old:1"},"fieldPath":"a","from":{"name":"keycloak:20"},"fieldPath":"p"}]',
        [ImageTrigger(source=keycloak(), field_path="p")],
        id="repeated keys: last wins, from objects merge",
    ),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},"fieldPath":"\\ud800"}]',
        [ImageTrigger(source=keycloak(), field_path="\ufffd")],
        id="lone surrogate escape becomes U+FFFD",
    ),
]


@pytest.mark.parametrize(("value", "expected"), PARSES)
def test_parse_annotation(value: str | None, expected: list[ImageTrigger] | None) -> None:
    assert parse_annotation(value) == expected


REJECTS = [
    pytest.param("[", "invalid image.openshift.io/triggers annotation: ", id="truncated"),
    pytest.param("   ", "invalid image.openshift.io/triggers annotation: ", id="whitespace only"),
    pytest.param("[{'from': {}}]", "invalid image.openshift.io/triggers annotation: ", id="single quotes"),
    pytest.param('[{"fieldPath":"p"},]', "invalid image.openshift.io/triggers annotation: ", id="trailing comma"),
    pytest.param("[] []", "invalid image.openshift.io/triggers annotation: ", id="trailing data"),
    pytest.param("[NaN]", "invalid image.openshift.io/triggers annotation: ", id="NaN"),
    pytest.param("{}", "json: cannot unmarshal object into Go value of type []trigger.ObjectFieldTrigger", id="object"),
    pytest.param('"[]"', "json: cannot unmarshal string into Go value of type []trigger.ObjectFieldTrigger", id="string"),
    pytest.param("[1]", "json: cannot unmarshal number into Go value of type trigger.ObjectFieldTrigger", id="number element"),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},"fieldPath":"p","paused":"false"}]',
        "json: cannot unmarshal string into Go struct field ObjectFieldTrigger.paused of type bool",
        id="string paused false (4.x docs)",
    ),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},"fieldPath":"p","paused":"true"}]',
        "json: cannot unmarshal string into Go struct field ObjectFieldTrigger.paused of type bool",
        id="string paused true",
    ),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},"fieldPath":"p","paused":0}]',
        "json: cannot unmarshal number into Go struct field ObjectFieldTrigger.paused of type bool",
        id="numeric paused",
    ),
    pytest.param(
        '[{"from":"keycloak:20","fieldPath":"p"}]',
        "json: cannot unmarshal string into Go struct field ObjectFieldTrigger.from of type trigger.ObjectReference",
        id="from as string",
    ),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":20},"fieldPath":"p"}]',
        "json: cannot unmarshal number into Go struct field ObjectReference.from.name of type string",
        id="numeric name",
    ),
    pytest.param(
        '[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},"fieldPath":["p"]}]',
        "json: cannot unmarshal array into Go struct field ObjectFieldTrigger.fieldPath of type string",
        id="array fieldPath",
    ),
    pytest.param(
        f'[{{"from":{{"kind":"ImageStreamTag","name":"a:1"}},"fieldPath":"{KEYCLOAK_PATH.replace(chr(34), chr(92) + chr(34))}"}},'
        f'{{"from":{{"kind":"ImageStreamTag","name":"b:2"}},"fieldPath":"{KEYCLOAK_PATH.replace(chr(34), chr(92) + chr(34))}","paused":true}}]',
        "duplicate triggers are not allowed",
        id="duplicate fieldPath",
    ),
    pytest.param("[null,null]", "duplicate triggers are not allowed", id="duplicate zero triggers"),
]


@pytest.mark.parametrize(("value", "message"), REJECTS)
def test_parse_annotation_rejects(value: str, message: str) -> None:
    with pytest.raises(TriggerError) as caught:
        parse_annotation(value)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert isinstance(caught.value, ValueError)


def test_duplicate_message_is_exactly_upstreams() -> None:
    twice = f"[{OC_FIXTURE[1:-1]},{OC_FIXTURE[1:-1]}]"
    with pytest.raises(TriggerError, match=r"^duplicate triggers are not allowed$"):
        parse_annotation(twice)


# --------------------------------------------------------------------------- field paths

CRON = "spec.jobTemplate.spec.template.spec"

FIELD_PATHS = [
    pytest.param("spec.template.spec.containers[0].image", None, ("containers", 0, None), id="containers[0]"),
    pytest.param("spec.template.spec.initContainers[2].image", None, ("initContainers", 2, None), id="initContainers[2]"),
    pytest.param(KEYCLOAK_PATH, None, ("containers", None, "keycloak"), id="containers by name"),
    pytest.param(
        'spec.template.spec.initContainers[?(@.name=="x")].image', None, ("initContainers", None, "x"), id="initContainers by name"
    ),
    pytest.param(f'{CRON}.containers[?(@.name=="job")].image', CRON, ("containers", None, "job"), id="cronjob pod spec path"),
    pytest.param("spec.template.spec.containers[-1].image", None, ("containers", -1, None), id="Atoi accepts a sign"),
    pytest.param("spec.template.spec.containers[0]image", None, ("containers", 0, None), id="dot before image optional (upstream quirk)"),
    pytest.param('spec.template.spec.containers[?(@.name=="web].image', None, ("containers", None, "web"), id="only the prefix trimmed (upstream quirk)"),
    pytest.param(
        'spec.template.spec.containers[?(@.name == "web")].image',
        None,
        ("containers", None, '?(@.name == "web'),
        id="only the suffix trimmed: a name no container has (upstream quirk)",
    ),
    pytest.param("other.path.containers[0].image", None, None, id="foreign prefix"),
    pytest.param(f'{CRON}.containers[?(@.name=="job")].image', None, None, id="cronjob path on a deployment"),
    pytest.param(KEYCLOAK_PATH, CRON, None, id="deployment path on a cronjob"),
    pytest.param("spec.template.specs.containers[0].image", None, None, id="prefix must end at a dot"),
    pytest.param("spec.template.spec", None, None, id="bare pod spec path"),
]


@pytest.mark.parametrize(("field_path", "pod_spec_path", "expected"), FIELD_PATHS)
def test_parse_field_path(field_path: str, pod_spec_path: str | None, expected: tuple | None) -> None:
    args = (field_path,) if pod_spec_path is None else (field_path, pod_spec_path)
    assert parse_field_path(*args) == expected


BAD_FIELD_PATHS = [
    pytest.param("spec.template.spec.containers[?(@.name='web')].image", id="single-quoted name (3.x docs)"),
    pytest.param('spec.template.spec.containers[?(@.name=="web")]', id="missing .image"),
    pytest.param('spec.template.spec.containers[?(@.name=="web")].', id="empty remainder"),
    pytest.param('spec.template.spec.containers[?(@.name=="web")].image.tag', id="beyond .image"),
    pytest.param('spec.template.spec.containers[?(@.name=="web")].env', id="other field"),
    pytest.param("spec.template.spec.containers[web].image", id="bare name"),
    pytest.param("spec.template.spec.containers[].image", id="empty selector"),
    pytest.param("spec.template.spec.containers[ 0].image", id="index with space"),
    pytest.param("spec.template.spec.containers[0x1].image", id="hex index"),
    pytest.param("spec.template.spec.containers[1_0].image", id="underscore index"),
    pytest.param("spec.template.spec.containers[99999999999999999999].image", id="index beyond int64"),
    pytest.param("spec.template.spec.containers[0.image", id="unclosed bracket"),
    pytest.param("spec.template.spec.containers.0.image", id="dotted index"),
    pytest.param("spec.template.spec.ephemeralContainers[0].image", id="ephemeral containers"),
    pytest.param("spec.template.spec.image", id="no container list"),
]


@pytest.mark.parametrize("field_path", BAD_FIELD_PATHS)
def test_parse_field_path_rejects(field_path: str) -> None:
    with pytest.raises(TriggerError) as caught:
        parse_field_path(field_path)
    assert str(caught.value) == f"field path is not valid: {field_path}"


CONTAINER_PATHS = [
    pytest.param("keycloak", None, 'spec.template.spec.containers[?(@.name=="keycloak")].image', id="deployment"),
    pytest.param("job", CRON, 'spec.jobTemplate.spec.template.spec.containers[?(@.name=="job")].image', id="cronjob"),
]


@pytest.mark.parametrize(("container", "pod_spec_path", "expected"), CONTAINER_PATHS)
def test_container_field_path(container: str, pod_spec_path: str | None, expected: str) -> None:
    path = container_field_path(container) if pod_spec_path is None else container_field_path(container, pod_spec_path)
    assert path == expected
    parsed = parse_field_path(path) if pod_spec_path is None else parse_field_path(path, pod_spec_path)
    assert parsed == ("containers", None, container)
