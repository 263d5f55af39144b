"""Real API objects (`oc get -o yaml|json`, `kind: List`) → what `apply` needs of them.

Parsing only, with one clear error per problem; the application applies the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from imagetrail.engine.errors import UsageError
from imagetrail.engine.model import DOCKER_IMAGE, SOURCE_KINDS, Container, TagEvent, TagReference
from imagetrail.engine.references import ReferenceError, parse_docker_image_reference


@dataclass
class ImageStreamManifest:
    namespace: str
    name: str
    lookup_local: bool
    tags: list[TagReference]
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class DeploymentManifest:
    namespace: str
    name: str
    containers: list[Container]
    init_containers: list[Container]
    replicas: int
    paused: bool
    labels: dict[str, str]
    annotations: dict[str, str]


def flatten(documents: list[Any]) -> list[dict[str, Any]]:
    objects = []
    for doc in documents:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise UsageError("every document must be a Kubernetes object (a mapping with kind and metadata)")
        if doc.get("kind") == "List" or (doc.get("kind", "").endswith("List") and "items" in doc):
            objects += flatten(doc.get("items") or [])
        else:
            objects.append(doc)
    return objects


def parse(obj: dict[str, Any], namespace: str) -> ImageStreamManifest | DeploymentManifest:
    kind = obj.get("kind")
    metadata = obj.get("metadata") or {}
    name = metadata.get("name")
    if not name:
        raise UsageError(f"a {kind or 'object'} has no metadata.name")
    where = f'{kind} "{name}"'
    obj_namespace = metadata.get("namespace") or namespace
    if kind == "ImageStream":
        return _imagestream(obj, obj_namespace, name, where)
    if kind == "Deployment":
        return _deployment(obj, obj_namespace, name, where)
    raise UsageError(f"imagetrail apply takes ImageStream and Deployment objects, not {where}")


def _imagestream(obj: dict, namespace: str, name: str, where: str) -> ImageStreamManifest:
    spec = obj.get("spec") or {}
    tags = []
    for raw in spec.get("tags") or []:
        raw = {k: v for k, v in raw.items() if v is not None}
        try:
            tag = TagReference.model_validate(raw)
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise UsageError(f"{where}: spec.tags[{raw.get('name', '?')}].{loc}: {first['msg']}") from None
        src = tag.source
        if src is not None:
            if src.kind not in SOURCE_KINDS:
                raise UsageError(f"{where}: spec.tags[{tag.name}].from.kind: Required value: valid values are "
                                 "'DockerImage', 'ImageStreamImage', 'ImageStreamTag'")
            if not src.name:
                raise UsageError(f"{where}: spec.tags[{tag.name}].from.name: Required value")
            if src.kind == DOCKER_IMAGE:
                try:
                    parse_docker_image_reference(src.name)
                except ReferenceError as e:
                    raise UsageError(f"{where}: spec.tags[{tag.name}].from.name: {e}") from None
            elif tag.import_policy.scheduled:
                raise UsageError(f"{where}: spec.tags[{tag.name}].importPolicy.scheduled: Invalid value: true: "
                                 "only tags pointing to Docker repositories may be scheduled for background import")
        tags.append(tag.model_copy(update={"generation": None}))  # clients cannot pick generations
    metadata = obj.get("metadata") or {}
    return ImageStreamManifest(namespace, name, bool((spec.get("lookupPolicy") or {}).get("local")), tags,
                               dict(metadata.get("labels") or {}), dict(metadata.get("annotations") or {}))


def _deployment(obj: dict, namespace: str, name: str, where: str) -> DeploymentManifest:
    spec = obj.get("spec") or {}
    pod = ((spec.get("template") or {}).get("spec")) or {}

    def containers(key: str) -> list[Container]:
        found = []
        for c in pod.get(key) or []:
            if not c.get("name") or not c.get("image"):
                raise UsageError(f"{where}: every {key} entry needs a name and an image")
            found.append(Container(name=c["name"], image=c["image"]))
        return found

    main = containers("containers")
    if not main:
        raise UsageError(f"{where}: spec.template.spec.containers: Required value")
    metadata = obj.get("metadata") or {}
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items()
                   if k != "deployment.kubernetes.io/revision"}
    replicas = spec.get("replicas", 1)
    return DeploymentManifest(namespace, name, main, containers("initContainers"),
                              replicas if isinstance(replicas, int) else 1, bool(spec.get("paused")),
                              dict(metadata.get("labels") or {}), annotations)


@dataclass
class ClusterImageStream:
    """An ImageStream as a cluster dump has it: spec and the whole status history."""

    namespace: str
    name: str
    lookup_local: bool
    tags: list[TagReference]
    history: dict[str, list[TagEvent]]  # newest first, as the API lists them
    labels: dict[str, str]
    annotations: dict[str, str]
    created: datetime | None
    generation: int
    repository: str = ""  # status.dockerImageRepository, as the cluster had it


def parse_cluster_imagestream(obj: dict[str, Any], namespace: str) -> ClusterImageStream:
    """Lenient on purpose: a dump records what exists, including what the API would now refuse."""
    metadata = obj.get("metadata") or {}
    name = metadata.get("name")
    if not name:
        raise UsageError("an ImageStream in the dump has no metadata.name")
    where = f'ImageStream "{name}"'
    try:
        tags = [TagReference.model_validate({k: v for k, v in t.items() if v is not None})
                for t in (obj.get("spec") or {}).get("tags") or []]
        history = {}
        for entry in (obj.get("status") or {}).get("tags") or []:
            history[entry["tag"]] = [TagEvent.model_validate(
                {**item, "generation": item.get("generation") or 0,
                 "created": item.get("created") or "1970-01-01T00:00:00Z"}) for item in entry.get("items") or []]
    except (ValidationError, KeyError, TypeError) as e:
        raise UsageError(f"{where}: not an ImageStream this version can read: {str(e).splitlines()[0]}") from None
    created = metadata.get("creationTimestamp")
    return ClusterImageStream(
        namespace=metadata.get("namespace") or namespace, name=name,
        lookup_local=bool(((obj.get("spec") or {}).get("lookupPolicy") or {}).get("local")), tags=tags,
        history=history, labels={k: str(v) for k, v in (metadata.get("labels") or {}).items()},
        annotations={k: str(v) for k, v in (metadata.get("annotations") or {}).items()},
        created=datetime.fromisoformat(str(created).replace("Z", "+00:00")) if created else None,
        generation=int(metadata.get("generation") or 1),
        repository=(obj.get("status") or {}).get("dockerImageRepository") or "",
    )
