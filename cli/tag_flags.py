"""Every flag rule of `tag`, `create istag` and `import-image`, in one place: which flags go
together and what their values mean, checked in oc's order (which error a user sees first).

The rules about names, sources and the objects' state are the engine's; the checks below
call the domain's pure parsers where a flag rule depends on what SOURCE is.
"""

from __future__ import annotations

from imagetrail.engine.domain import tag_sources
from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.model import (
    DOCKER_IMAGE,
    IMAGE_STREAM_IMAGE,
    IMAGE_STREAM_TAG,
    ObjectReference,
    TagReferencePolicy,
)
from imagetrail.engine.domain.references import (
    ReferenceError,
    parse_docker_image_reference,
    quote,
    split_stream_image,
    validate_tag_name,
)
from imagetrail.engine.service.tags import parse_import_target, parse_istag

SOURCE_KINDS = {
    "imagestreamtag": IMAGE_STREAM_TAG, "istag": IMAGE_STREAM_TAG,
    "imagestreamimage": IMAGE_STREAM_IMAGE, "isimage": IMAGE_STREAM_IMAGE,
    "docker": DOCKER_IMAGE, "dockerimage": DOCKER_IMAGE,
}


def reference_policy(value: str, *, case_sensitive: bool = True) -> TagReferencePolicy:
    choice = value if case_sensitive else value.lower()
    if choice not in ("source", "local"):
        raise UsageError("valid values for --reference-policy are: source, local")
    return TagReferencePolicy(type="Source" if choice == "source" else "Local")


def import_mode(value: str) -> str:
    if value not in ("Legacy", "PreserveOriginal"):
        raise UsageError("invalid import mode, valid modes are 'Legacy', 'PreserveOriginal'")
    return value


def source_kind(source: str, value: str | None) -> tag_sources.Source:
    """--source: the kind of SOURCE, checked after SOURCE itself is an image reference."""
    tag_sources.check_source(source)
    kind = None
    if value:
        kind = SOURCE_KINDS.get(value.lower())
        if kind is None:
            raise UsageError(f'invalid source {quote(value)}; valid values are '
                             f"{', '.join(repr(k) for k in SOURCE_KINDS)}")
    try:
        return tag_sources.classify_source(source, kind)
    except tag_sources.SourceKindMismatch as e:
        form = "<name>:<tag>" if e.kind == IMAGE_STREAM_TAG else "<name>@<id>"
        raise UsageError(f"--source={e.kind} requires a valid {form} in SOURCE") from None


def check_delete(*, alias: bool, source_kind: str | None, scheduled: bool, insecure: bool) -> None:
    if alias:
        raise UsageError("--alias and --delete may not be both specified")
    if source_kind:
        raise UsageError("cannot specify a source kind when deleting")
    if scheduled or insecure:
        raise UsageError("cannot set flags for importing images when deleting a tag")


def check_tag(namespace: str, args: list[str], *, alias: bool, scheduled: bool, insecure: bool,
              reference_policy_value: str, import_mode_value: str,
              source_kind_value: str | None) -> tuple[TagReferencePolicy, str, str | None]:
    """`tag SOURCE DEST…`: the policy, the import mode and the kind of SOURCE the flags ask for."""
    if len(args) < 2:
        raise UsageError("you must specify a source and at least one destination: imagetrail tag SOURCE DEST [DEST…]")
    policy = reference_policy(reference_policy_value)
    mode = import_mode(import_mode_value)
    src = source_kind(args[0], source_kind_value)
    if alias and (scheduled or insecure):
        raise UsageError("cannot set a container image tag as an alias and also set import flags")
    if src.kind != DOCKER_IMAGE and (scheduled or insecure):
        raise UsageError("only container images can have importing flags set")
    for dest in args[1:]:
        tag_sources.parse_dest(dest, namespace)
    if alias and src.kind != IMAGE_STREAM_TAG:
        raise UsageError("--alias needs an image stream tag (name:tag) as SOURCE")
    return policy, mode, SOURCE_KINDS.get(source_kind_value.lower()) if source_kind_value else None


def check_create_istag(namespace: str, name: str, *, from_image: str | None, from_: str | None,
                       scheduled: bool, insecure: bool, reference_policy_value: str,
                       annotations: tuple[str, ...]) -> tuple[ObjectReference | None, TagReferencePolicy, dict]:
    """`create istag NAME`: the source (--from-image or --from), the policy and the annotations."""
    parsed = {}
    for a in annotations:
        key, sep, value = a.partition("=")
        if not sep or not key:
            raise UsageError(f"invalid annotation {quote(a)}: use KEY=VALUE")
        parsed[key] = value
    if from_image and from_:
        raise UsageError("--from and --from-image may not be used together")
    policy = reference_policy(reference_policy_value, case_sensitive=False)
    parse_istag(name, namespace)  # a bad NAME is reported before a bad --from, as oc does
    if from_image:
        return ObjectReference(kind=DOCKER_IMAGE, name=from_image), policy, parsed
    if from_:
        if scheduled or insecure:
            raise UsageError("only container images can have importing flags set")
        kind, source_name, source_ns = parse_istag_from(from_)
        return ObjectReference(kind=kind, name=source_name, namespace=source_ns), policy, parsed
    return None, policy, parsed


def parse_istag_from(value: str) -> tuple[str, str, str]:
    """`create istag --from`: [ns/]is:tag → ImageStreamTag, [ns/]is@id → ImageStreamImage, :tag."""
    if "@" in value:
        try:
            namespace, stream, image_id = split_stream_image(value)
        except ReferenceError as e:
            raise UsageError(f"Invalid --from, must be a valid image stream tag or image stream image: {e}") from None
        return IMAGE_STREAM_IMAGE, f"{stream}@{image_id}", namespace
    if value.startswith(":"):  # a bare tag of this stream: a tag, not a reference (20.0.2 is no registry)
        try:
            validate_tag_name(value[1:])
        except ReferenceError as e:
            raise UsageError(f"Invalid --from, must be a valid image stream tag or image stream image: {e}") from None
        return IMAGE_STREAM_TAG, value[1:], ""
    try:
        ref = parse_docker_image_reference(value)
    except ReferenceError as e:
        raise UsageError(f"Invalid --from, must be a valid image stream tag or image stream image: {e}") from None
    if ref.registry:
        raise UsageError("Invalid --from, registry may not be specified")
    if not ref.tag:
        raise UsageError(f"Invalid --from, must be a valid image stream tag or image stream image: {value}")
    return IMAGE_STREAM_TAG, f"{ref.name}:{ref.tag}", ref.namespace


def check_import_image(namespace: str, target: str, *, reference_policy_value: str,
                       import_mode_value: str) -> tuple[TagReferencePolicy, str]:
    """`import-image TARGET`: the policy and the import mode."""
    parse_import_target(target, namespace)  # a bad TARGET is reported before a bad flag, as oc does
    return reference_policy(reference_policy_value, case_sensitive=False), import_mode(import_mode_value)
