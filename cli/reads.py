"""Read commands: `get` and `describe`, as oc prints them."""

from __future__ import annotations

from datetime import datetime

import click

from imagetrail.cli import printers
from imagetrail.cli.describe import describe_imagestream
from imagetrail.cli.names import istag_name
from imagetrail.cli.session import (Session, get_deployment, get_stream, at_option, pass_session)
from imagetrail.engine.domain.errors import NotFound, UsageError
from imagetrail.engine.domain.references import quote
from imagetrail.projections import documents

RESOURCES = {
    "is": "imagestream", "imagestream": "imagestream", "imagestreams": "imagestream",
    "istag": "istag", "imagestreamtag": "istag", "imagestreamtags": "istag",
    "deployment": "deployment", "deployments": "deployment", "deploy": "deployment",
    "deployment.apps": "deployment", "deployments.apps": "deployment",
}


@click.command()
@click.argument("resource")
@click.argument("name", required=False)
@click.option("-A", "--all-namespaces", "all_namespaces", is_flag=True,
              help="List the objects of every namespace (a NAMESPACE column first).")
@printers.output_options
@at_option
@pass_session
def get(s: Session, resource, name, all_namespaces, output: printers.Output):
    """Show image streams (is), image stream tags (istag) or Deployments."""
    if "/" in resource and name is None:
        resource, name = resource.split("/", 1)
    kind = RESOURCES.get(resource.lower())
    if kind is None:
        raise UsageError(f"the server doesn't have a resource type {quote(resource)} (use is, istag or deployment)")
    if name and all_namespaces:
        raise UsageError("a resource cannot be retrieved by name across all namespaces")
    namespace = None if all_namespaces else s.namespace
    now = s.now

    def table(head: list[str], rows: list[tuple[str, list[str]]]) -> list[list[str]]:
        """kubectl's table: with -A, each row starts with its object's namespace."""
        if all_namespaces:
            return [["NAMESPACE", *head]] + [[ns, *row] for ns, row in rows]
        return [head] + [row for _, row in rows]

    if kind == "imagestream":
        states = [get_stream(s, name)] if name else s.reader.list("imagestream", namespace)
        docs = [documents.imagestream(st) for st in states]
        plain = lambda: table(["NAME", "IMAGE REPOSITORY", "TAGS", "UPDATED"], [
            (st.namespace, [st.name, st.repository, ",".join(_tag_names(st)), _updated(st, now)]) for st in states])
        text = printers.emit(output, docs, bool(name), plain=plain, resource="imagestream.image.openshift.io")
    elif kind == "istag":
        docs = _istags(s, name, namespace)
        plain = lambda: table(["NAME", "IMAGE REFERENCE", "UPDATED"], [
            (d["metadata"]["namespace"], [d["metadata"]["name"], d["image"]["dockerImageReference"],
             printers.ago(datetime.fromisoformat(d["metadata"]["creationTimestamp"]), now)]) for d in docs])
        text = printers.emit(output, docs, bool(name), plain=plain, resource="imagestreamtag.image.openshift.io")
    else:
        states = [get_deployment(s, name)] if name else s.reader.list("deployment", namespace)
        docs = [documents.deployment(st) for st in states]

        def rows(wide: bool) -> list[list[str]]:
            head = ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
            head += ["CONTAINERS", "IMAGES", "SELECTOR"] if wide else []
            body = []
            for st in states:
                row = [st.name, f"{st.replicas}/{st.replicas}", str(st.replicas), str(st.replicas),
                       printers.age(st.created, now)]
                if wide:
                    row += [",".join(c.name for c in st.containers), ",".join(c.image for c in st.containers),
                            ",".join(f"{k}={v}" for k, v in (st.labels or {"app": st.name}).items())]
                body.append((st.namespace, row))
            return table(head, body)

        text = printers.emit(output, docs, bool(name), plain=lambda: rows(False), wide=lambda: rows(True),
                             resource="deployment.apps")
    if not docs and not name and output.format in ("", "wide"):  # kubectl: human-readable printers only
        click.echo("No resources found" if all_namespaces else f"No resources found in {s.namespace} namespace.",
                   err=True)
        return
    click.echo(text, nl=False)


def _istags(s: Session, name: str | None, namespace: str | None) -> list[dict]:
    if name:
        if ":" not in name:
            raise UsageError("ImageStreamTags must be retrieved with <name>:<tag>")
        stream, tag = istag_name(s.namespace, name)
        state = s.reader.get("imagestream", s.namespace, stream)
        doc = documents.imagestreamtag(state, tag) if state else None
        if doc is None:
            raise NotFound(f"imagestreamtags.image.openshift.io {quote(name)} not found")
        return [doc]
    found = []
    for state in s.reader.list("imagestream", namespace):
        for tag in sorted(state.status_tags):
            doc = documents.imagestreamtag(state, tag)
            if doc:
                found.append(doc)
    return found


def _tag_names(state) -> list[str]:
    from imagetrail.cli.gofmt import prioritize_tags
    return prioritize_tags([t for t in state.status_tags if state.status_tags[t].items])


def _updated(state, now: datetime) -> str:
    heads = [h.items[0].created for h in state.status_tags.values() if h.items]
    return printers.ago(max(heads), now) if heads else ""


@click.command()
@click.argument("resource")
@click.argument("name", required=False)
@at_option
@pass_session
def describe(s: Session, resource, name):
    """Describe an image stream, as `oc describe is NAME` prints it."""
    if "/" in resource and name is None:
        resource, name = resource.split("/", 1)
    if RESOURCES.get(resource.lower()) != "imagestream":
        raise UsageError("describe supports image streams: imagetrail describe is NAME")
    names = [name] if name else [st.name for st in s.reader.list("imagestream", s.namespace)]
    texts = [describe_imagestream(documents.imagestream(get_stream(s, n)), s.now) for n in names]
    click.echo("\n\n".join(t.rstrip("\n") for t in texts))
