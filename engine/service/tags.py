"""Image stream tag use cases: tag, delete tags, create istag, import-image, set image-lookup.

Each takes typed arguments and returns what it did as data; the flag rules of the commands
that call them are the CLI's (cli/tag_flags.py), the rules about names and state are here
and in the domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from imagetrail.engine.domain import tag_sources
from imagetrail.engine.domain.errors import (
    AliasAcrossStreams,
    AlreadyExists,
    ImportSourceChanged,
    NoImageToTag,
    NoStreamToImport,
    NoTagToImport,
    NotFound,
    NotReimportable,
    UsageError,
)
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.model import (
    DOCKER_IMAGE,
    IMAGE_STREAM_IMAGE,
    IMAGE_STREAM_TAG,
    ObjectReference,
    TagReference,
    TagReferencePolicy,
)
from imagetrail.engine.domain.references import (
    ReferenceError,
    parse_istag_name,
    quote,
    validate_stream_name,
    validate_tag_name,
)
from imagetrail.engine.service.tag_processing import import_tag, set_tag
from imagetrail.engine.service.unit_of_work import Reactions, UnitOfWork, command, retry_on_conflict

if TYPE_CHECKING:
    from imagetrail.engine.service.application import ImageTrail

ImportMode = Literal["Legacy", "PreserveOriginal"]


@dataclass(frozen=True)
class TagChange:
    """One DEST tag set by `tag`: to track a tag (alias), to import periodically, or to a source."""

    namespace: str
    stream: str
    tag: str
    source: str  # the source as the spec now names it (a tag copy is pinned to the image by digest)
    mode: Literal["set", "alias", "scheduled"]


@dataclass
class TagResult(Reactions):
    namespace: str = ""  # the namespace the command ran in
    changes: list[TagChange] = field(default_factory=list)


@dataclass(frozen=True)
class TagName:
    namespace: str
    stream: str
    tag: str


@dataclass
class DeleteTagsResult(Reactions):
    deleted: list[TagName] = field(default_factory=list)


@dataclass
class CreateIstagResult(Reactions):
    stream: str = ""
    tag: str = ""


@dataclass
class ImportImageResult(Reactions):
    stream: str = ""
    tag: str = ""


@dataclass
class ImageLookupResult(Reactions):
    updated: list[str] = field(default_factory=list)  # the streams whose lookup policy changed


@retry_on_conflict
def tag(app: ImageTrail, namespace: str, source: str, dests: list[str], *, alias: bool = False,
        reference: bool = False, scheduled: bool = False, insecure: bool = False,
        policy: TagReferencePolicy | None = None, import_mode: ImportMode = "Legacy",
        source_kind: str | None = None, actor: str | None = None, reason: str = "") -> TagResult:
    """`oc tag SOURCE DEST…`. Import flags apply to a container image SOURCE only."""
    policy = policy or TagReferencePolicy()
    src = tag_sources.classify_source(source, source_kind)
    targets = [tag_sources.parse_dest(d, namespace) for d in dests]
    if alias:
        for t in targets:
            if t.namespace != namespace or t.stream != src.stream:
                raise AliasAcrossStreams(source, f"{t.namespace}/{t.stream}:{t.tag}")
    result = TagResult(namespace=namespace)
    with command(app, f"imagetrail tag {source} {' '.join(dests)}", actor, reason, result=result) as (uow, _):
        for dest in targets:
            ref, shown = _tag_reference(uow, namespace, src, dest, alias=alias, reference=reference,
                                        scheduled=scheduled, insecure=insecure, policy=policy, mode=import_mode)
            set_tag(app, uow, dest.namespace, dest.stream, ref, result)
            mode = "alias" if alias else "scheduled" if scheduled else "set"
            result.changes.append(TagChange(dest.namespace, dest.stream, dest.tag, shown, mode))
    return result


def _tag_reference(uow: UnitOfWork, namespace: str, src: tag_sources.Source, dest: tag_sources.Dest, *,
                   alias: bool, reference: bool, scheduled: bool, insecure: bool,
                   policy: TagReferencePolicy, mode: str) -> tuple[TagReference, str]:
    # an omitted source namespace means the current project, spelled out when DEST is elsewhere
    src_ns = src.namespace or ("" if dest.namespace == namespace else namespace)
    prefix = f"{src.namespace}/" if src.namespace else ""
    if src.kind == DOCKER_IMAGE:
        return tag_sources.docker_image_tag(dest.tag, src.text, scheduled=scheduled, insecure=insecure,
                                            reference=reference, policy=policy, mode=mode), src.text
    if src.kind == IMAGE_STREAM_IMAGE:
        name = f"{src.stream}@{src.image_id}"
        return tag_sources.stream_tag_reference(dest.tag, IMAGE_STREAM_IMAGE, name, src_ns,
                                                reference=reference, policy=policy), prefix + name
    if alias:
        name = f"{src.stream}:{src.tag}"
        return tag_sources.stream_tag_reference(dest.tag, IMAGE_STREAM_TAG, name, src_ns,
                                                reference=reference, policy=policy), prefix + name
    # `is:tag` without --alias pins the source's current image by digest (§6.2)
    source_stream = uow.get(ImageStream, src.namespace or namespace, src.stream)
    head = source_stream.state.head(src.tag) if source_stream else None
    if head is None:
        raise NoImageToTag(src.text)
    if not head.image:
        return tag_sources.docker_image_tag(dest.tag, head.docker_image_reference, reference=reference,
                                            policy=policy, mode=mode), head.docker_image_reference
    name = f"{src.stream}@{head.image}"
    return tag_sources.stream_tag_reference(dest.tag, IMAGE_STREAM_IMAGE, name, src_ns,
                                            reference=reference, policy=policy), prefix + name


@retry_on_conflict
def delete_tags(app: ImageTrail, namespace: str, dests: list[str], *, actor: str | None = None,
                reason: str = "") -> DeleteTagsResult:
    targets = [TagName(t.namespace, t.stream, t.tag) for t in (tag_sources.parse_dest(d, namespace) for d in dests)]
    result = DeleteTagsResult()
    with command(app, f"imagetrail tag -d {' '.join(dests)}", actor, reason, result=result) as (uow, _):
        for target in targets:
            stream = uow.get(ImageStream, target.namespace, target.stream)
            if stream is None:
                raise NotFound("imagestreamtags.image.openshift.io "
                               + quote(f"{target.stream}:{target.tag}") + " not found")
            stream.delete_tag(target.tag)
            result.deleted.append(target)
    return result


@retry_on_conflict
def create_istag(app: ImageTrail, namespace: str, name: str, *, source: ObjectReference | None = None,
                 scheduled: bool = False, insecure: bool = False, reference: bool = False,
                 policy: TagReferencePolicy | None = None, annotations: dict[str, str] | None = None,
                 actor: str | None = None, reason: str = "") -> CreateIstagResult:
    """`oc create istag NAME`: a new spec tag from a container image or an image stream tag/image
    (`source`), or with no source; never overwrites. Import flags apply to a container image only."""
    policy = policy or TagReferencePolicy()
    stream_name, tag = parse_istag(name, namespace)
    if source is None:
        ref = TagReference(name=tag, annotations=annotations, reference_policy=policy)
    elif source.kind == DOCKER_IMAGE:
        ref = tag_sources.docker_image_tag(tag, source.name, scheduled=scheduled, insecure=insecure,
                                           reference=reference, policy=policy, generation=None,
                                           annotations=annotations)
    else:
        ref = tag_sources.stream_tag_reference(tag, source.kind, source.name, source.namespace,
                                               reference=reference, policy=policy, annotations=annotations)
    result = CreateIstagResult(stream=stream_name, tag=tag)
    with command(app, f"imagetrail create istag {name}", actor, reason, result=result) as (uow, _):
        stream = uow.get(ImageStream, namespace, stream_name)
        if stream is not None and tag in stream.state.spec_tags:
            raise AlreadyExists(f'imagestreamtags.image.openshift.io {quote(name)} already exists')
        set_tag(app, uow, namespace, stream_name, ref, result)
    return result


def parse_istag(name: str, namespace: str) -> tuple[str, str]:
    """An image stream tag's name, stream:tag."""
    if ":" not in name:
        raise UsageError(f"{quote(name)} must be of the form <stream_name>:<tag>")
    try:
        return parse_istag_name(name, namespace=namespace)
    except ReferenceError as e:
        raise UsageError(str(e)) from None


@retry_on_conflict
def import_image(app: ImageTrail, namespace: str, target: str, *, from_: str | None = None, confirm: bool = False,
                 scheduled: bool = False, insecure: bool = False, policy: TagReferencePolicy | None = None,
                 import_mode: ImportMode = "Legacy", actor: str | None = None,
                 reason: str = "") -> ImportImageResult:
    """`oc import-image stream[:tag]`: import (again) the tag's container image; with `confirm`,
    create the stream (and with `from_`, the tag) first."""
    policy = policy or TagReferencePolicy()
    stream_name, tag = parse_import_target(target, namespace)
    result = ImportImageResult(stream=stream_name, tag=tag)
    with command(app, f"imagetrail import-image {target}", actor, reason, result=result) as (uow, _):
        stream = uow.get(ImageStream, namespace, stream_name)
        if stream is None and not confirm:
            raise NoStreamToImport(stream_name)
        existing = stream.state.spec_tags.get(tag) if stream else None
        if existing is None:
            if stream is not None and not from_:
                raise NoTagToImport(tag)
            ref = tag_sources.docker_image_tag(tag, from_ or target, scheduled=scheduled, insecure=insecure,
                                               policy=policy, mode=import_mode)
            set_tag(app, uow, namespace, stream_name, ref, result)
        else:
            final, _chain = stream.state.follow_tag_reference(tag)
            spec = stream.state.spec_tags.get(final)
            if spec is None or spec.source is None or spec.kind != DOCKER_IMAGE:
                raise NotReimportable(final, spec.kind if spec and spec.source else "nothing",
                                      spec.source.name if spec and spec.source else "")
            if from_ and from_ != spec.source.name:
                raise ImportSourceChanged(tag, final, spec.source.name, from_)
            policy_update = {"generation": 0}
            if scheduled:
                policy_update["import_policy"] = spec.import_policy.model_copy(update={"scheduled": True})
            stream.set_spec_tag(spec.model_copy(update=policy_update))
            import_tag(app, stream, final, result)
    return result


def parse_import_target(target: str, namespace: str) -> tuple[str, str]:
    """import-image's TARGET: stream[:tag], the tag `latest` when not given."""
    if "@" in target:
        raise UsageError("to import images by ID, use the 'tag' command")
    stream_name, _, tag = target.partition(":")
    tag = tag or "latest"
    try:
        validate_stream_name(stream_name, namespace=namespace)
        validate_tag_name(tag)
    except ReferenceError as e:
        raise UsageError(str(e)) from None
    return stream_name, tag


@retry_on_conflict
def set_image_lookup(app: ImageTrail, namespace: str, names: list[str], *, enabled: bool = True,
                     actor: str | None = None, reason: str = "") -> ImageLookupResult:
    for name in names:
        try:
            validate_stream_name(name, namespace=namespace)
        except ReferenceError as e:
            raise UsageError(str(e)) from None
    result = ImageLookupResult()
    with command(app, f"imagetrail set image-lookup {' '.join(names)}", actor, reason, result=result) as (uow, _):
        for name in names:
            stream = uow.get(ImageStream, namespace, name)
            if stream is None:
                raise NotFound(f'imagestreams.image.openshift.io {quote(name)} not found')
            if stream.set_lookup_policy(enabled):
                result.updated.append(name)
    return result
