"""Real API objects (`oc get -o yaml|json`, `kind: List`) → what `apply` and `import -f` need of them.

Three steps, each in one place:
1. **Wire models** (engine/domain/wire.py): the API's JSON shapes in strict mode, never coerced;
   every error becomes ONE line naming the object and the field path.
2. **API defaulting** (`_defaulted_tag`, `_deployment_manifest`): what the API server fills in
   for fields a client leaves empty, applied to apply and import alike.
3. **Validation** the API server does on top (names, `from.kind`, duplicate containers, …).

Parsing only; the application applies the result.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.model import (
    DOCKER_IMAGE,
    SOURCE_KINDS,
    Container,
    ObjectReference,
    TagEvent,
    TagImportPolicy,
    TagReference,
    TagReferencePolicy,
)
from imagetrail.engine.domain.references import (
    ReferenceError,
    parse_docker_image_reference,
    validate_namespace,
    is_dns1123_label,
    is_dns1123_subdomain,
    validate_stream_name,
)

from imagetrail.engine.domain.wire import (
    ObjectMeta,
    WireContainer,
    WireDeployment,
    WireImageStream,
    WireImportPolicy,
    WireTagReference,
    one_line,
    shown,
)

KINDS = ("ImageStream", "Deployment")
# the apiVersions the API server serves each kind under: ImageStream also in OpenShift's legacy
# core group ("v1", still served by openshift-apiserver's pkg/api/legacy, and used by older
# openshift/library samples); Deployment only in apps/v1 (extensions/v1beta1, apps/v1beta1 and
# apps/v1beta2 were removed in Kubernetes 1.16)
API_VERSIONS = {"ImageStream": ("image.openshift.io/v1", "v1"), "Deployment": ("apps/v1",)}

# -- what the application gets ----------------------------------------------------------------------

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


@dataclass
class ClusterDump:
    streams: list[ClusterImageStream]
    deployments: list[DeploymentManifest]
    skipped: Counter  # kind → how many objects of kinds imagetrail does not record


# -- entry points --------------------------------------------------------------------------------------

def for_apply(documents: list[Any], namespace: str, *, enforce_namespace: bool) -> list[
        ImageStreamManifest | DeploymentManifest]:
    """`oc apply -f`: every object must be a kind imagetrail holds; the API server's validation."""
    objects = _objects(documents, "apply")
    for obj, where in objects:
        if obj["kind"] not in KINDS:
            raise UsageError(f"imagetrail apply takes ImageStream and Deployment objects, not {where}")
    parsed = []
    for obj, where in objects:
        wire = _validate(obj, where)
        ns = _namespace(wire.metadata, namespace, enforce_namespace, where)
        if isinstance(wire, WireImageStream):
            parsed.append(_stream_manifest(wire, ns, where))
        else:
            parsed.append(_deployment_manifest(wire, ns, where))
    return parsed


def for_import(documents: list[Any], namespace: str, *, enforce_namespace: bool) -> ClusterDump:
    """`import -f` of what `oc get … -o yaml` printed: ImageStreams and Deployments are recorded,
    every other kind (Pods, Services, ReplicaSets, BuildConfigs, Routes, …) is counted and skipped."""
    dump = ClusterDump([], [], Counter())
    for obj, where in _objects(documents, "import"):
        if obj["kind"] not in KINDS:
            dump.skipped[_kind(obj["kind"])] += 1
            continue
        wire = _validate(obj, where)
        ns = _namespace(wire.metadata, namespace, enforce_namespace, where)
        if isinstance(wire, WireImageStream):
            dump.streams.append(_cluster_stream(wire, ns, where))
        else:
            dump.deployments.append(_deployment_manifest(wire, ns, where))
    return dump


def _objects(documents: list[Any], verb: str) -> list[tuple[dict, str]]:
    objects = [(obj, _where(obj)) for obj in _flatten(documents)]
    if not objects:
        raise UsageError(f"no objects passed to {verb}")
    return objects


def _flatten(documents: list[Any]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    stack = list(reversed(documents))  # iterative: lists of lists cannot exhaust the stack
    while stack:
        doc = stack.pop()
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise UsageError(f"every object must be a mapping with apiVersion, kind and metadata, got {shown(doc)}")
        kind = doc.get("kind")
        if not isinstance(kind, str) or not kind:
            raise UsageError(f"an object has no kind: kind must be a non-empty string, got {shown(kind)}")
        if kind == "List" or (kind.endswith("List") and "items" in doc):
            items = doc.get("items")
            if items is not None and not isinstance(items, list):
                raise UsageError(f"a {kind}: items: must be a list, got {shown(items)}")
            stack.extend(reversed(items or []))
        else:
            objects.append(doc)
    return objects


def _where(obj: dict) -> str:
    name = obj["metadata"].get("name") if isinstance(obj.get("metadata"), dict) else None
    kind = _kind(obj["kind"])
    return f"{kind} {shown(name)}" if isinstance(name, str) and name else f"a {kind}"


def _kind(kind: str) -> str:
    return kind if re.fullmatch(r"[A-Za-z0-9.]{1,63}", kind) else shown(kind)


def _validate(obj: dict, where: str) -> WireImageStream | WireDeployment:
    kind = obj["kind"]
    version = obj.get("apiVersion")
    if version not in API_VERSIONS[kind]:
        allowed = " or ".join(API_VERSIONS[kind])
        if version is None:  # kubectl: Object 'apiVersion' is missing
            raise UsageError(f"{where}: apiVersion: Required value: a {kind} is {allowed}")
        raise UsageError(f"{where}: apiVersion: must be {allowed} for a {kind}, got {shown(version)}")
    model = WireImageStream if kind == "ImageStream" else WireDeployment
    try:
        wire = model.model_validate(obj)
    except ValidationError as e:
        raise UsageError(f"{where}: {one_line(e)}") from None
    name = wire.metadata.name
    if not name:
        raise UsageError(f"{where}: metadata.name: Required value: name is required")
    try:
        if kind == "ImageStream":
            validate_stream_name(name)
        elif not is_dns1123_subdomain(name):
            raise ReferenceError(
                f"metadata.name: Invalid value: {shown(name)}: a lowercase RFC 1123 subdomain must consist of lower "
                "case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character")
    except ReferenceError as e:
        raise UsageError(f"{where}: {e}") from None
    return wire


def _namespace(meta: ObjectMeta, namespace: str, enforce: bool, where: str) -> str:
    """kubectl's resource.Builder: an object without a namespace gets the command's; with -n given
    explicitly (enforceNamespace) an object in another namespace is refused (RequireNamespace);
    otherwise the object's own namespace wins (SetNamespace only fills an empty one)."""
    ns = meta.namespace or ""
    if not ns:
        return namespace
    try:
        validate_namespace(ns)
    except ReferenceError as e:
        raise UsageError(f"{where}: metadata.namespace: {e}") from None
    if enforce and ns != namespace:
        raise UsageError(f'the namespace from the provided object "{ns}" does not match the namespace "{namespace}". '
                         f"You must pass '--namespace={ns}' to perform this operation.")
    return ns


# -- API defaulting: one place, for apply and import ------------------------------------------------

def _defaulted_tag(wire: WireTagReference) -> TagReference:
    """A spec tag as the API server stores it.

    openshift-apiserver pkg/image/apis/image/v1/defaults.go: SetDefaults_TagReferencePolicy
    (`type: ""` or missing → Source) and SetDefaults_TagImportPolicy (`importMode: ""` → Legacy,
    apisimage.DefaultImportMode); `insecure`/`scheduled`/`reference` are plain bools (false).
    `generation: null` stays None: openshift/api image/v1 TagReference.Generation says legacy
    clients send nil, "which will be merged with the current tag generation" (the stored one is
    kept). `from.namespace` is not filled in: the server leaves it empty in the spec and resolves
    an ImageStreamTag/ImageStreamImage source in the stream's own namespace.
    """
    policy = wire.import_policy or WireImportPolicy()
    source = wire.source
    return TagReference(
        name=wire.name,
        annotations=wire.annotations,
        source=ObjectReference(kind=source.kind or "", name=source.name or "", namespace=source.namespace or "")
        if source is not None else None,
        reference=bool(wire.reference),
        generation=wire.generation,
        import_policy=TagImportPolicy(insecure=bool(policy.insecure), scheduled=bool(policy.scheduled),
                                      import_mode=policy.import_mode or "Legacy"),
        reference_policy=TagReferencePolicy(type=(wire.reference_policy.type if wire.reference_policy else "")
                                            or "Source"),
    )


def _deployment_manifest(wire: WireDeployment, namespace: str, where: str) -> DeploymentManifest:
    """kubernetes pkg/apis/apps/v1/defaults.go SetDefaults_Deployment: `replicas` nil → 1 (the
    strategy, revisionHistoryLimit 10 and progressDeadlineSeconds 600 defaults are not recorded);
    `paused` nil → false."""
    pod = wire.spec.template.spec
    seen: set[str] = set()

    def containers(key: str, entries: list[WireContainer]) -> list[Container]:
        found = []
        for index, c in enumerate(entries):
            path = f"spec.template.spec.{key}[{index}]"
            if not is_dns1123_label(c.name):
                raise UsageError(f"{where}: {path}.name: Invalid value: {shown(c.name)}: a lowercase RFC 1123 label "
                                 "must consist of lower case alphanumeric characters or '-', and must start and end "
                                 "with an alphanumeric character")
            if c.name in seen:
                raise UsageError(f"{where}: {path}.name: Duplicate value: {shown(c.name)}")
            seen.add(c.name)
            # a pod TEMPLATE may carry a blank placeholder (" ") for an image trigger to fill in
            # (kubernetes validateContainers, openshift/origin#14659); only an empty one is refused
            if not c.image:
                raise UsageError(f"{where}: {path}.image: Required value")
            found.append(Container(name=c.name, image=c.image))
        return found

    init = containers("initContainers", pod.init_containers or [])
    main = containers("containers", pod.containers)
    if not main:
        raise UsageError(f"{where}: spec.template.spec.containers: Required value")
    meta = wire.metadata
    annotations = {k: v for k, v in (meta.annotations or {}).items() if k != "deployment.kubernetes.io/revision"}
    return DeploymentManifest(namespace, meta.name, main, init,
                              1 if wire.spec.replicas is None else wire.spec.replicas, bool(wire.spec.paused),
                              dict(meta.labels or {}), annotations)


def _stream_manifest(wire: WireImageStream, namespace: str, where: str) -> ImageStreamManifest:
    tags = []
    names: set[str] = set()
    for index, raw in enumerate((wire.spec.tags if wire.spec else None) or []):
        tag = _defaulted_tag(raw)
        path = f"spec.tags[{index}]"
        if tag.name in names:
            raise UsageError(f"{where}: {path}.name: Duplicate value: {shown(tag.name)}")
        names.add(tag.name)
        src = tag.source
        if src is not None:
            if src.kind not in SOURCE_KINDS:
                raise UsageError(f"{where}: {path}.from.kind: Unsupported value: {shown(src.kind)}: supported "
                                 "values: \"DockerImage\", \"ImageStreamImage\", \"ImageStreamTag\"")
            if not src.name:
                raise UsageError(f"{where}: {path}.from.name: Required value")
            if src.kind == DOCKER_IMAGE:
                try:
                    parse_docker_image_reference(src.name)
                except ReferenceError as e:
                    raise UsageError(f"{where}: {path}.from.name: {e}") from None
            elif tag.import_policy.scheduled:
                raise UsageError(f"{where}: {path}.importPolicy.scheduled: Invalid value: true: "
                                 "only tags pointing to Docker repositories may be scheduled for background import")
        tags.append(tag.model_copy(update={"generation": None}))  # clients cannot pick generations
    meta = wire.metadata
    lookup = wire.spec.lookup_policy if wire.spec else None
    return ImageStreamManifest(namespace, meta.name, bool(lookup and lookup.local), tags,
                               dict(meta.labels or {}), dict(meta.annotations or {}))


def _cluster_stream(wire: WireImageStream, namespace: str, where: str) -> ClusterImageStream:
    """Lenient in meaning on purpose (a dump records what exists, including what the API would
    now refuse), strict in types."""
    meta = wire.metadata
    tags = [_defaulted_tag(t) for t in (wire.spec.tags if wire.spec else None) or []]
    history = {}
    for entry in (wire.status.tags if wire.status else None) or []:
        history[entry.tag] = [TagEvent(created=item.created or "1970-01-01T00:00:00Z",
                                       docker_image_reference=item.docker_image_reference or "",
                                       image=item.image or "", generation=item.generation or 0)
                              for item in entry.items or []]
    lookup = wire.spec.lookup_policy if wire.spec else None
    created = meta.creation_timestamp
    return ClusterImageStream(
        namespace=namespace, name=meta.name, lookup_local=bool(lookup and lookup.local), tags=tags,
        history=history, labels=dict(meta.labels or {}), annotations=dict(meta.annotations or {}),
        created=datetime.fromisoformat(created.upper().replace("Z", "+00:00")) if created else None,
        generation=meta.generation or 1,
        repository=(wire.status.docker_image_repository if wire.status else None) or "",
    )
