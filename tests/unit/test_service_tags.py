"""The image stream use cases answer with data, not text: called here as a second front end
would call them, on an in-memory store, without the CLI."""

import json
import subprocess
import sys

import pytest

from conftest import A, B, C, KEYCLOAK, SNAPSHOT

from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.settings import Settings
from imagetrail.engine.domain.errors import AliasAcrossStreams, NoImageToTag, NoStreamToImport, NotReimportable
from imagetrail.engine.domain.model import DOCKER_IMAGE, ObjectReference
from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.service.bootstrap import ObjectChange
from imagetrail.engine.service.tag_processing import TagImport
from imagetrail.engine.service.tags import TagChange, TagName
from imagetrail.engine.service.unit_of_work import ImportFailure, Rollout, TriggerNotApplied


@pytest.fixture
def app(tmp_path):
    mirror = tmp_path / "mirror.json"
    mirror.write_text(json.dumps(SNAPSHOT))
    return ImageTrail(parse_store(Settings(store="memory://")), Resolver.from_file(str(mirror)))


def stream(name: str, **spec_tags: str) -> dict:
    return {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": {"name": name},
            "spec": {"tags": [{"name": t, "from": {"kind": "DockerImage", "name": s}} for t, s in spec_tags.items()]}}


def deployment(name: str, image: str, follows: str | None = None) -> dict:
    annotations = {}
    if follows:
        annotations["image.openshift.io/triggers"] = json.dumps([{
            "from": {"kind": "ImageStreamTag", "name": follows},
            "fieldPath": 'spec.template.spec.containers[?(@.name=="app")].image'}])
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "annotations": annotations},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}}}


def test_a_tag_move_reports_the_change_and_the_rollout_it_caused(app):
    result = app.tag("demo", f"{KEYCLOAK}:20.0.2", ["keycloak:20"])
    assert result.changes == [TagChange("demo", "keycloak", "20", f"{KEYCLOAK}:20.0.2", "set")]
    assert (result.rollouts, result.failures) == ([], [])
    app.apply("demo", [deployment("web", f"{KEYCLOAK}@{A}", follows="keycloak:20")])

    moved = app.tag("demo", f"{KEYCLOAK}:20.0.3", ["keycloak:20"])
    assert moved.rollouts == [Rollout("web", 2)]
    assert app.deployment("demo", "web").state.container("app").image == f"{KEYCLOAK}@{B}"


def test_an_alias_and_a_copy_by_digest_name_their_source(app):
    app.tag("demo", f"{KEYCLOAK}:20.0.2", ["keycloak:20.0.2"])
    alias = app.tag("demo", "keycloak:20.0.2", ["keycloak:20"], alias=True)
    assert alias.changes == [TagChange("demo", "keycloak", "20", "keycloak:20.0.2", "alias")]
    copy = app.tag("demo", "keycloak:20.0.2", ["other/keycloak:pinned"])
    assert copy.namespace == "demo"
    assert copy.changes == [TagChange("other", "keycloak", "pinned", f"keycloak@{A}", "set")]
    assert app.stream("other", "keycloak").state.spec_tags["pinned"].source.namespace == "demo"
    with pytest.raises(AliasAcrossStreams) as refused:
        app.tag("demo", "keycloak:20.0.2", ["other:20"], alias=True)
    assert refused.value.dest == "demo/other:20"
    with pytest.raises(NoImageToTag) as empty:
        app.tag("demo", "nginx:latest", ["keycloak:x"])
    assert empty.value.source == "nginx:latest"


def test_a_scheduled_tag_is_reimported_only_when_its_digest_moves_upstream(app):
    app.apply("demo", [deployment("web", "keycloak:live", follows="keycloak:live")])
    result = app.tag("demo", f"{KEYCLOAK}:20.0.2", ["keycloak:live"], scheduled=True)
    assert result.changes == [TagChange("demo", "keycloak", "live", f"{KEYCLOAK}:20.0.2", "scheduled")]

    unchanged = app.reimport_scheduled("demo", "keycloak")
    assert (unchanged.imported, unchanged.failures, unchanged.rollouts) == ([], [], [])
    app.resolver.snapshot[f"{KEYCLOAK}:20.0.2"] = C  # the tag moved upstream
    moved = app.reimport_scheduled("demo", "keycloak")
    assert moved.imported == [TagImport("demo", "keycloak", "live", C, A)]
    assert moved.rollouts == [Rollout("web", 3)]


def test_an_import_failure_is_data_and_the_tag_keeps_its_condition(app):
    result = app.import_image("demo", "broken:1", from_="quay.io/nope/nope:1", confirm=True)
    assert (result.stream, result.tag) == ("broken", "1")
    assert [(f.stream, f.tag) for f in result.failures] == [("broken", "1")]
    assert "quay.io/nope/nope:1" in result.failures[0].message
    assert isinstance(result.failures[0], ImportFailure)
    with pytest.raises(NoStreamToImport) as missing:
        app.import_image("demo", "fresh")
    assert missing.value.stream == "fresh"


def test_import_image_refuses_a_tag_that_is_not_a_container_image(app):
    app.create_istag("demo", "keycloak:20.0.2", source=ObjectReference(kind=DOCKER_IMAGE, name=f"{KEYCLOAK}:20.0.2"))
    app.tag("demo", "keycloak:20.0.2", ["keycloak:pinned"])
    with pytest.raises(NotReimportable) as refused:
        app.import_image("demo", "keycloak:pinned")
    assert (refused.value.tag, refused.value.kind, refused.value.source) == (
        "pinned", "ImageStreamImage", f"keycloak@{A}")


def test_apply_says_created_configured_or_unchanged_per_object(app):
    objects = [stream("keycloak", **{"20": f"{KEYCLOAK}:20.0.2"}), deployment("web", "keycloak:20")]
    created = app.apply("demo", objects)
    assert created.objects == [ObjectChange("imagestream", "keycloak", "created"),
                               ObjectChange("deployment", "web", "created")]
    again = app.apply("demo", objects)
    assert again.objects == [ObjectChange("imagestream", "keycloak", "unchanged"),
                             ObjectChange("deployment", "web", "unchanged")]
    changed = app.apply("demo", [stream("keycloak", **{"20": f"{KEYCLOAK}:20.0.3"})])
    assert changed.objects == [ObjectChange("imagestream", "keycloak", "configured")]


def test_import_counts_the_kinds_it_skips(app):
    others = [{"apiVersion": "v1", "kind": kind, "metadata": {"name": f"x{i}"}}
              for i, kind in enumerate(["Service", "Pod", "Service"])]
    result = app.import_cluster("demo", [deployment("web", f"{KEYCLOAK}@{A}")] + others, source="dump.yaml")
    assert result.objects == [ObjectChange("deployment", "web", "created")]
    assert result.skipped == {"Service": 2, "Pod": 1}


def test_a_trigger_the_controller_cannot_apply_is_reported_with_its_error(app):
    app.tag("demo", f"{KEYCLOAK}:20.0.2", ["keycloak:20"])
    ghost = deployment("web", f"{KEYCLOAK}@{A}", follows="keycloak:20")
    ghost["metadata"]["annotations"]["image.openshift.io/triggers"] = json.dumps([{
        "from": {"kind": "ImageStreamTag", "name": "keycloak:20"},
        "fieldPath": 'spec.template.spec.containers[?(@.name=="ghost")].image'}])
    app.apply("demo", [ghost])
    moved = app.tag("demo", f"{KEYCLOAK}:20.0.3", ["keycloak:20"])
    assert moved.rollouts == []
    assert [n.deployment for n in moved.not_applied] == ["web"]
    assert isinstance(moved.not_applied[0], TriggerNotApplied) and "ghost" in moved.not_applied[0].error


def test_delete_and_image_lookup_name_what_they_changed(app):
    app.tag("demo", f"{KEYCLOAK}:20.0.2", ["keycloak:a", "keycloak:b"])
    assert app.delete_tags("demo", ["keycloak:a"]).deleted == [TagName("demo", "keycloak", "a")]
    assert app.set_image_lookup("demo", ["keycloak"]).updated == ["keycloak"]
    assert app.set_image_lookup("demo", ["keycloak"]).updated == []  # already on: nothing changed


def test_the_use_cases_load_without_the_cli():
    code = ("import sys; import imagetrail.engine.service.application, imagetrail.engine.service.tags, "
            "imagetrail.engine.service.bootstrap, imagetrail.engine.service.scheduled_imports; "
            "print(sorted(m for m in sys.modules if m == 'click' or m.startswith('imagetrail.cli')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
