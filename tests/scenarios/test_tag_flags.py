"""The flag rules of tag, create istag and import-image (cli/tag_flags.py) that the bad-input table
does not cover: each whole error line, in oc's order of checks, and nothing written."""

import pytest

from conftest import KEYCLOAK

FLAG_ERRORS = [
    ("tag --source=istag keycloak keycloak:1", "--source=ImageStreamTag requires a valid <name>:<tag> in SOURCE"),
    ("tag --source=isimage keycloak:20.0.2 keycloak:1",
     "--source=ImageStreamImage requires a valid <name>@<id> in SOURCE"),
    ("tag --alias quay.io/k/k:1 keycloak:1", "--alias needs an image stream tag (name:tag) as SOURCE"),
    ("tag -d --source=istag keycloak:20", "cannot specify a source kind when deleting"),
    ("tag -d --insecure keycloak:20", "cannot set flags for importing images when deleting a tag"),
    ("create istag keycloak:x -A novalue", 'invalid annotation "novalue": use KEY=VALUE'),
    ("create istag keycloak:x --from keycloak:20 --scheduled", "only container images can have importing flags set"),
    ("import-image keycloak:nope", 'the tag "nope" does not exist on the image stream - choose an existing tag '
                                   "to import or use the 'tag' command to create a new tag"),
    # a bad argument is reported before a bad flag value, as before the flag rules moved to the CLI
    ("tag --source=bogus bad^^ keycloak:1", 'invalid SOURCE: invalid reference format'),
    ("tag --alias quay.io/k/k:1 keycloak:.bad", 'invalid tag ".bad" format, tags must start with an alphanumeric '
     "character followed by alphanumeric, '.' or '-' characters, and have a maximum of 128 characters"),
    ("create istag keycloakx --from quay.io/a/b:c", '"keycloakx" must be of the form <stream_name>:<tag>'),
    ("import-image keycloak@sha256:abc --reference-policy=other", "to import images by ID, use the 'tag' command"),
]


@pytest.mark.parametrize("command, message", FLAG_ERRORS, ids=[c for c, _ in FLAG_ERRORS])
def test_a_flag_rule_is_one_error_line_and_writes_nothing(keycloak, command, message):
    before = keycloak.event_count()
    result = keycloak.fails(command)
    assert result.err == f"error: {message}\n"
    assert (result.code, result.out) == (1, "")
    assert keycloak.event_count() == before


def test_the_flags_given_reach_the_spec(keycloak):
    keycloak(f"tag --scheduled --insecure --reference-policy=local --import-mode=PreserveOriginal "
             f"{KEYCLOAK}:20.0.3 keycloak:s")
    spec = next(t for t in keycloak.stream()["spec"]["tags"] if t["name"] == "s")
    assert spec["importPolicy"] == {"scheduled": True, "insecure": True, "importMode": "PreserveOriginal"}
    assert spec["referencePolicy"] == {"type": "Local"}
    keycloak("create istag keycloak:a --from :20 -A team=web --reference-policy=LOCAL")
    spec = next(t for t in keycloak.stream()["spec"]["tags"] if t["name"] == "a")
    assert (spec["from"], spec["annotations"], spec["referencePolicy"]) == (
        {"kind": "ImageStreamTag", "name": "20"}, {"team": "web"}, {"type": "Local"})


def test_create_istag_from_a_bare_dotted_tag_aliases_it(keycloak):
    """§8.1: `--from :20.0.2` names a tag of this stream; its dots make no registry."""
    keycloak("create istag keycloak:b --from :20.0.2")
    spec = next(t for t in keycloak.stream()["spec"]["tags"] if t["name"] == "b")
    assert spec["from"] == {"kind": "ImageStreamTag", "name": "20.0.2"}
    bad = keycloak.fails("create istag keycloak:c --from :bad/tag")
    assert bad.code == 1 and "Invalid --from, must be a valid image stream tag" in bad.err
