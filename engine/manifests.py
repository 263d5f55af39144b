"""Real API objects (`oc get -o yaml|json`, `kind: List`) → what `apply` needs of them.

Parsing only, with one clear error per problem; the application applies the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from imagetrail.engine.errors import UsageError
from imagetrail.engine.model import DOCKER_IMAGE, SOURCE_KINDS, Container, TagReference
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
