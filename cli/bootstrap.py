"""Objects from files: `apply -f` and `import -f`."""

from __future__ import annotations


import click

from imagetrail.cli import render
from imagetrail.cli.session import (Session, read_documents, pass_session)
from imagetrail.engine.domain.errors import UsageError


@click.command()
@click.option("-f", "--filename", "filename", required=True, help="YAML or JSON file of objects; - for stdin.")
@pass_session
def apply(s: Session, filename):
    """Create or update ImageStreams and Deployments from real API objects (kind: List too)."""
    objects = read_documents(filename)  # a bad file is refused before a store is opened or created
    result = s.writer.apply(s.namespace, objects, actor=s.actor, enforce_namespace=s.namespace_given)
    render.emit(render.object_lines(result), result)


@click.command("import")
@click.option("-f", "--filename", "filename",
              help="What oc get is|deploy -o yaml|json printed (kind: List too); - for stdin.")
@click.option("--audit-log", "audit_log", metavar="FILE",
              help="Kubernetes API audit events (audit.k8s.io/v1, one JSON object a line); - for stdin.")
@pass_session
def import_(s: Session, filename, audit_log):
    """Record a cluster's existing ImageStreams (spec and whole history) and Deployments."""
    if (filename is None) == (audit_log is None):
        raise UsageError("give -f FILE (the cluster's objects) or --audit-log FILE (its API audit events)")
    if audit_log is not None:
        return _import_audit_log(s, audit_log)
    objects = read_documents(filename)
    result = s.writer.import_cluster(s.namespace, objects, source=filename, actor=s.actor,
                                     enforce_namespace=s.namespace_given)
    render.emit(render.object_lines(result), result, notices=render.skipped_notices(result))


def _import_audit_log(s: Session, audit_log: str) -> None:
    """Who changed the cluster's image streams and Deployments, from its API audit log."""
    from imagetrail.engine.service.cluster_audit import import_audit_log

    result = import_audit_log(s.writer, read_documents(audit_log), source=audit_log)
    click.echo(f"{result.read} audit records: {result.relevant} completed writes of image streams and Deployments; "
               f"{result.attributed} attributed, {result.recorded} objects recorded from responses, "
               f"{result.already} read before")
    for name in sorted(set(result.unknown)):
        click.echo(f"info: {name} is not known to imagetrail and the record holds no object: run watch or "
                   "import -f first", err=True)


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


@click.command()
@click.option("-f", "--filename", "filename", required=True,
              help="A watch stream (oc get is,deploy -A -w --output-watch-events -o json); - for stdin.")
@pass_session
def watch(s: Session, filename):
    """Record each change a cluster's watch stream shows, as the cluster made it; runs until the
    stream ends.

    One line per change on stdout. An ERROR event (410 Gone: list again) ends the command with
    exit 1 after what came before it was recorded; re-feeding a stream writes nothing new."""
    import sys

    from imagetrail.engine.adapters.decoding import json_stream
    from imagetrail.engine.domain import watch_events

    source = "stdin" if filename == "-" else filename
    try:
        lines = sys.stdin if filename == "-" else open(filename, encoding="utf-8-sig")
    except OSError as e:
        raise UsageError(f"cannot read {filename}: {e.strerror}") from None
    with lines:
        for index, document in enumerate(json_stream(lines, source), 1):
            event = watch_events.parse(document, f"{source}: document {index}")
            if event.type == "BOOKMARK":
                continue
            if event.type == "ERROR":
                raise UsageError(event.error())
            seen = s.writer.observe(s.namespace, event, source=filename)
            click.echo(f"{seen.kind.lower()}/{seen.name} -n {seen.namespace}: {seen.action} "
                       f"({seen.type} at resourceVersion {seen.resource_version or '?'}, by {seen.actor})", nl=True)
            sys.stdout.flush()
