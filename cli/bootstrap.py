"""Objects from files: `apply -f` and `import -f`."""

from __future__ import annotations


import click

from imagetrail.cli import render
from imagetrail.cli.session import (Session, read_documents, pass_session)


@click.command()
@click.option("-f", "--filename", "filename", required=True, help="YAML or JSON file of objects; - for stdin.")
@pass_session
def apply(s: Session, filename):
    """Create or update ImageStreams and Deployments from real API objects (kind: List too)."""
    objects = read_documents(filename)  # a bad file is refused before a store is opened or created
    result = s.writer.apply(s.namespace, objects, actor=s.actor, enforce_namespace=s.namespace_given)
    render.emit(render.object_lines(result), result)


@click.command("import")
@click.option("-f", "--filename", "filename", required=True,
              help="What oc get is|deploy -o yaml|json printed (kind: List too); - for stdin.")
@pass_session
def import_(s: Session, filename):
    """Record a cluster's existing ImageStreams (spec and whole history) and Deployments."""
    objects = read_documents(filename)
    result = s.writer.import_cluster(s.namespace, objects, source=filename, actor=s.actor,
                                     enforce_namespace=s.namespace_given)
    render.emit(render.object_lines(result), result, notices=render.skipped_notices(result))


@click.command()
@click.option("-f", "--filename", "filename", required=True,
              help="The cluster's objects (oc get is,deploy -o yaml); - for stdin.")
@click.option("-o", "--output", type=click.Choice(["json"]), help="json: the differences as one JSON document.")
@pass_session
def diff(s: Session, filename, output):
    """Show what the cluster's objects have that imagetrail does not, and the reverse: exit 1 on drift.

    Per object: each tag's image, each spec tag's source, container images, image triggers and
    the paused state, as `kubectl diff` exits 0 when there is none and 1 when there is."""
    import json
    from dataclasses import asdict

    from imagetrail.engine.service.drift import diff as find_drift

    objects = read_documents(filename)
    listed = {kind: [(o.namespace, o.name) for o in s.reader.list(kind, None)] for kind in ("imagestream", "deployment")}
    differences = find_drift(s.app, s.namespace, objects, enforce_namespace=s.namespace_given, listed=listed)
    if output == "json":
        click.echo(json.dumps({"drift": bool(differences), "differences": [asdict(d) for d in differences]}, indent=2))
    else:
        for d in differences:
            what = {"imagestream": "imagestream.image.openshift.io", "deployment": "deployment.apps"}[d.kind]
            click.echo(f"{what}/{d.name} -n {d.namespace}: {d.field}: cluster {d.cluster or '<none>'}, "
                       f"imagetrail {d.imagetrail or '<none>'}")
    if differences:
        raise SystemExit(1)
