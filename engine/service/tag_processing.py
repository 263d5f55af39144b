"""What the API server and its controllers do when a spec tag changes, shared by every command that
sets tags (tag, create istag, import-image, apply, rollback): process the tag's source (import,
reference, copy), keep the stream → Deployments index in step, admit short image names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.errors import NotFound, ResolveFailed, UsageError
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.model import DOCKER_IMAGE, IMAGE_STREAM_IMAGE, IMAGE_STREAM_TAG, TagReference
from imagetrail.engine.domain.references import ReferenceError, parse_docker_image_reference, quote
from imagetrail.engine.domain.trigger_annotation import ImageTrigger
from imagetrail.engine.domain.watchers import StreamWatchers
from imagetrail.engine.service.unit_of_work import ImportFailure, Reactions, UnitOfWork

if TYPE_CHECKING:
    from imagetrail.engine.service.application import ImageTrail


@dataclass(frozen=True)
class TagImport:
    """A tag that an import moved to a new image."""

    namespace: str
    stream: str
    tag: str
    digest: str
    previous: str | None  # the image it had before, if any


def set_tag(app: ImageTrail, uow: UnitOfWork, namespace: str, stream_name: str, ref: TagReference,
            result: Reactions) -> ImageStream:
    """Create or update a spec tag and process its source the way the API server would."""
    stream = uow.get(ImageStream, namespace, stream_name)
    if stream is None:
        stream = uow.add(ImageStream.create(namespace, stream_name, tags=[ref],
                                            repository=app.repository_for(namespace, stream_name)))
        process = True
    else:
        process = stream.set_spec_tag(ref)
    if process:
        process_tag_source(app, uow, stream, ref.name, result)
    return stream


def process_tag_source(app: ImageTrail, uow: UnitOfWork, stream: ImageStream, tag: str, result: Reactions, *,
                       import_generation: int | None = None) -> None:
    spec = stream.state.spec_tags[tag]
    src = spec.source
    if src is None:
        return
    if src.kind == DOCKER_IMAGE:
        if spec.reference:
            stream.record_reference(tag)
        else:
            import_tag(app, stream, tag, result, generation=import_generation)
    elif src.kind == IMAGE_STREAM_IMAGE:
        source_name, image_id = src.name.split("@", 1) if "@" in src.name else (stream.name, src.name)
        source = source_stream(uow, stream, src.namespace, source_name)
        stream.copy_image(tag, source.state, image_id, src.name)
    elif src.kind == IMAGE_STREAM_TAG:
        source_name, source_tag = src.name.split(":", 1) if ":" in src.name else (stream.name, src.name)
        source = source_stream(uow, stream, src.namespace, source_name)
        stream.copy_tag(tag, source.state, source_tag)


def source_stream(uow: UnitOfWork, stream: ImageStream, namespace: str, name: str) -> ImageStream:
    source = uow.get(ImageStream, namespace or stream.namespace, name)
    if source is None:
        raise NotFound(f'imagestreams.image.openshift.io {quote(name)} not found')
    return source


def import_tag(app: ImageTrail, stream: ImageStream, tag: str, result: Reactions, *, scheduled: bool = False,
               generation: int | None = None) -> TagImport | None:
    """Resolve the tag's source and record the import, or the failure as a condition (on
    `result.failures` too). Returns the move, if the tag moved.

    A scheduled re-import that fails as the last one did writes nothing: the
    condition already says so, and the log should not grow every interval.
    """
    spec = stream.state.spec_tags[tag]
    try:
        resolved = app.resolver.resolve(spec.source.name, insecure=spec.import_policy.insecure,
                                        import_mode=spec.import_policy.import_mode)
    except ResolveFailed as e:
        if not (scheduled and stream.state.has_failure(tag, e.reason, e.message)):
            stream.import_failed(tag, e.reason, e.message, generation=generation)
        result.failures.append(ImportFailure(stream.name, tag, e.message))
        return None
    before = stream.state.head(tag)
    if not stream.imported(tag, resolved.pull_spec, resolved.digest, scheduled=scheduled, generation=generation):
        return None
    return TagImport(stream.namespace, stream.name, tag, resolved.digest, before.image if before else None)


def reindex_triggers(uow: UnitOfWork, deployment: Deployment, before: list[ImageTrigger]) -> None:
    """Keep the stream → Deployments index in step with the triggers annotation."""
    key = f"{deployment.namespace}/{deployment.name}"
    old, new = _watched(deployment, before), _watched(deployment, deployment.state.triggers())
    for ns, stream in sorted(new - old):
        watchers = uow.get(StreamWatchers, ns, stream) or uow.add(StreamWatchers.create(ns, stream))
        watchers.watch(key)
    for ns, stream in sorted(old - new):
        watchers = uow.get(StreamWatchers, ns, stream)
        if watchers:
            watchers.unwatch(key)


def unindex_triggers(uow: UnitOfWork, deployment: Deployment) -> None:
    """A deleted Deployment watches nothing any more."""
    key = f"{deployment.namespace}/{deployment.name}"
    for ns, stream in sorted(_watched(deployment, deployment.state.triggers())):
        watchers = uow.get(StreamWatchers, ns, stream)
        if watchers:
            watchers.unwatch(key)


def _watched(deployment: Deployment, triggers: list[ImageTrigger]) -> set[tuple[str, str]]:
    return {(t.source.namespace or deployment.namespace, t.source.name.split(":", 1)[0])
            for t in triggers if ":" in t.source.name}


def resolve_image_name(uow: UnitOfWork, namespace: str, image: str) -> str:
    """Image policy admission (§10.2): a short `stream:tag` becomes the digest pull spec when
    the stream in this namespace has local lookup enabled; otherwise it stays literal."""
    if not image.strip():  # a trigger's placeholder (openshift/origin#14659): left for the trigger
        return image
    try:
        ref = parse_docker_image_reference(image)
    except ReferenceError as e:
        raise UsageError(f"invalid image {quote(image)}: {e}") from None
    if ref.registry or ref.namespace or ref.id:
        return image
    stream = uow.get(ImageStream, namespace, ref.name)
    if stream is None or not stream.state.lookup_local:
        return image
    tag = ref.tag or "latest"
    head = stream.state.head(tag)
    if head is None or not head.image:
        return f"{stream.state.repository}:{tag}" if stream.state.repository else image
    resolved = parse_docker_image_reference(stream.state.resolve(tag))
    return resolved.with_digest(head.image).exact()
