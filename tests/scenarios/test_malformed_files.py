"""Generated malformed files for `apply -f` and `import -f`: a wrongly typed value at every field path
of a valid ImageStream and Deployment, YAML tags, bytes that are not UTF-8, and deep nesting.
Each must give exit 1 or 2, exactly one `error:` line on stderr (never `unexpected`), and no write."""

import os
import copy
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import KEYCLOAK

pytestmark = pytest.mark.sqlite_only  # one store is enough to show the parser's behaviour

STREAM = {
    "apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
    "metadata": {"name": "keycloak", "namespace": "demo", "generation": 2, "creationTimestamp": "2026-01-05T10:00:00Z",
                 "labels": {"app": "keycloak"}, "annotations": {"note": "x"}},
    "spec": {"lookupPolicy": {"local": True}, "tags": [
        {"name": "20.0.2", "annotations": {"a": "b"}, "from": {"kind": "DockerImage", "name": f"{KEYCLOAK}:20.0.2"},
         "reference": False, "generation": 2,
         "importPolicy": {"insecure": False, "scheduled": False, "importMode": "Legacy"},
         "referencePolicy": {"type": "Source"}},
        {"name": "20", "from": {"kind": "ImageStreamTag", "name": "20.0.2", "namespace": "demo"}}]},
    "status": {"dockerImageRepository": "r/demo/keycloak", "tags": [{"tag": "20.0.2", "items": [
        {"created": "2026-01-05T10:00:00Z", "dockerImageReference": f"{KEYCLOAK}@sha256:{'a' * 64}",
         "image": f"sha256:{'a' * 64}", "generation": 2}]}]},
}
DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"},
                 "annotations": {"image.openshift.io/triggers": "[]"}},
    "spec": {"replicas": 2, "paused": False, "template": {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"initContainers": [{"name": "init", "image": "busybox:1"}],
                 "containers": [{"name": "web", "image": "nginx:1.25"}]}}},
}


def paths(value, prefix=()):
    """Every field path of a document, containers and leaves alike."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, (*prefix, index))


def json_type(value) -> str:
    return {bool: "bool", int: "number", float: "number", str: "string", list: "list", dict: "dict"}[type(value)]


VALUES = st.one_of(st.text(max_size=8), st.integers(min_value=-10**20, max_value=10**20), st.booleans(),
                   st.floats(allow_nan=False, allow_infinity=False), st.lists(st.integers(), max_size=2),
                   st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
TARGETS = [(doc, path) for doc in (STREAM, DEPLOYMENT) for path in paths(doc) if path]


@st.composite
def wrongly_typed(draw) -> bytes:
    doc, path = draw(st.sampled_from(TARGETS))
    original = doc
    for key in path:
        original = original[key]
    value = draw(VALUES.filter(lambda v: json_type(v) != json_type(original)))
    mutated = copy.deepcopy(doc)
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    as_yaml = draw(st.booleans())
    text = yaml.safe_dump(mutated) if as_yaml else json.dumps(mutated, indent=draw(st.sampled_from([None, 2, "\t"])))
    return text.encode()


@st.composite
def broken_bytes(draw) -> bytes:
    good = yaml.safe_dump(draw(st.sampled_from([STREAM, DEPLOYMENT]))).encode()
    kind = draw(st.sampled_from(["tag", "utf8", "nesting", "truncated"]))
    if kind == "tag":
        tag = draw(st.sampled_from(["!!int abc", "!!timestamp 2026-01-05", "!!python/name:os.system", "!!binary aGk=",
                                    "!!float x", "!!set {a}", "!custom 1", "!!python/object/apply:os.getpid []"]))
        lines = good.decode().splitlines()
        index = draw(st.integers(0, len(lines) - 1))
        key = lines[index].split(":", 1)[0] if ":" in lines[index] else "  x"
        lines[index] = f"{key}: {tag}" if key.strip() and not key.strip().startswith("-") else lines[index] + f" {tag}"
        return ("\n".join(lines) + "\n").encode()
    if kind == "utf8":
        at = draw(st.integers(0, len(good)))
        return good[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xe9", b"\xed\xa0\x80"])) + good[at:]
    if kind == "nesting":
        opener = draw(st.sampled_from(["[", "{\"a\":", "a: [", "- "]))
        if opener == "- ":  # block nesting: each level indents further
            return "".join("  " * i + "-\n" for i in range(draw(st.integers(101, 400)))).encode()
        return (opener * draw(st.integers(101, 20000))).encode()
    # cut anywhere, then a control character YAML does not allow: never valid
    return good[: draw(st.integers(1, len(good) - 1))] + b"\x07"


@settings(max_examples=int(os.environ.get("IMAGETRAIL_GENERATED_EXAMPLES", "100")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.one_of(wrongly_typed(), broken_bytes()), verb=st.sampled_from(["apply", "import"]))
def test_a_malformed_file_is_one_clear_error_and_writes_nothing(imagetrail, tmp_path, data, verb):
    path = tmp_path / "bad"
    path.write_bytes(data)
    before = imagetrail.event_count()
    result = imagetrail(f"{verb} -f {path}", ok=False)
    assert result.code in (1, 2), result
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    assert "unexpected" not in result.err and "Traceback" not in result.err
    assert imagetrail.event_count() == before
