"""What a tag's SOURCE and DEST name, and the spec tags they make (`oc tag`, `oc create istag`,
`oc import-image`). The rules about those commands' flags are the CLI's (cli/tag_flags.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from imagetrail.engine.domain.errors import InvalidSource, UsageError
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
    validate_namespace,
    validate_stream_name,
    validate_tag_name,
)


class SourceKindMismatch(InvalidSource):
    """SOURCE is not of the form its given kind needs (<name>:<tag>, <name>@<id>)."""

    def __init__(self, source: str, kind: str):
        self.kind = kind
        form = "<name>:<tag>" if kind == IMAGE_STREAM_TAG else "<name>@<id>"
        super().__init__(source, f"invalid SOURCE: a {kind} needs {form}, not {quote(source)}")


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


def check_source(text: str) -> None:
    """SOURCE must be an image reference, whatever its kind."""
    try:
        parse_docker_image_reference(text)
    except ReferenceError as e:
        raise InvalidSource(text, f"invalid SOURCE: {e}") from None


def classify_source(text: str, kind: str | None = None) -> Source:
    """What SOURCE names (§6.1): `kind` when the user said so, else guessed from its form."""
    check_source(text)
    ref = parse_docker_image_reference(text)
    if kind is None:
        kind = (DOCKER_IMAGE if ref.registry else IMAGE_STREAM_IMAGE if ref.id
                else IMAGE_STREAM_TAG if ref.tag else DOCKER_IMAGE)
    if kind == DOCKER_IMAGE:
        return Source(kind, text)
    if ref.registry:
        raise InvalidSource(text, "server in SOURCE is only allowed when providing a container image")
    namespace = "" if ref.namespace == "library" else ref.namespace
    if namespace:
        try:
            validate_namespace(namespace)
        except ReferenceError as e:
            raise InvalidSource(text, f"invalid SOURCE: {e}") from None
    if "/" in ref.name:
        raise InvalidSource(text, f'invalid SOURCE: invalid image stream {quote(text)}')
    if kind == IMAGE_STREAM_TAG:
        if not ref.tag:
            raise SourceKindMismatch(text, kind)
        if ref.id:  # an istag with a digest is a pin by digest
            return Source(IMAGE_STREAM_IMAGE, text, namespace, ref.name, image_id=ref.id)
        return Source(kind, text, namespace, ref.name, tag=ref.tag)
    if not ref.id:
        raise SourceKindMismatch(text, kind)
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
