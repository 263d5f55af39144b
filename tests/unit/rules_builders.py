"""Builders for the rule tests (tests/unit/test_rules_*.py): aggregates in memory, no store, no CLI.

The helpers do what the API server and the controllers do around a command, in the words of the
domain: set a spec tag, then process its source; import a digest; let a Deployment's triggers react.
"""

from __future__ import annotations

from imagetrail.engine.domain.deployment import Cause, Deployment
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.model import (
    IMAGE_STREAM_IMAGE,
    IMAGE_STREAM_TAG,
    Container,
    ObjectReference,
    TagReference,
)
from imagetrail.engine.domain.tag_sources import docker_image_tag, stream_tag_reference
from imagetrail.engine.domain.trigger_annotation import ImageTrigger, TriggerSource, container_field_path, \
    format_annotation

NS = "demo"
KEYCLOAK = "quay.io/keycloak/keycloak"
A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64


def pinned(digest: str) -> str:
    """The pull spec an import records: the repository with its tag replaced by the digest."""
    return f"{KEYCLOAK}@{digest}"


def new_stream(*tags: TagReference, name: str = "keycloak", namespace: str = NS) -> ImageStream:
    return ImageStream.create(namespace, name, repository=f"image-registry.openshift-image-registry.svc:5000/"
                              f"{namespace}/{name}", tags=list(tags))


def external(tag: str, version: str | None = None, **flags) -> TagReference:
    """`oc tag quay.io/keycloak/keycloak:<version> keycloak:<tag>` (generation 0: import it)."""
    return docker_image_tag(tag, f"{KEYCLOAK}:{version or tag}", **flags)


def alias_ref(tag: str, source: str, namespace: str = "") -> TagReference:
    """`oc tag --alias keycloak:<source> keycloak:<tag>`: an ImageStreamTag spec tag."""
    return stream_tag_reference(tag, IMAGE_STREAM_TAG, source, namespace)


def imported(stream: ImageStream, tag: str, digest: str, **kwargs) -> bool:
    """The import controller brings the registry's digest for the tag."""
    return stream.imported(tag, pinned(digest), digest, **kwargs)


def tag_external(stream: ImageStream, tag: str, digest: str, version: str | None = None) -> None:
    """`oc tag` of an external pull spec, then its import (imagetrail imports in the same command)."""
    if stream.set_spec_tag(external(tag, version)):
        imported(stream, tag, digest)


def set_alias(stream: ImageStream, tag: str, source_tag: str, source: ImageStream | None = None) -> None:
    """`oc tag --alias`: the spec change, then the API server's copy of the source's head (§3.4)."""
    source = source or stream
    if stream.set_spec_tag(alias_ref(tag, f"{source.name}:{source_tag}")):
        stream.copy_tag(tag, source.state, source_tag)


def pin(stream: ImageStream, tag: str, image_id: str, source: ImageStream | None = None) -> None:
    """`oc tag keycloak@<id> keycloak:<tag>`: an ImageStreamImage spec tag, copied by digest (§3.5)."""
    source = source or stream
    name = f"{source.name}@{image_id}"
    ref = TagReference(name=tag, source=ObjectReference(kind=IMAGE_STREAM_IMAGE, name=name))
    if stream.set_spec_tag(ref):
        stream.copy_image(tag, source.state, image_id, name)


def history(stream: ImageStream, tag: str) -> list[str]:
    """The digests of a tag's history, newest first (what `oc get is -o yaml` lists)."""
    h = stream.state.status_tags.get(tag)
    return [i.image for i in h.items] if h else []


def moved(stream: ImageStream) -> list[tuple[str, str]]:
    """(tag, change) of every TagMoved event not yet saved, in order."""
    return [(e.tag, e.change) for e in stream.pending_events if isinstance(e, ImageStream.TagMoved)]


def keycloak_stream() -> ImageStream:
    """The lecture's stream: 20.0.2 imported (A), 20.0.3 imported (B), alias 20 → 20.0.2."""
    stream = new_stream()
    tag_external(stream, "20.0.2", A)
    tag_external(stream, "20.0.3", B)
    set_alias(stream, "20", "20.0.2")
    return stream


def trigger(istag: str, container: str = "keycloak", *, paused: bool = False, namespace: str = "",
            field_path: str | None = None) -> ImageTrigger:
    return ImageTrigger(source=TriggerSource(name=istag, namespace=namespace),
                        field_path=field_path or container_field_path(container), paused=paused)


def new_deployment(image: str = pinned(A), *triggers: ImageTrigger, name: str = "mykeycloak",
                   containers: list[Container] | None = None, paused: bool = False) -> Deployment:
    annotations = {"image.openshift.io/triggers": format_annotation(list(triggers))} if triggers else {}
    return Deployment.create(NS, name, containers=containers or [Container(name="keycloak", image=image)],
                             annotations=annotations, paused=paused)


def follow(deployment: Deployment, *streams: ImageStream) -> bool:
    """The image trigger controller's reaction, resolving tags from these streams as they are now."""
    by_name = {(s.namespace, s.name): s for s in streams}

    def resolve(namespace: str, stream: str, tag: str) -> str | None:
        found = by_name.get((namespace, stream))
        return found.state.resolve(tag) if found else None

    def cause_for(namespace: str, stream: str, tag: str) -> Cause:
        return Cause(kind="trigger", stream=f"{namespace}/{stream}", tag=tag)

    return deployment.follow_triggers(resolve, cause_for)


def image_of(deployment: Deployment, container: str = "keycloak") -> str:
    return deployment.state.container(container).image


def rollouts(deployment: Deployment) -> list[int]:
    return [e.revision for e in deployment.pending_events if isinstance(e, Deployment.RolledOut)]


