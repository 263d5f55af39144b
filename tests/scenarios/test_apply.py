"""`imagetrail apply -f` with real OpenShift objects (the fixtures) and imagetrail's own output."""

import json
from pathlib import Path

from conftest import A, B, KEYCLOAK

FIXTURES = Path(__file__).parents[1] / "fixtures"  # copies of shared/reference/fixtures
RUBY = "centos/ruby-22-centos7"


def test_apply_a_real_deployment_keeps_its_triggers_annotation(imagetrail, tmp_path):
    fixture = FIXTURES / "deployment_with_triggers_annotation__openshift-oc.yaml"
    assert imagetrail(f"apply -f {fixture}").out == "deployment.apps/ruby-deploy created\n"
    value = imagetrail("get deployment ruby-deploy -o jsonpath='{.metadata.annotations.image\\.openshift\\.io/triggers}'").out
    assert value == ('[{"from":{"kind":"ImageStreamTag","name":"ruby-deploy:latest"},'
                     '"fieldPath":"spec.template.spec.containers[?(@.name==\\"ruby-deploy\\")].image"}]')
    listing = imagetrail("set triggers deployment/ruby-deploy").out.splitlines()
    assert listing[2].split() == ["deployments/ruby-deploy", "image", "ruby-deploy:latest", "(ruby-deploy)", "true"]
    assert imagetrail(f"apply -f {fixture}").out == "deployment.apps/ruby-deploy unchanged\n"


def test_applied_trigger_fires_when_its_tag_appears(imagetrail):
    imagetrail(f"apply -f {FIXTURES / 'deployment_with_triggers_annotation__openshift-oc.yaml'}")
    imagetrail(f"tag {KEYCLOAK}@{B} ruby-deploy:latest")
    assert imagetrail.image("ruby-deploy", "ruby-deploy") == f"{KEYCLOAK}@{B}"


def test_apply_an_imagestream_list_with_a_digest_copy(imagetrail, tmp_path):
    stream = {
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
        "metadata": {"name": "keycloak", "annotations": {"openshift.io/image.dockerRepositoryCheck": "x"}},
        "spec": {"lookupPolicy": {"local": True}, "tags": [
            {"name": "20.0.2", "from": {"kind": "DockerImage", "name": f"{KEYCLOAK}:20.0.2"}},
            {"name": "20", "from": {"kind": "ImageStreamTag", "name": "20.0.2"}},
            {"name": "pinned", "from": {"kind": "ImageStreamImage", "name": f"keycloak@{A}"}},
        ]},
    }
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [stream]}))
    assert imagetrail(f"apply -f {path}").out == "imagestream.image.openshift.io/keycloak created\n"
    assert [imagetrail.history(t) for t in ("20.0.2", "20", "pinned")] == [[A], [A], [A]]
    assert imagetrail("get is keycloak -o jsonpath='{.spec.lookupPolicy.local}'").out == "true"
    assert imagetrail(f"apply -f {path}").out == "imagestream.image.openshift.io/keycloak unchanged\n"


def test_apply_roundtrips_imagetrails_own_output(keycloak, tmp_path):
    dump = tmp_path / "dump.yaml"
    dump.write_text(keycloak("get deployment mykeycloak -o yaml").out)
    other = f"--store sqlite:///{tmp_path}/other.db"
    assert keycloak(f"apply -f {dump} {other}").out == "deployment.apps/mykeycloak created\n"
    original, copy = (keycloak(f"get deployment mykeycloak -o json {store}").json() for store in ("", other))
    for doc in (original, copy):
        doc["metadata"].pop("creationTimestamp")
        doc["metadata"]["annotations"].pop("deployment.kubernetes.io/revision")
    assert copy == original


def test_apply_fixture_scheduled_imagestreamimage_is_rejected_like_the_server(imagetrail):
    fixture = FIXTURES / "imagestream_copy_by_digest_and_history__openshift-oc.yaml"
    result = imagetrail.fails(f"apply -f {fixture}")
    assert "only tags pointing to Docker repositories may be scheduled for background import" in result.err
    assert imagetrail.event_count() == 0


def test_apply_rejects_other_kinds_and_writes_nothing(imagetrail, tmp_path):
    path = tmp_path / "svc.yaml"
    path.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n")
    assert imagetrail.fails(f"apply -f {path}").err == \
        'error: imagetrail apply takes ImageStream and Deployment objects, not Service "web"\n'
    assert imagetrail.event_count() == 0


def test_apply_from_stdin(imagetrail, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: web, image: nginx:1.25}]\n"))
    assert imagetrail("apply -f -").out == "deployment.apps/web created\n"
