"""Drift: what a cluster's objects (`oc get is,deploy -o yaml`) show that imagetrail's view does
not, and the reverse (`imagetrail diff -f`). Read only.

Compared per object: each tag's current image (the head of its status history), each spec
tag's source, each container's image, the image triggers and the paused state. Objects only
one side has are reported for the kinds and namespaces the input covers: a dump of image
streams alone says nothing about Deployments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from imagetrail.engine.domain import manifests
from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.model import TagReference
from imagetrail.engine.domain.trigger_annotation import TRIGGERS_ANNOTATION

if TYPE_CHECKING:
    from imagetrail.engine.service.application import ImageTrail

Kind = Literal["imagestream", "deployment"]


@dataclass(frozen=True)
class Difference:
    kind: Kind
    namespace: str
    name: str
    field: str                 # "object", "tag 20", "spec tag 20", "container app", "triggers", "paused"
    cluster: str | None        # what the cluster has (None: it has none)
    imagetrail: str | None     # what imagetrail has


def diff(app: ImageTrail, namespace: str, documents: list[Any], *, enforce_namespace: bool = False,
         listed: dict[Kind, list[tuple[str, str]]] | None = None) -> list[Difference]:
    """Every difference between the cluster objects in `documents` and imagetrail's current state.
    `listed` gives, per kind, the (namespace, name) of every object imagetrail has (from the read
    side), so objects missing from the cluster are found without a scan of the log."""
    dump = manifests.for_import(documents, namespace, enforce_namespace=enforce_namespace)
    found: list[Difference] = []
    for m in dump.streams:
        stream = app.stream(m.namespace, m.name)
        if stream is None:
            found.append(Difference("imagestream", m.namespace, m.name, "object", "exists", None))
            continue
        found += _stream(m, stream)
    for m in dump.deployments:
        deployment = app.deployment(m.namespace, m.name)
        if deployment is None:
            found.append(Difference("deployment", m.namespace, m.name, "object", "exists", None))
            continue
        found += _deployment(m, deployment)
    for kind, objects in (("imagestream", dump.streams), ("deployment", dump.deployments)):
        if not objects:
            continue
        covered = {o.namespace for o in objects}
        seen = {(o.namespace, o.name) for o in objects}
        found += [Difference(kind, ns, name, "object", None, "exists")
                  for ns, name in (listed or {}).get(kind, []) if ns in covered and (ns, name) not in seen]
    return found


def _stream(m: manifests.ClusterImageStream, stream: ImageStream) -> list[Difference]:
    out = []
    state = stream.state
    for tag in sorted(set(m.history) | set(state.status_tags)):
        entries = m.history.get(tag) or []
        head = state.head(tag)
        cluster, ours = (entries[0].image or None) if entries else None, (head.image or None) if head else None
        if cluster != ours:
            out.append(Difference("imagestream", m.namespace, m.name, f"tag {tag}", cluster, ours))
    cluster_specs = {t.name: _source(t) for t in m.tags}
    our_specs = {name: _source(t) for name, t in state.spec_tags.items()}
    for tag in sorted(set(cluster_specs) | set(our_specs)):
        if cluster_specs.get(tag) != our_specs.get(tag):
            out.append(Difference("imagestream", m.namespace, m.name, f"spec tag {tag}",
                                  cluster_specs.get(tag), our_specs.get(tag)))
    return out


def _source(tag: TagReference) -> str:
    """A spec tag's source and the policies that change what it does, as one comparable line."""
    source = f"{tag.source.kind} {tag.source.namespace + '/' if tag.source.namespace else ''}{tag.source.name}" \
        if tag.source else "no source"
    flags = [f for f, on in (("scheduled", tag.import_policy.scheduled), ("reference", tag.reference),
                             ("insecure", tag.import_policy.insecure)) if on]
    if tag.reference_policy.type == "Local":
        flags.append("reference-policy=Local")
    return source + (f" ({', '.join(flags)})" if flags else "")


def _deployment(m: manifests.DeploymentManifest, deployment: Deployment) -> list[Difference]:
    out = []
    state = deployment.state
    ours = state.template_images
    for c in m.init_containers + m.containers:
        if c.image != ours.get(c.name):
            out.append(Difference("deployment", m.namespace, m.name, f"container {c.name}", c.image, ours.get(c.name)))
    cluster_triggers, our_triggers = m.annotations.get(TRIGGERS_ANNOTATION), state.triggers_annotation
    if _triggers(cluster_triggers) != _triggers(our_triggers):
        out.append(Difference("deployment", m.namespace, m.name, "triggers", cluster_triggers, our_triggers))
    if m.paused != state.paused:
        out.append(Difference("deployment", m.namespace, m.name, "paused", str(m.paused).lower(),
                              str(state.paused).lower()))
    return out


def _triggers(annotation: str | None) -> Any:
    """The annotation's meaning, not its formatting: whitespace and key order do not count."""
    if not annotation:
        return []
    try:
        return json.loads(annotation)
    except ValueError:
        return annotation
