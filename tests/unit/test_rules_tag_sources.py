"""`oc tag` / `oc create istag` client rules and name rules, rule by rule (docs/semantics.md §6–§8):
what the user typed → the spec tag, from engine.domain.tag_sources and engine.domain.references."""

from __future__ import annotations

import re

import pytest
from rules_builders import A, KEYCLOAK

from imagetrail.engine.domain import manifests
from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.model import DOCKER_IMAGE, IMAGE_STREAM_IMAGE, IMAGE_STREAM_TAG
from imagetrail.engine.domain.references import (
    ReferenceError,
    parse_docker_image_reference,
    parse_istag_name,
    validate_stream_name,
)
from imagetrail.cli.tag_flags import import_mode, parse_istag_from, reference_policy, source_kind  # flag rules: the CLI's
from imagetrail.engine.domain.tag_sources import (
    classify_source,
    docker_image_tag,
    parse_dest,
    stream_tag_reference,
)

# --------------------------------------------------------------------------- §6.1 source classification


@pytest.mark.parametrize("text, registry, namespace, name", [
    (f"{KEYCLOAK}:20.0.2", "quay.io", "keycloak", "keycloak"),
    ("localhost:5000/app:1", "localhost:5000", "", "app"),
    ("keycloak:20", "", "", "keycloak"),
    ("openshift/ruby:2.0", "", "openshift", "ruby"),
])
def test_s6_1_1_the_first_component_is_a_registry_only_with_a_dot_a_colon_or_localhost(text, registry, namespace,
                                                                                         name):
    ref = parse_docker_image_reference(text)
    assert (ref.registry, ref.namespace, ref.name) == (registry, namespace, name)


def test_s6_1_1_names_must_be_lowercase():
    with pytest.raises(UsageError, match="^invalid SOURCE: repository name must be lowercase$"):
        classify_source("Keycloak:20")


@pytest.mark.parametrize("text, kind", [
    (f"{KEYCLOAK}:20.0.2", DOCKER_IMAGE),     # a registry: an external image
    (f"keycloak@{A}", IMAGE_STREAM_IMAGE),     # a digest: pin that image of the stream
    ("keycloak:20.0.2", IMAGE_STREAM_TAG),     # a tag: an istag of this project
    ("nginx:latest", IMAGE_STREAM_TAG),        # ... never Docker Hub
    ("nginx", DOCKER_IMAGE),                   # a bare name
])
def test_s6_1_2_without_source_the_kind_comes_from_the_shape_of_source(text, kind):
    assert classify_source(text).kind == kind


def test_s6_1_3_source_names_the_kind_and_refuses_what_does_not_fit_it():
    assert source_kind("nginx:latest", "docker").kind == DOCKER_IMAGE
    assert source_kind("library/keycloak:20", "istag").namespace == ""  # library is this project
    for text, kind, message in (
            ("x:1", "bogus", 'invalid source "bogus"; valid values are'),
            (f"{KEYCLOAK}:20", "istag", "server in SOURCE is only allowed when providing a container image"),
            ("keycloak", "istag", "--source=ImageStreamTag requires a valid <name>:<tag> in SOURCE"),
            ("keycloak:20", "isimage", "--source=ImageStreamImage requires a valid <name>@<id> in SOURCE")):
        with pytest.raises(UsageError, match=re.escape(message)):
            source_kind(text, kind)


# --------------------------------------------------------------------------- §6.2 what is written to DEST


@pytest.mark.parametrize("dest, message", [
    ("keycloak", '"keycloak" must be of the form <stream_name>:<tag>'),
    ("keycloak:-bad", 'invalid tag "-bad" format, tags must start with an alphanumeric character'),
    ("keycloak:" + "x" * 129, "and have a maximum of 128 characters"),
    ("a/b/c:1", 'invalid image stream "a/b/c:1"'),
    ("/keycloak:1", 'invalid namespace "" for image stream "/keycloak:1"'),
])
def test_s6_2_5_the_destination_must_be_stream_colon_tag_with_a_valid_tag(dest, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_dest(dest, "demo")


def test_s6_2_5_the_destination_may_name_a_namespace_and_a_tag_may_hold_underscores():
    dest = parse_dest("shared/keycloak:my_tag", "demo")
    assert (dest.namespace, dest.stream, dest.tag) == ("shared", "keycloak", "my_tag")
    assert dest.display("demo") == "shared/keycloak:my_tag"


def test_s6_2_9_an_external_pull_spec_is_written_verbatim_with_generation_0():
    ref = docker_image_tag("20", f"{KEYCLOAK}:20.0.2")
    assert (ref.kind, ref.source.name, ref.generation) == (DOCKER_IMAGE, f"{KEYCLOAK}:20.0.2", 0)


def test_s6_2_11_an_alias_is_an_image_stream_tag_without_generation():
    ref = stream_tag_reference("20", IMAGE_STREAM_TAG, "keycloak:20.0.2")
    assert (ref.kind, ref.source.name, ref.source.namespace, ref.generation) == \
        (IMAGE_STREAM_TAG, "keycloak:20.0.2", "", None)


def test_s6_2_12_a_digest_source_is_an_image_stream_image():
    source = classify_source(f"keycloak@{A}")
    assert (source.kind, source.stream, source.image_id) == (IMAGE_STREAM_IMAGE, "keycloak", A)
    assert source_kind(f"keycloak@{A}", "isimage").kind == IMAGE_STREAM_IMAGE


def test_s6_2_13_reference_policy_is_lowercase_for_tag_and_any_case_for_create_istag():
    assert reference_policy("local").type == "Local" and reference_policy("source").type == "Source"
    with pytest.raises(UsageError, match="^valid values for --reference-policy are: source, local$"):
        reference_policy("Local")
    assert reference_policy("Local", case_sensitive=False).type == "Local"


def test_s6_2_13_import_mode_is_legacy_unless_asked_and_only_two_modes_exist():
    assert docker_image_tag("20", f"{KEYCLOAK}:20").import_policy.import_mode == "Legacy"
    assert import_mode("PreserveOriginal") == "PreserveOriginal"
    with pytest.raises(UsageError, match="invalid import mode, valid modes are 'Legacy', 'PreserveOriginal'"):
        import_mode("legacy")


# --------------------------------------------------------------------------- §7 names


def test_s7_1_a_stream_name_follows_the_api_servers_pattern_and_length():
    validate_stream_name("keycloak-x.y_z")
    for name, message in (("Keycloak", 'must match "[a-z0-9]+(?:[._-][a-z0-9]+)*"'), ("a/b", "may not contain '/'"),
                          ("..", "may not be '..'")):
        with pytest.raises(ReferenceError, match=re.escape(message)):
            validate_stream_name(name)
    with pytest.raises(ReferenceError, match="'namespace/name' cannot be longer than 255 characters"):
        validate_stream_name("k" * 251, namespace="demo")
    validate_stream_name("k" * 250, namespace="demo")  # exactly 255: allowed


def test_s7_2_an_istag_name_is_checked_with_the_tag_rule_everywhere():
    assert parse_istag_name("keycloak:20.0.2") == ("keycloak", "20.0.2")
    with pytest.raises(ReferenceError, match='invalid tag "-x" format'):
        parse_istag_name("keycloak:-x")
    with pytest.raises(ReferenceError, match='expected exactly one : delimiter in the istag "a:b:c"'):
        parse_istag_name("a:b:c")


@pytest.mark.parametrize("spec, message", [
    ("quay.io/Keycloak:1", "repository name must be lowercase"),
    ("keycloak@sha256:" + "a" * 63, "invalid checksum digest length"),
    ("keycloak@md5:" + "a" * 32, "unsupported digest algorithm"),
    ("a" * 256, "repository name must not be more than 255 characters"),
    ("keycloak:", "invalid reference format"),
])
def test_s7_5_pull_specs_follow_the_distribution_grammar(spec, message):
    with pytest.raises(ReferenceError, match=f"^{message}$"):
        parse_docker_image_reference(spec)


def test_s7_5_a_pull_spec_may_carry_a_tag_and_a_digest_and_the_digest_decides_the_kind():
    ref = parse_docker_image_reference(f"keycloak:20@{A}")
    assert (ref.tag, ref.id) == ("20", A)
    assert classify_source(f"keycloak:20@{A}").kind == IMAGE_STREAM_IMAGE


# --------------------------------------------------------------------------- §8.1 oc create istag --from


@pytest.mark.parametrize("value, parsed", [
    ("keycloak:20.0.2", (IMAGE_STREAM_TAG, "keycloak:20.0.2", "")),
    ("shared/keycloak:20", (IMAGE_STREAM_TAG, "keycloak:20", "shared")),
    (f"keycloak@{A}", (IMAGE_STREAM_IMAGE, f"keycloak@{A}", "")),
    (":latest", (IMAGE_STREAM_TAG, "latest", "")),
])
def test_s8_1_create_istag_from_is_an_alias_a_pin_or_a_bare_tag(value, parsed):
    assert parse_istag_from(value) == parsed


def test_s8_1_create_istag_from_refuses_a_registry():
    with pytest.raises(UsageError, match="^Invalid --from, registry may not be specified$"):
        parse_istag_from(f"{KEYCLOAK}:20")


# --------------------------------------------------------------------------- §7.3 spec tags the API server refuses


def stream_object(*tags: dict) -> dict:
    return {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": {"name": "keycloak"},
            "spec": {"tags": list(tags)}}


@pytest.mark.parametrize("tag, message", [
    ({"name": "x", "from": {"kind": "Docker", "name": "a:1"}}, 'spec.tags[0].from.kind: Unsupported value: "Docker"'),
    ({"name": "x", "from": {"kind": "DockerImage", "name": ""}}, "spec.tags[0].from.name: Required value"),
    ({"name": "x", "from": {"kind": "DockerImage", "name": "Quay.io/A:1"}}, "spec.tags[0].from.name: "),
    ({"name": "x", "from": {"kind": "ImageStreamTag", "name": "keycloak:1"}, "importPolicy": {"scheduled": True}},
     "spec.tags[0].importPolicy.scheduled: Invalid value: true: only tags pointing to Docker repositories may be "
     "scheduled for background import"),
])
def test_s7_3_a_spec_tag_the_api_server_refuses_is_refused(tag, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        manifests.for_apply([stream_object(tag)], "demo", enforce_namespace=False)


def test_s1_4_an_applied_spec_tag_gets_the_api_servers_defaults_and_no_client_generation():
    applied = manifests.for_apply([stream_object({"name": "x", "from": {"kind": "DockerImage", "name": "a:1"},
                                                  "referencePolicy": {"type": ""}, "generation": 9})],
                                  "demo", enforce_namespace=False)
    tag = applied[0].tags[0]
    assert (tag.reference_policy.type, tag.import_policy.import_mode, tag.generation) == ("Source", "Legacy", None)
