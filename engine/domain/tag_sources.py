"""`oc tag`, `oc create istag` and `oc import-image` client rules: what the user typed → spec tags.

Only parsing and validation live here; the application applies the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.model import (
    DOCKER_IMAGE,
    IMAGE_STREAM_IMAGE,
    IMAGE_STREAM_TAG,
    ObjectReference,
    TagImportPolicy,
    TagReference,
    TagReferencePolicy,
)
from imagetrail.engine.domain.references import (
    ReferenceError,
    parse_docker_image_reference,
    parse_stream_tag,
    quote,
    split_stream_image,
    validate_namespace,
    validate_stream_name,
    validate_tag_name,
)

SOURCE_KINDS = {
    "imagestreamtag": IMAGE_STREAM_TAG, "istag": IMAGE_STREAM_TAG,
    "imagestreamimage": IMAGE_STREAM_IMAGE, "isimage": IMAGE_STREAM_IMAGE,
    "docker": DOCKER_IMAGE, "dockerimage": DOCKER_IMAGE,
}


@dataclass(frozen=True)
class Source:
    """A classified SOURCE argument of `oc tag` (§6.1)."""

    kind: str
    text: str            # as typed (DockerImage keeps it verbatim)
    namespace: str = ""  # for istag/isimage sources, when given as ns/...
    stream: str = ""
    tag: str = ""
    image_id: str = ""


@dataclass(frozen=True)
class Dest:
    namespace: str
    stream: str
    tag: str

    def display(self, current_namespace: str) -> str:
        name = f"{self.stream}:{self.tag}"
        return name if self.namespace == current_namespace else f"{self.namespace}/{name}"


def classify_source(text: str, source_kind: str | None = None) -> Source:
    try:
        ref = parse_docker_image_reference(text)
    except ReferenceError as e:
        raise UsageError(f"invalid SOURCE: {e}") from None
    if source_kind:
        kind = SOURCE_KINDS.get(source_kind.lower())
        if kind is None:
            raise UsageError(f'invalid source {quote(source_kind)}; valid values are '
                             f"{', '.join(repr(k) for k in SOURCE_KINDS)}")
    elif ref.registry:
        kind = DOCKER_IMAGE
    elif ref.id:
        kind = IMAGE_STREAM_IMAGE
    elif ref.tag:
        kind = IMAGE_STREAM_TAG
    else:
        kind = DOCKER_IMAGE
    if kind == DOCKER_IMAGE:
        return Source(kind, text)
    if ref.registry:
        raise UsageError("server in SOURCE is only allowed when providing a container image")
    namespace = "" if ref.namespace == "library" else ref.namespace
    if namespace:
        try:
            validate_namespace(namespace)
        except ReferenceError as e:
            raise UsageError(f"invalid SOURCE: {e}") from None
    if "/" in ref.name:
        raise UsageError(f'invalid SOURCE: invalid image stream {quote(text)}')
    if kind == IMAGE_STREAM_TAG:
        if not ref.tag:
            raise UsageError("--source=ImageStreamTag requires a valid <name>:<tag> in SOURCE")
        if ref.id:  # an istag with a digest is a pin by digest
            return Source(IMAGE_STREAM_IMAGE, text, namespace, ref.name, image_id=ref.id)
        return Source(kind, text, namespace, ref.name, tag=ref.tag)
    if not ref.id:
        raise UsageError("--source=ImageStreamImage requires a valid <name>@<id> in SOURCE")
    return Source(kind, text, namespace, ref.name, image_id=ref.id)


def parse_dest(text: str, current_namespace: str) -> Dest:
    try:
        if ":" not in text.split("/")[-1]:
            raise ReferenceError(f'{quote(text)} must be of the form <stream_name>:<tag>')
        namespace, stream, tag = parse_stream_tag(text)
        validate_tag_name(tag)
        if namespace:
            validate_namespace(namespace)
        validate_stream_name(stream, namespace=namespace or current_namespace)
    except ReferenceError as e:
        raise UsageError(str(e)) from None
    return Dest(namespace or current_namespace, stream, tag)


def reference_policy(value: str, *, case_sensitive: bool = True) -> TagReferencePolicy:
    choice = value if case_sensitive else value.lower()
    if choice not in ("source", "local"):
        raise UsageError("valid values for --reference-policy are: source, local")
    return TagReferencePolicy(type="Source" if choice == "source" else "Local")


def import_mode(value: str) -> str:
    if value not in ("Legacy", "PreserveOriginal"):
        raise UsageError("invalid import mode, valid modes are 'Legacy', 'PreserveOriginal'")
    return value


def docker_image_tag(name: str, pull_spec: str, *, scheduled=False, insecure=False, reference=False,
                     policy: TagReferencePolicy | None = None, mode: str = "Legacy",
                     generation: int | None = 0, annotations: dict | None = None) -> TagReference:
    try:
        parse_docker_image_reference(pull_spec)
    except ReferenceError as e:
        raise UsageError(f"invalid image reference {quote(pull_spec)}: {e}") from None
    return TagReference(
        name=name, annotations=annotations, reference=reference, generation=generation,
        source=ObjectReference(kind=DOCKER_IMAGE, name=pull_spec),
        import_policy=TagImportPolicy(insecure=insecure, scheduled=scheduled, import_mode=mode),
        reference_policy=policy or TagReferencePolicy(),
    )


def stream_tag_reference(name: str, kind: str, source_name: str, source_namespace: str = "", *,
                         reference=False, policy: TagReferencePolicy | None = None,
                         annotations: dict | None = None) -> TagReference:
    return TagReference(
        name=name, annotations=annotations, reference=reference, generation=None,
        source=ObjectReference(kind=kind, name=source_name, namespace=source_namespace),
        reference_policy=policy or TagReferencePolicy(),
    )


def parse_istag_from(value: str) -> tuple[str, str, str]:
    """`oc create istag --from`: [ns/]is:tag → ImageStreamTag, [ns/]is@id → ImageStreamImage, :tag."""
    if "@" in value:
        try:
            namespace, stream, image_id = split_stream_image(value)
        except ReferenceError as e:
            raise UsageError(f"Invalid --from, must be a valid image stream tag or image stream image: {e}") from None
        return IMAGE_STREAM_IMAGE, f"{stream}@{image_id}", namespace
    try:
        ref = parse_docker_image_reference(value.lstrip(":") if value.startswith(":") else value)
    except ReferenceError as e:
        raise UsageError(f"Invalid --from, must be a valid image stream tag or image stream image: {e}") from None
    if ref.registry:
        raise UsageError("Invalid --from, registry may not be specified")
    if value.startswith(":"):
        return IMAGE_STREAM_TAG, value[1:], ""
    if not ref.tag:
        raise UsageError(f"Invalid --from, must be a valid image stream tag or image stream image: {value}")
    return IMAGE_STREAM_TAG, f"{ref.name}:{ref.tag}", ref.namespace
