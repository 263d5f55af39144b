"""The Deployment use cases called directly (no CLI, no click): each returns what it did as data."""

import json
import subprocess
import sys

import pytest

from conftest import A, B, KEYCLOAK, SNAPSHOT

from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.settings import Settings
from imagetrail.engine.domain.errors import NotFound
from imagetrail.engine.domain.trigger_definition import TriggerChange
from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.service.unit_of_work import Rollout
from imagetrail.engine.service.deployments import DeploymentChange, Deployments, ImageSetBack

NS = "demo"
FOLLOW = TriggerChange("keycloak:20", containers=("keycloak",))


@pytest.fixture
def app(tmp_path):
    mirror = tmp_path / "mirror.json"
    mirror.write_text(json.dumps(SNAPSHOT))
    app = ImageTrail(parse_store(Settings(store="memory://")), Resolver.from_file(str(mirror)))
    app.tag(NS, f"{KEYCLOAK}:20.0.2", ["keycloak:20"])
    return app


def image(app, name="web", container="keycloak"):
    return app.deployment(NS, name).state.container(container).image


def test_a_deployment_with_a_trigger_rolls_out_when_the_tag_moves(app):
    deployments = Deployments(app)
    assert deployments.create_deployment(NS, "web", [f"{KEYCLOAK}:20.0.2"]) == DeploymentChange("web", "created")
    assert deployments.set_triggers(NS, "web", FOLLOW).action == "triggers updated"
    assert image(app) == f"{KEYCLOAK}@{A}"  # the trigger set the container to the tag's image at once
    assert deployments.set_triggers(NS, "web", FOLLOW).action == "unchanged"

    app.tag(NS, f"{KEYCLOAK}:20.0.3", ["keycloak:20"])
    assert image(app) == f"{KEYCLOAK}@{B}"
    assert app.deployment(NS, "web").state.revision == 3


def test_set_triggers_manual_pauses_the_trigger_and_the_deployment(app):
    deployments = Deployments(app)
    deployments.create_deployment(NS, "web", [f"{KEYCLOAK}:20.0.2"])
    deployments.set_triggers(NS, "web", FOLLOW)
    change = deployments.set_triggers(NS, "web", TriggerChange(manual=True))
    assert (change.action, change.rollouts, change.not_applied) == ("triggers updated", [], [])
    state = app.deployment(NS, "web").state
    assert state.paused and [t.paused for t in state.triggers()] == [True]
    app.tag(NS, f"{KEYCLOAK}:20.0.3", ["keycloak:20"])
    assert image(app) == f"{KEYCLOAK}@{A}"  # a manual trigger does not follow

    resumed = deployments.set_triggers(NS, "web", TriggerChange(auto=True))
    assert resumed.action == "triggers updated"
    assert image(app) == f"{KEYCLOAK}@{B}"
    assert resumed.rollouts == [Rollout("web", 3)]


def test_set_image_on_a_container_an_automatic_trigger_governs_is_set_back(app):
    deployments = Deployments(app)
    deployments.create_deployment(NS, "web", [f"{KEYCLOAK}:20.0.2"])
    deployments.set_triggers(NS, "web", FOLLOW)
    change = deployments.set_image(NS, "web", {"keycloak": "nginx:1"})
    assert change.action == "image updated"
    assert change.set_back == [ImageSetBack("keycloak", "keycloak:20", f"{KEYCLOAK}@{A}")]

    deployments.create_deployment(NS, "plain", [f"{KEYCLOAK}:20.0.2"])
    plain = deployments.set_image(NS, "plain", {"keycloak": "nginx:1"})
    assert plain.set_back == [] and image(app, "plain") == "nginx:1"
    assert plain.rollouts == [Rollout("plain", 2)]


def test_pause_resume_and_undo_say_what_they_did(app):
    deployments = Deployments(app)
    deployments.create_deployment(NS, "web", ["nginx:1"])
    deployments.set_image(NS, "web", {"nginx": "nginx:2"})
    assert deployments.pause(NS, "web").action == "paused"
    assert deployments.resume(NS, "web").action == "resumed"
    undone = deployments.undo_rollout(NS, "web")
    assert (undone.action, image(app, "web", "nginx")) == ("rolled back", "nginx:1")
    assert deployments.undo_rollout(NS, "web", to_revision=3).action == "skipped rollback"
    with pytest.raises(NotFound, match="deployments.apps \"nope\" not found"):
        deployments.pause(NS, "nope")


def test_the_use_cases_do_not_load_the_cli_framework():
    code = ("import sys, imagetrail.engine.service.deployments, imagetrail.engine.service.rollback; "
            "sys.exit('click' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
