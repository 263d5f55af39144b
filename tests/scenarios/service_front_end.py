"""A second front end, as an HTTP API would be: the lecture workflow and a rollback through the
service layer alone (no click, no imagetrail.cli), answering with the data the use cases return.

Run by test_second_front_end.py in a fresh interpreter, so that what it imports is all it needs:
    python service_front_end.py WORKDIR   → one JSON document on stdout
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.domain.model import DOCKER_IMAGE, ObjectReference
from imagetrail.engine.domain.trigger_definition import TriggerChange
from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.service.deployments import Deployments
from imagetrail.engine.service.rollback import Rollback, Target
from imagetrail.engine.settings import Settings
from imagetrail.projections.history_reader import ProjectionHistory
from imagetrail.projections.runner import catch_up
from imagetrail.projections.views import open_view

KEYCLOAK = "quay.io/keycloak/keycloak"
A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64
NS = "shop"


def run(work: Path) -> dict:
    snapshot = work / "snapshot.json"
    snapshot.write_text(json.dumps({f"{KEYCLOAK}:20.0.2": A, f"{KEYCLOAK}:20.0.3": B}))
    # the composition root of this front end: a store, a resolver, the projections
    app = ImageTrail(parse_store(Settings(store=f"sqlite:///{work}/store.db")), Resolver.from_file(str(snapshot)))
    view = open_view(app.views_path, app.source)

    def caught_up():
        catch_up(app, view)
        return view

    history = ProjectionHistory(app, caught_up)
    deployments, rollback = Deployments(app), Rollback(app, history)

    steps = {
        "create istag": app.create_istag(NS, "keycloak:20.0.2",
                                         source=ObjectReference(kind=DOCKER_IMAGE, name=f"{KEYCLOAK}:20.0.2")),
        "import-image": app.import_image(NS, "keycloak:20.0.3", from_=f"{KEYCLOAK}:20.0.3", confirm=True),
        "set image-lookup": app.set_image_lookup(NS, ["keycloak"]),
        "tag --alias": app.tag(NS, "keycloak:20.0.2", ["keycloak:20"], alias=True),
        "create deployment": deployments.create_deployment(NS, "mykeycloak", ["keycloak:20"]),
        "set triggers": deployments.set_triggers(NS, "mykeycloak", TriggerChange("keycloak:20",
                                                                                 containers=("keycloak",))),
        "rollout pause": deployments.pause(NS, "mykeycloak"),
        "rollout resume": deployments.resume(NS, "mykeycloak"),
        "tag 20.0.3": app.tag(NS, f"{KEYCLOAK}:20.0.3", ["keycloak:20"]),
    }
    plan = rollback.plan(Target(NS, "keycloak", "20", steps=1))
    done = rollback.execute(Target(NS, "keycloak", "20", steps=1))
    return {
        "steps": {name: _data(result) for name, result in steps.items()},
        "plan": _data(plan),
        "executed": _data(done),
        "image": app.deployment(NS, "mykeycloak").state.container("keycloak").image,
        "modules": sorted(m for m in sys.modules if m == "click" or m.startswith(("click.", "imagetrail.cli"))),
    }


def _data(result) -> dict:
    """Results are dataclasses of plain values and pydantic models: JSON as they are."""
    return json.loads(json.dumps(asdict(result), default=lambda o: o.model_dump(mode="json")))


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]))))
