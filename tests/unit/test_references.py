"""Tests for imagetrail.engine.domain.references (library-go / oc reference and name rules)."""

import dataclasses

import pytest

from imagetrail.engine.domain.references import (
    DockerImageReference,
    ReferenceError,
    is_digest,
    parse_docker_image_reference,
    parse_stream_tag,
    split_stream_image,
    validate_digest,
    validate_namespace,
    validate_stream_name,
    validate_tag_name,
)

HEX64 = "3c87c572822935df60f0f5d3665bd376841a7fcfeb806b5f212de6a00e9a7b25"
D = f"sha256:{HEX64}"
D384 = "sha384:" + "a" * 96
D512 = "sha512:" + "b" * 128

LOWERCASE = "repository name must be lowercase"
BAD_FORMAT = "invalid reference format"
TOO_LONG = "repository name must not be more than 255 characters"
DIGEST_FORMAT = "invalid checksum digest format"
DIGEST_LENGTH = "invalid checksum digest length"
DIGEST_ALGO = "unsupported digest algorithm"


# --- parse_docker_image_reference: successful parses ---------------------------------

PARSE_OK = [
    # spec, registry, namespace, name, tag, id
    ("quay.io/keycloak/keycloak:20.0.2", "quay.io", "keycloak", "keycloak", "20.0.2", ""),
    ("keycloak:20", "", "", "keycloak", "20", ""),
    (f"keycloak@{D}", "", "", "keycloak", "", D),
    ("keycloak", "", "", "keycloak", "", ""),
    ("openshift/ruby:2.0", "", "openshift", "ruby", "2.0", ""),
    (f"openshift/ruby@{D}", "", "openshift", "ruby", "", D),
    ("localhost:5000/a/b:c", "localhost:5000", "a", "b", "c", ""),
    ("localhost/bar", "localhost", "", "bar", "", ""),
    # a host with a port but no dot is still a registry
    ("registry:5000/ns/app:1", "registry:5000", "ns", "app", "1", ""),
    ("bar:5000/baz", "bar:5000", "", "baz", "", ""),
    (f"bar:5000/foo/baz@{D}", "bar:5000", "foo", "baz", "", D),
    ("myregistry.io/foo", "myregistry.io", "", "foo", "", ""),
    # deep paths: library-go puts the FIRST path component in namespace, the rest in name
    ("a/b/c", "", "a", "b/c", "", ""),
    ("bar/foo/baz/biz", "", "bar", "foo/baz/biz", "", ""),
    ("r.io/a/b/c:t", "r.io", "a", "b/c", "t", ""),
    ("docker.io/user/project/myapp", "docker.io", "user", "project/myapp", "", ""),
    # both tag and digest are kept
    (f"quay.io/keycloak/keycloak:20.0.2@{D}", "quay.io", "keycloak", "keycloak", "20.0.2", D),
    (f"keycloak:20@{D}", "", "", "keycloak", "20", D),
    # no Docker Hub normalisation
    ("docker.io/myapp", "docker.io", "", "myapp", "", ""),
    ("nginx:latest", "", "", "nginx", "latest", ""),
    # a bare digest-looking string is name "sha256" with a 64-char tag
    (D, "", "", "sha256", HEX64, ""),
    # registry-only specs keep their whole text as registry and drop the tag (library-go quirk)
    ("quay.io", "quay.io", "", "", "", ""),
    ("localhost:5000", "localhost:5000", "", "", "", ""),
    (f"quay.io@{D}", f"quay.io@{D}", "", "", "", D),
    # a lone component only needs to START with "localhost"; with a path it must equal it
    ("localhostfoo", "localhostfoo", "", "", "", ""),
    ("localhostfoo/bar", "", "localhostfoo", "bar", "", ""),
    # host names may be uppercase, tags may be uppercase and start with '_'
    ("Quay.IO/foo", "Quay.IO", "", "foo", "", ""),
    ("foo:V1_rc-2.X", "", "", "foo", "V1_rc-2.X", ""),
    ("foo:_private", "", "", "foo", "_private", ""),
    # component separators: '.', '_', '__', any run of '-'
    ("my__app/x-y---z.w_v:1", "", "my__app", "x-y---z.w_v", "1", ""),
    (f"foo@{D384}", "", "", "foo", "", D384),
    (f"foo@{D512}", "", "", "foo", "", D512),
    (f"foo@sha256:{HEX64.upper()}", "", "", "foo", "", f"sha256:{HEX64.upper()}"),
    ("foo:" + "t" * 128, "", "", "foo", "t" * 128, ""),
    # exactly 255 characters of name
    (f"bar:5000/{'a' * 63}/{'b' * 182}:tag", "bar:5000", "a" * 63, "b" * 182, "tag", ""),
]


@pytest.mark.parametrize(("spec", "registry", "namespace", "name", "tag", "id_"), PARSE_OK)
def test_parse_ok(spec, registry, namespace, name, tag, id_):
    assert parse_docker_image_reference(spec) == DockerImageReference(
        registry=registry, namespace=namespace, name=name, tag=tag, id=id_
    )


@pytest.mark.parametrize("spec", [row[0] for row in PARSE_OK])
def test_exact_round_trips(spec):
    assert parse_docker_image_reference(spec).exact() == spec


# --- parse_docker_image_reference: errors ---------------------------------------------

PARSE_ERRORS = [
    ("", "repository name must have at least one component"),
    ("Keycloak:20", LOWERCASE),
    ("quay.io/Keycloak/keycloak:20", LOWERCASE),
    ("registry:3000/integration/imageStream:success", LOWERCASE),
    (f"FOO@{D}", LOWERCASE),
    ("https://bar:5000/foo/baz", BAD_FORMAT),
    ("ftp://baz/baz/biz", BAD_FORMAT),
    ("registry.io/foo/bar/:Tag", BAD_FORMAT),
    (":tag", BAD_FORMAT),
    (f"@{D}", BAD_FORMAT),
    ("bar/foo/baz////biz", BAD_FORMAT),
    ("//foo/baz/biz", BAD_FORMAT),
    ("abc@badid", BAD_FORMAT),
    ("index.docker.io/mysql@sha256:bad", BAD_FORMAT),
    ("foo:" + "t" * 129, BAD_FORMAT),
    ("foo:.tag", BAD_FORMAT),
    ("foo:-tag", BAD_FORMAT),
    ("foo:a:b", BAD_FORMAT),
    ("foo bar", BAD_FORMAT),
    ("foo\n", BAD_FORMAT),  # Go's $ does not accept a trailing newline
    ("foo-", BAD_FORMAT),
    ("a..b", BAD_FORMAT),
    ("a_.b", BAD_FORMAT),
    ("a___b", BAD_FORMAT),
    ("-foo", BAD_FORMAT),
    (f"foo@{D}:tag", BAD_FORMAT),
    ("caf\u00e9", BAD_FORMAT),
    (f"bar:5000/{'a' * 63}/{'b' * 183}:tag", TOO_LONG),
    (f"docker.io/{'b' * 246}:tag", TOO_LONG),
    ("foo@sha256:" + "0" * 32, DIGEST_LENGTH),
    ("foo@sha256:" + "0" * 63, DIGEST_LENGTH),
    ("registry:5000/integration/test-image-stream@sha256:00000000000000000000000000000001", DIGEST_LENGTH),
    ("foo@sha512:" + "0" * 64, DIGEST_LENGTH),
    ("foo@md5:" + "0" * 32, DIGEST_ALGO),
    ("foo@SHA256:" + HEX64, DIGEST_ALGO),
    ("foo@sha1:" + "0" * 40, DIGEST_ALGO),
]


@pytest.mark.parametrize(("spec", "message"), PARSE_ERRORS)
def test_parse_errors(spec, message):
    with pytest.raises(ReferenceError) as excinfo:
        parse_docker_image_reference(spec)
    assert str(excinfo.value) == message


def test_reference_error_is_value_error():
    assert issubclass(ReferenceError, ValueError)


@pytest.mark.parametrize(
    "spec",
    ["a" + "-a" * 5000 + "!", "a" * 20000 + "!", "a/" * 3000 + "!", "a." * 5000 + "!"],
)
def test_pathological_input_fails_fast(spec):
    # the upstream separator (?:[._]|__|[-]*) would backtrack exponentially in Python's re
    with pytest.raises(ReferenceError, match=BAD_FORMAT):
        parse_docker_image_reference(spec)


# --- DockerImageReference methods -----------------------------------------------------

@pytest.mark.parametrize(
    ("spec", "most_specific", "repository", "name_string"),
    [
        ("quay.io/keycloak/keycloak:20.0.2", "quay.io/keycloak/keycloak:20.0.2",
         "quay.io/keycloak/keycloak", "keycloak/keycloak"),
        (f"quay.io/keycloak/keycloak:20.0.2@{D}", f"quay.io/keycloak/keycloak@{D}",
         "quay.io/keycloak/keycloak", "keycloak/keycloak"),
        ("keycloak:20", "keycloak:20", "keycloak", "keycloak"),
        (f"keycloak@{D}", f"keycloak@{D}", "keycloak", "keycloak"),
        ("openshift/ruby", "openshift/ruby", "openshift/ruby", "openshift/ruby"),
        ("localhost:5000/a/b:c", "localhost:5000/a/b:c", "localhost:5000/a/b", "a/b"),
        ("r.io/a/b/c:t", "r.io/a/b/c:t", "r.io/a/b/c", "a/b/c"),
        ("quay.io", "quay.io", "quay.io", ""),
    ],
)
def test_reference_renderings(spec, most_specific, repository, name_string):
    ref = parse_docker_image_reference(spec)
    assert ref.most_specific() == most_specific
    assert ref.repository() == repository
    assert ref.name_string() == name_string
    assert str(ref) == ref.exact()


def test_with_digest_drops_tag_and_keeps_original():
    ref = parse_docker_image_reference("quay.io/keycloak/keycloak:20.0.2")
    pinned = ref.with_digest(D)
    assert pinned == DockerImageReference("quay.io", "keycloak", "keycloak", "", D)
    assert pinned.exact() == f"quay.io/keycloak/keycloak@{D}"
    assert pinned.most_specific() == f"quay.io/keycloak/keycloak@{D}"
    assert ref.tag == "20.0.2" and ref.id == ""


def test_reference_is_frozen_and_hashable():
    ref = parse_docker_image_reference("keycloak:20")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.tag = "21"  # type: ignore[misc]
    assert hash(ref) == hash(parse_docker_image_reference("keycloak:20"))


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        # an id that is not a digest is a v1 by-id tag upstream, written with ':'
        (DockerImageReference(name="x", id="abc"), "x:abc"),
        (DockerImageReference(name="x", tag="t", id="abc"), "x:abc"),
        (DockerImageReference(name="x", tag="t", id=D), f"x@{D}"),
        (DockerImageReference(name="x", tag="t"), "x:t"),
        (DockerImageReference(name="x"), "x"),
    ],
)
def test_most_specific_prefers_id(ref, expected):
    assert ref.most_specific() == expected


def test_exact_keeps_tag_and_digest():
    ref = DockerImageReference("quay.io", "k", "k", "1", D)
    assert ref.exact() == f"quay.io/k/k:1@{D}"


# --- digests --------------------------------------------------------------------------

@pytest.mark.parametrize("digest", [D, D384, D512, f"sha256:{HEX64.upper()}"])
def test_validate_digest_ok(digest):
    assert validate_digest(digest) == digest
    assert is_digest(digest)


@pytest.mark.parametrize(
    ("digest", "message"),
    [
        ("", DIGEST_FORMAT),
        ("sha256", DIGEST_FORMAT),
        ("sha256:", DIGEST_FORMAT),
        (f":{HEX64}", DIGEST_FORMAT),
        ("sha256:" + "g" * 64, DIGEST_FORMAT),
        (f"sha 256:{HEX64}", DIGEST_FORMAT),
        (f"sha256:{HEX64}\n", DIGEST_FORMAT),
        ("sha256:abc", DIGEST_LENGTH),
        ("sha256:" + "a" * 65, DIGEST_LENGTH),
        ("sha384:" + "a" * 64, DIGEST_LENGTH),
        ("sha512:" + "a" * 96, DIGEST_LENGTH),
        (f"SHA256:{HEX64}", DIGEST_ALGO),
        ("md5:" + "a" * 32, DIGEST_ALGO),
        ("sha256+b64:abc", DIGEST_ALGO),
    ],
)
def test_validate_digest_errors(digest, message):
    with pytest.raises(ReferenceError) as excinfo:
        validate_digest(digest)
    assert str(excinfo.value) == message
    assert not is_digest(digest)


# --- oc tag destination tag names -----------------------------------------------------

@pytest.mark.parametrize(
    "tag", ["latest", "20.0.2", "1", "_private", "A-b.C_d", "v1-rc.1", "a" * 128, "x..--"]
)
def test_validate_tag_name_ok(tag):
    validate_tag_name(tag)


@pytest.mark.parametrize(
    "tag", ["", ".hidden", "-x", "a" * 129, "a/b", "a:b", "a@b", "has space", "caf\u00e9", "x\n"]
)
def test_validate_tag_name_errors(tag):
    with pytest.raises(ReferenceError, match="^invalid tag "):
        validate_tag_name(tag)


def test_validate_tag_name_message():
    with pytest.raises(ReferenceError) as excinfo:
        validate_tag_name(".bad")
    assert str(excinfo.value) == (
        'invalid tag ".bad" format, tags must start with an alphanumeric character followed by '
        "alphanumeric, '.' or '-' characters, and have a maximum of 128 characters"
    )


# --- server image stream names --------------------------------------------------------

STREAM_RULE = 'must match "[a-z0-9]+(?:[._-][a-z0-9]+)*"'


@pytest.mark.parametrize("name", ["keycloak", "my-app", "a.b", "a_b", "1", "a-b.c_d", "x" * 200])
def test_validate_stream_name_ok(name):
    validate_stream_name(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Keycloak", f'metadata.name: Invalid value: "Keycloak": {STREAM_RULE}'),
        ("-a", f'metadata.name: Invalid value: "-a": {STREAM_RULE}'),
        ("a-", f'metadata.name: Invalid value: "a-": {STREAM_RULE}'),
        ("a--b", f'metadata.name: Invalid value: "a--b": {STREAM_RULE}'),
        ("a__b", f'metadata.name: Invalid value: "a__b": {STREAM_RULE}'),
        ("my app", f'metadata.name: Invalid value: "my app": {STREAM_RULE}'),
        ("is:tag", f'metadata.name: Invalid value: "is:tag": {STREAM_RULE}'),
        (".", "metadata.name: Invalid value: \".\": may not be '.'"),
        ("..", "metadata.name: Invalid value: \"..\": may not be '..'"),
        ("a/b", "metadata.name: Invalid value: \"a/b\": may not contain '/'"),
        ("a%b", "metadata.name: Invalid value: \"a%b\": may not contain '%'"),
        (
            "a/%b",
            "[metadata.name: Invalid value: \"a/%b\": may not contain '/', "
            "metadata.name: Invalid value: \"a/%b\": may not contain '%']",
        ),
        ("", "metadata.name: Required value: name or generateName is required"),
    ],
)
def test_validate_stream_name_errors(name, message):
    with pytest.raises(ReferenceError) as excinfo:
        validate_stream_name(name)
    assert str(excinfo.value) == message


def test_validate_stream_name_total_length():
    validate_stream_name("b" * 199, namespace="a" * 55)  # 255 with the '/'
    with pytest.raises(ReferenceError, match="'namespace/name' cannot be longer than 255 characters"):
        validate_stream_name("b" * 200, namespace="a" * 55)


# --- namespaces -----------------------------------------------------------------------

@pytest.mark.parametrize("ns", ["default", "my-project", "a", "1abc", "a" * 63, "a-1-b"])
def test_validate_namespace_ok(ns):
    validate_namespace(ns)


@pytest.mark.parametrize("ns", ["", "My", "-a", "a-", "a_b", "a.b", "a/b"])
def test_validate_namespace_errors(ns):
    with pytest.raises(ReferenceError, match=r"RFC 1123 label") as excinfo:
        validate_namespace(ns)
    assert f'invalid namespace "{ns}"' in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_validate_namespace_too_long():
    with pytest.raises(ReferenceError, match="must be no more than 63 characters"):
        validate_namespace("a" * 64)


# --- oc tag DEST: [ns/]stream:tag -----------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("keycloak:20", ("", "keycloak", "20")),
        ("other/keycloak:20.0.2", ("other", "keycloak", "20.0.2")),
        ("keycloak:", ("", "keycloak", "latest")),  # SplitImageStreamTag defaults an empty tag
        ("is:a:b", ("", "is", "a:b")),  # only the first ':' splits
        (":tag", ("", "", "tag")),  # an empty stream is not caught client-side; the server rejects it
        ("ns/:t", ("ns", "", "t")),
    ],
)
def test_parse_stream_tag_ok(value, expected):
    assert parse_stream_tag(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("keycloak", '"keycloak" must be of the form <stream_name>:<tag>'),
        ("ns/keycloak", '"keycloak" must be of the form <stream_name>:<tag>'),
        ("", '"" must be of the form <stream_name>:<tag>'),
        ("a/b/c:t", 'invalid image stream "a/b/c:t"'),
        ("/x:y", 'invalid namespace "" for image stream "/x:y"'),
        ("ns/", 'invalid name "" for image stream "ns/"'),
    ],
)
def test_parse_stream_tag_errors(value, message):
    with pytest.raises(ReferenceError) as excinfo:
        parse_stream_tag(value)
    assert str(excinfo.value) == message


def test_parse_stream_tag_what_prefix():
    with pytest.raises(ReferenceError) as excinfo:
        parse_stream_tag("keycloak", what="invalid DEST")
    assert str(excinfo.value) == 'invalid DEST: "keycloak" must be of the form <stream_name>:<tag>'


# --- [ns/]stream@id -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"keycloak@{D}", ("", "keycloak", D)),
        (f"other/keycloak@{D}", ("other", "keycloak", D)),
        ("ruby@3c87c57", ("", "ruby", "3c87c57")),  # short ids are left to the server
    ],
)
def test_split_stream_image_ok(value, expected):
    assert split_stream_image(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("keycloak", '"keycloak" must be of the form <stream_name>@<id>'),
        (f"@{D}", f'"@{D}" must be of the form <stream_name>@<id>'),
        ("keycloak@", '"keycloak@" must be of the form <stream_name>@<id>'),
        ("a/b/c@x", 'invalid image stream "a/b/c@x"'),
        ("/k@x", 'invalid namespace "" for image stream "/k@x"'),
    ],
)
def test_split_stream_image_errors(value, message):
    with pytest.raises(ReferenceError) as excinfo:
        split_stream_image(value)
    assert str(excinfo.value) == message
