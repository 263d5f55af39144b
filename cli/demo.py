"""`imagetrail demo`: the lecture's image-trigger workflow, step by step, on a scratch store.

The registry snapshot shipped with the package (demo-mirror.json) stands in for quay.io;
its digests are illustrative, not keycloak's real ones.
"""

from __future__ import annotations

import shlex
import tempfile
from importlib import resources
from pathlib import Path

import click

from imagetrail.engine.settings import Settings

JSONPATH_TRIGGERS = "get deployment mykeycloak -o jsonpath='{.metadata.annotations.image\\.openshift\\.io/triggers}'"

STEPS = [
    ("Create an image stream tag from an external image", "create istag keycloak:20.0.2 --from-image quay.io/keycloak/keycloak:20.0.2"),
    ("Import a second version", "import-image keycloak:20.0.3 --from quay.io/keycloak/keycloak:20.0.3 --confirm"),
    ("Re-tag 20.0.2 from its source (nothing changes but the generation)", "tag quay.io/keycloak/keycloak:20.0.2 keycloak:20.0.2"),
    ("Enable local lookup so Deployments can say keycloak:20", "set image-lookup keycloak"),
    ("Make keycloak:20 an alias that tracks 20.0.2", "tag --alias keycloak:20.0.2 keycloak:20"),
    ("The alias shows in parentheses", "describe is keycloak"),
    ("Create a Deployment from the short name (resolved to the digest)", "create deployment mykeycloak --image keycloak:20"),
    ("Find the container name", "get deployment mykeycloak -o wide"),
    ("Follow keycloak:20 in container keycloak", "set triggers deployment/mykeycloak --from-image keycloak:20 --containers keycloak"),
    ("The trigger annotation", JSONPATH_TRIGGERS),
    ("List the triggers", "set triggers deployment/mykeycloak"),
    ("Pause and resume rollouts", "rollout pause deployment/mykeycloak"),
    (None, "rollout resume deployment/mykeycloak"),
    ("Disable image triggers (also pauses the Deployment)", "set triggers deployment/mykeycloak --manual"),
    (None, "set triggers deployment/mykeycloak"),
    ("Enable them again (also resumes the Deployment)", "set triggers deployment/mykeycloak --auto"),
    ("Remove all triggers (writes null and pauses the Deployment)", "set triggers deployment/mykeycloak --remove-all"),
    (None, JSONPATH_TRIGGERS),
    ("Set the trigger up again for the rollout story", "set triggers deployment/mykeycloak --from-image keycloak:20 --containers keycloak"),
    (None, "set triggers deployment/mykeycloak --auto"),
    ("Move keycloak:20 to the new image: the Deployment rolls out", "tag quay.io/keycloak/keycloak:20.0.3 keycloak:20"),
    (None, "get deployment mykeycloak -o wide"),
    ("Roll back by moving the tag back: the Deployment rolls back", "tag --alias keycloak:20.0.2 keycloak:20"),
    (None, "get deployment mykeycloak -o wide"),
    (None, "rollout history deployment/mykeycloak"),
    ("The alias's own history keeps every position, newest first",
     "get is keycloak -o jsonpath='{range .status.tags[?(@.tag==\"20\")].items[*]}{.image}{\"\\n\"}{end}'"),
]


def run_demo(keep: bool = False, settings: Settings | None = None) -> int:
    """The steps as commands under these settings (else the environment's), with a scratch store,
    the shipped snapshot, offline."""
    from imagetrail.cli.main import main

    settings = settings or Settings.load()
    workdir = tempfile.mkdtemp(prefix="imagetrail-demo-")
    mirror = resources.files("imagetrail.cli").joinpath("demo-mirror.json")
    scratch = settings.with_flags(store=f"sqlite:///{workdir}/demo.db", mirror=str(mirror), offline=True,
                                  namespace="demo", actor=settings.actor or "demo")
    failures = 0
    for title, command in STEPS:
        if title:
            click.secho(f"\n# {title}", fg="cyan")
        click.secho(f"$ imagetrail {command}", bold=True)
        try:
            main(shlex.split(command), settings=scratch)
        except SystemExit as e:
            if e.code:
                failures += 1
    if keep:
        click.echo(f"\nThe demo's store: {scratch.store}")
    else:
        for f in Path(workdir).iterdir():
            f.unlink()
        Path(workdir).rmdir()
    return 1 if failures else 0
