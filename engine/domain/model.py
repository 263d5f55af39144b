"""Value objects of the image stream API (image.openshift.io/v1), in domain form.

Field names are Python's; aliases give the API's camelCase, so `model_dump(by_alias=True)`
is the wire form that `oc get is -o json` prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

DOCKER_IMAGE = "DockerImage"
IMAGE_STREAM_TAG = "ImageStreamTag"
IMAGE_STREAM_IMAGE = "ImageStreamImage"
SOURCE_KINDS = (DOCKER_IMAGE, IMAGE_STREAM_TAG, IMAGE_STREAM_IMAGE)


class ApiModel(BaseModel):
    # defer_build: validators are built at a model's first use, not at import (start-up)
    model_config = ConfigDict(defer_build=True, alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ObjectReference(ApiModel):
    kind: str
    name: str
    namespace: str = ""


class TagImportPolicy(ApiModel):
    insecure: bool = False
    scheduled: bool = False
    import_mode: Literal["Legacy", "PreserveOriginal"] = "Legacy"


class TagReferencePolicy(ApiModel):
    type: Literal["Source", "Local"] = "Source"


class TagReference(ApiModel):
    """A spec tag: where a tag's image comes from."""

    name: str
    annotations: dict[str, str] | None = None
    source: ObjectReference | None = Field(default=None, alias="from")
    reference: bool = False
    generation: int | None = None
    import_policy: TagImportPolicy = Field(default_factory=TagImportPolicy)
    reference_policy: TagReferencePolicy = Field(default_factory=TagReferencePolicy)

    @property
    def kind(self) -> str | None:
        return self.source.kind if self.source else None

    def tracks(self, namespace: str, stream: str, tag: str) -> bool:
        """True when this tag is a same-stream alias of `tag` (the only aliases that follow)."""
        src = self.source
        if src is None or src.kind != IMAGE_STREAM_TAG:
            return False
        if src.namespace not in ("", namespace):
            return False
        return src.name in (tag, f"{stream}:{tag}")


class TagEvent(ApiModel):
    """One entry of a tag's status history."""

    created: datetime
    docker_image_reference: str
    image: str = ""
    generation: int


class TagEventCondition(ApiModel):
    type: str = "ImportSuccess"
    status: str = "False"
    last_transition_time: datetime
    reason: str = ""
    message: str = ""
    generation: int

    def same_failure(self, other: TagEventCondition) -> bool:
        return (self.type, self.status, self.reason, self.message) == (
            other.type, other.status, other.reason, other.message)


class TagHistory(ApiModel):
    """`status.tags[]`: items newest first; items[0] is the tag's current image."""

    items: list[TagEvent] = Field(default_factory=list)
    conditions: list[TagEventCondition] = Field(default_factory=list)

    @property
    def head(self) -> TagEvent | None:
        return self.items[0] if self.items else None

    def would_change(self, event: TagEvent) -> bool:
        head = self.head
        return head is None or (head.docker_image_reference, head.image, head.generation) != (
            event.docker_image_reference, event.image, event.generation)

    def add(self, event: TagEvent) -> None:
        """OpenShift's AddTagEventToImageStream: prepend on change, collapse in place otherwise."""
        head = self.head
        if head is None:
            self.items = [event]
        elif not self.would_change(event):
            return
        else:
            same_ref = head.docker_image_reference == event.docker_image_reference
            same_image = head.image == event.image
            if same_ref and same_image:
                head.generation = event.generation
            elif same_ref:
                head.image, head.generation = event.image, event.generation
            elif same_image:
                head.docker_image_reference, head.generation = event.docker_image_reference, event.generation
            else:
                self.items.insert(0, event)
        self.conditions = []


def observed_generation(head_generation: int, conditions: Iterable[tuple[str, int]]) -> int:
    """§2.6, oc's latestObservedTagGeneration: max(items[0].generation, the generation of the
    first ImportSuccess condition); `conditions` are (type, generation) pairs, in order."""
    for kind, generation in conditions:
        if kind == "ImportSuccess":
            return max(head_generation, generation)
    return head_generation


# oc FollowTagReference's errors (pkg/helpers/image/helpers.go), as oc describe words them
CIRCULAR_REFERENCE = "reference to same tag"  # Go: ErrCircularReference "reference tag is circular"
NOT_FOUND_REFERENCE = "reference tag is not found"
CROSS_IMAGE_STREAM_REFERENCE = "reference to another image stream"

Source = tuple[str, str, str]  # a spec tag's `from`: (kind, namespace, name)


def follow_tag_reference(sources: Mapping[str, Source | None], namespace: str, stream: str, tag: str, *,
                         empty_tag: str = "latest") -> tuple[str | None, list[str], str | None]:
    """oc's FollowTagReference: walk same-stream ImageStreamTag references through the spec tags.

    `sources` maps each spec tag to its `from` (None without one). Returns (final tag, the tags
    visited from `tag` to it, None), or (None, the tags visited up to where the walk stopped,
    the error): a cycle (the repeated tag appears twice), a tag missing from spec, a link to
    another stream or namespace. `from.name` is `<stream>:<tag>` or a bare `<tag>`;
    `<stream>:` means `empty_tag` (oc: latest).
    """
    seen: set[str] = set()
    chain: list[str] = []
    while True:
        chain.append(tag)
        if tag in seen:
            return None, chain, CIRCULAR_REFERENCE
        seen.add(tag)
        if tag not in sources:
            return None, chain, NOT_FOUND_REFERENCE
        source = sources[tag]
        if source is None or source[0] != IMAGE_STREAM_TAG:
            return tag, chain, None
        _, from_namespace, name = source
        if from_namespace not in ("", namespace):
            return None, chain, CROSS_IMAGE_STREAM_REFERENCE
        if ":" in name:
            other, _, tag = name.partition(":")
            if other != stream:
                return None, chain, CROSS_IMAGE_STREAM_REFERENCE
            tag = tag or empty_tag
        else:
            tag = name


class Container(ApiModel):
    name: str
    image: str


class Revision(ApiModel):
    """A rolled-out pod template: what `rollout history` lists."""

    number: int
    images: dict[str, str]
    change_cause: str = ""
    timestamp: datetime
