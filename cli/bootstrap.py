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
