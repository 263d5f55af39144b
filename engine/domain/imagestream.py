"""The ImageStream aggregate: spec tags, their status history, aliases and imports.

The rules are OpenShift's, numbered in docs/semantics.md and cited here as §N.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from imagetrail.engine.domain.aggregate import (Aggregate, ChangeAttributed, Model, ObjectDeleted,
                                                ObjectRecreated, aggregate_id, utcnow)
from imagetrail.engine.domain.errors import Conflict, NotFound
from imagetrail.engine.domain.parsing import timestamp
from imagetrail.engine.domain.references import quote
from imagetrail.engine.domain.model import (
    CIRCULAR_REFERENCE,
    CROSS_IMAGE_STREAM_REFERENCE,
    DOCKER_IMAGE,
    ObjectReference,
    TagEvent,
    TagEventCondition,
    TagHistory,
    TagImportPolicy,
    TagReference,
    TagReferencePolicy,
    follow_tag_reference,
    observed_generation,
)

REPOSITORY_CHECK_ANNOTATION = "openshift.io/image.dockerRepositoryCheck"

# Why a tag's head moved. Imports come from a registry; copy/alias/reference from a spec
# change; "followed" is alias tracking; "bootstrap" replays history from a cluster dump.
ChangeKind = Literal[
    "import", "scheduled-import", "reference", "copy", "alias", "followed", "bootstrap", "rollback",
]
IMPORT_KINDS = ("import", "scheduled-import")


class ImageStreamState(Model):
    namespace: str
    name: str
    created: datetime
    observed_version: str = ""  # the cluster's resourceVersion of the last change observed (watch)
    deleted: bool = False  # deleted on the cluster (watch): kept for history, not found by reads
    attributed_until: str = ""  # the stageTimestamp of the last API audit record read for it
    repository: str  # status.dockerImageRepository (the integrated registry's repo)
    generation: int = 1
    lookup_local: bool = False
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    spec_tags: dict[str, TagReference] = Field(default_factory=dict)
    status_tags: dict[str, TagHistory] = Field(default_factory=dict)
    # what the last `import -f` of a cluster dump recorded: the same dump imported again leaves
    # alone what has moved on since (a spec tag re-pointed, lookup switched by a later command)
    imported_spec_tags: dict[str, TagReference] = Field(default_factory=dict)
    imported_lookup_local: bool | None = None

    def head(self, tag: str) -> TagEvent | None:
        history = self.status_tags.get(tag)
        return history.head if history else None

    def resolve(self, tag: str) -> str | None:
        """The pull spec a consumer of `stream:tag` gets: items[0] through the tag's referencePolicy (§10.4)."""
        head = self.head(tag)
        if head is None:
            return None
        spec = self.spec_tags.get(tag)
        if spec and spec.reference_policy.type == "Local" and head.image and self.repository:
            return f"{self.repository}@{head.image}"
        return head.docker_image_reference

    def find_image(self, image_id: str) -> TagEvent:
        """ImageStreamImage lookup: an image anywhere in the history, by digest or unique prefix (§3.5)."""
        matches: dict[str, TagEvent] = {}
        for history in self.status_tags.values():
            for item in history.items:
                if item.image and _digest_matches(item.image, image_id):
                    matches.setdefault(item.image, item)
        if not matches:
            raise NotFound(f'imagestreamimage.image.openshift.io {quote(image_id)} not found')
        if len(matches) > 1:
            raise Conflict(f'multiple images match the prefix {quote(image_id)}: {", ".join(sorted(matches))}')
        return next(iter(matches.values()))

    def observed_generation(self, tag: str) -> int:
        """§2.6: max(items[0].generation, generation of the first ImportSuccess condition)."""
        history = self.status_tags.get(tag)
        if history is None:
            return 0
        return observed_generation(history.head.generation if history.head else 0,
                                   ((c.type, c.generation) for c in history.conditions))

    def scheduled_tags(self) -> list[str]:
        """§9.2: tags the scheduler re-imports; a digest-pinned one only until its first import."""
        return [name for name, spec in sorted(self.spec_tags.items())
                if spec.kind == DOCKER_IMAGE and spec.source and not spec.reference
                and spec.import_policy.scheduled and not ("@" in spec.source.name and self.head(name))]

    def has_failure(self, tag: str, reason: str, message: str) -> bool:
        history = self.status_tags.get(tag)
        return bool(history and any(c.status == "False" and (c.reason, c.message) == (reason, message)
                                    for c in history.conditions))

    def observe_import(self, tag: str, generation: int, at: datetime) -> None:
        """§2.5/§5.9: an import, good or failed, leaves the spec tag and the stream at its generation."""
        self.generation = generation
        spec = self.spec_tags.get(tag)
        if spec is not None:
            spec.generation = generation
        self.annotations[REPOSITORY_CHECK_ANNOTATION] = timestamp(at, seconds=True)

    def follow_tag_reference(self, tag: str) -> tuple[str, list[str]]:
        """oc's FollowTagReference: the final tag behind a chain of same-stream aliases (a tag
        not in spec ends the chain). Raises with oc import-image's messages for cycles and
        cross-stream links."""
        sources = {name: (s.source.kind, s.source.namespace, s.source.name) if s.source else None
                   for name, s in self.spec_tags.items()}
        # `<stream>:` stays the empty tag here, as _propagate's `tracks` reads it
        final, chain, error = follow_tag_reference(sources, self.namespace, self.name, tag, empty_tag="")
        if error == CIRCULAR_REFERENCE:
            raise Conflict(f'tag {quote(tag)} on the image stream is a reference to same tag')
        if error == CROSS_IMAGE_STREAM_REFERENCE:
            raise Conflict(f'tag {quote(tag)} points to an imagestreamtag from another ImageStream')
        return (chain[-1] if final is None else final), chain


def _digest_matches(image: str, image_id: str) -> bool:
    hex_part = image.split(":", 1)[-1]
    return image.startswith(image_id) or hex_part.startswith(image_id)


def _tag_ref_changed(old: TagReference | None, new: TagReference) -> bool:
    """§2.3 tagRefChanged: only the source identity, `reference` and import mode count."""
    if new.source is None or not new.source.name:
        return False
    if old is None or old.source is None:
        return True
    return (
        old.source.namespace != new.source.namespace
        or old.source.name != new.source.name
        or old.reference != new.reference
        or old.import_policy.import_mode != new.import_policy.import_mode
        or new.generation == 0
    )


class ImageStream(Aggregate[ImageStreamState]):
    state_class = ImageStreamState

    @staticmethod
    def id_for(namespace: str, name: str) -> UUID:
        return aggregate_id("imagestream", namespace, name)

    class Deleted(ObjectDeleted):
        pass

    class Attributed(ChangeAttributed):
        pass

    class Recreated(ObjectRecreated):
        pass

    class Created(Aggregate.Created):
        namespace: str
        name: str
        repository: str
        lookup_local: bool = False
        labels: dict[str, str] = Field(default_factory=dict)
        annotations: dict[str, str] = Field(default_factory=dict)
        spec_tags: list[TagReference] = Field(default_factory=list)
        # set when the stream is imported from a cluster dump: its own creation time and generations
        imported_created: datetime | None = None
        imported_generation: int | None = None

        def initial_state(self) -> ImageStreamState:
            imported = self.imported_generation is not None
            return ImageStreamState(
                namespace=self.namespace, name=self.name, created=self.imported_created or self.timestamp,
                repository=self.repository, lookup_local=self.lookup_local,
                labels=dict(self.labels), annotations=dict(self.annotations),
                spec_tags={t.name: t if imported else t.model_copy(update={"generation": 1}) for t in self.spec_tags},
                generation=self.imported_generation or 1,
                imported_spec_tags={t.name: t.model_copy() for t in self.spec_tags} if imported else {},
                imported_lookup_local=self.lookup_local if imported else None,
            )

    class SpecTagSet(Aggregate.Event):
        tag: TagReference
        generation: int
        imported: bool = False  # from a cluster dump

        def evolve(self, state: ImageStreamState) -> None:
            state.spec_tags[self.tag.name] = self.tag.model_copy(deep=True)
            state.generation = self.generation
            if self.imported:
                state.imported_spec_tags[self.tag.name] = self.tag.model_copy(deep=True)

    class LookupPolicySet(Aggregate.Event):
        local: bool
        generation: int
        imported: bool = False  # from a cluster dump

        def evolve(self, state: ImageStreamState) -> None:
            state.lookup_local = self.local
            state.generation = self.generation
            if self.imported:
                state.imported_lookup_local = self.local

    class TagMoved(Aggregate.Event):
        """A tag's status history changed: a new head, or an in-place collapse (§5)."""

        tag: str
        item: TagEvent
        change: ChangeKind
        source: str = ""  # what it came from: a pull spec, "stream:tag", "stream@digest"

        def evolve(self, state: ImageStreamState) -> None:
            state.status_tags.setdefault(self.tag, TagHistory()).add(self.item.model_copy())
            if self.change in IMPORT_KINDS:
                state.observe_import(self.tag, self.item.generation, self.timestamp)

    class ImportFailed(Aggregate.Event):
        tag: str
        condition: TagEventCondition

        def evolve(self, state: ImageStreamState) -> None:
            history = state.status_tags.setdefault(self.tag, TagHistory())
            if not any(c.same_failure(self.condition) for c in history.conditions):
                history.conditions = [self.condition.model_copy()]
            state.observe_import(self.tag, self.condition.generation, self.timestamp)

    class TagDeleted(Aggregate.Event):
        tag: str
        generation: int

        def evolve(self, state: ImageStreamState) -> None:
            state.spec_tags.pop(self.tag, None)
            state.status_tags.pop(self.tag, None)
            state.generation = self.generation

    class AppliedToCluster(Aggregate.Event):
        """A command imagetrail ran on a real cluster for this stream (rollback --apply), and how it
        ended there. The cluster's own change arrives through a watch, as an observation."""

        cluster_command: str
        exit_code: int
        output: str
        cluster_user: str      # who the cluster says we are (oc whoami)

        def evolve(self, state: ImageStreamState) -> None:
            pass  # the stream changes when the cluster's change is seen, not when it is asked for

    # -- commands ---------------------------------------------------------------------

    @classmethod
    def create(cls, namespace: str, name: str, *, repository: str, tags: list[TagReference] = (),
               lookup_local: bool = False, labels: dict[str, str] | None = None,
               annotations: dict[str, str] | None = None) -> ImageStream:
        return cls._create(
            cls.Created, id=cls.id_for(namespace, name), namespace=namespace, name=name,
            repository=repository, lookup_local=lookup_local, labels=labels or {},
            annotations=annotations or {}, spec_tags=list(tags),
        )

    @classmethod
    def from_cluster(cls, namespace: str, name: str, *, repository: str, tags: list[TagReference], lookup_local: bool,
                 labels: dict[str, str], annotations: dict[str, str], created: datetime | None,
                 generation: int) -> ImageStream:
        """A stream that already exists on a cluster: its spec and generations as they are there
        (a tag without one, `generation: null`, gets the stream's, as the API server merges it)."""
        tags = [t if t.generation is not None else t.model_copy(update={"generation": generation}) for t in tags]
        return cls._create(
            cls.Created, id=cls.id_for(namespace, name), namespace=namespace, name=name, repository=repository,
            lookup_local=lookup_local, labels=labels, annotations=annotations, spec_tags=list(tags),
            imported_created=created, imported_generation=generation,
        )

    def adopt_spec_tag(self, ref: TagReference, generation: int) -> bool:
        """Record a spec tag exactly as a cluster has it (no source processing: it is history).

        `generation: null` keeps the stored generation (openshift/api TagReference.Generation:
        "Legacy clients will send this value as nil which will be merged with the current tag
        generation")."""
        if ref.generation is None:
            old = self.state.spec_tags.get(ref.name)
            ref = ref.model_copy(update={"generation": old.generation if old else max(generation, self.state.generation)})
        if ref in (self.state.spec_tags.get(ref.name), self.state.imported_spec_tags.get(ref.name)):
            return False
        self.trigger_event(self.SpecTagSet, tag=ref, generation=max(generation, self.state.generation),
                           imported=True)
        return True

    def adopt_lookup_policy(self, local: bool) -> bool:
        """A dump's lookup policy, unless it is the one the last dump already gave."""
        if local in (self.state.lookup_local, self.state.imported_lookup_local):
            return False
        self.trigger_event(self.LookupPolicySet, local=local, generation=self.state.generation + 1, imported=True)
        return True

    def adopt_history(self, tag: str, items: list[TagEvent]) -> int:
        """Append the dump's history items this stream lacks, oldest first, as bootstrap events."""
        known = {(i.docker_image_reference, i.image, i.created) for i in self.state.status_tags.get(tag, TagHistory()).items}
        head = self.state.head(tag)
        newer = items
        for index, item in enumerate(items):  # items are newest first, as the API lists them
            if head is not None and (item.docker_image_reference, item.image, item.created) == \
                    (head.docker_image_reference, head.image, head.created):
                newer = items[:index]
                break
        added = 0
        for item in reversed(newer):
            if (item.docker_image_reference, item.image, item.created) in known:
                continue
            if self._move(tag, item, "bootstrap", "cluster dump", follow=False):
                added += 1
        return added

    @property
    def namespace(self) -> str:
        return self.state.namespace

    @property
    def name(self) -> str:
        return self.state.name

    def set_spec_tag(self, ref: TagReference, *, generation: int | None = None) -> bool:
        """Replace a spec tag (re-tagging resets import/reference policy, §6.2.1).

        Returns True when the tag's source must be processed now: a new tag, a changed
        source, or an explicit re-import request (generation 0), as the API server does.
        `generation`: the stream's new generation when one update changes several tags.
        """
        old = self.state.spec_tags.get(ref.name)
        new_generation = generation or self.state.generation + 1
        process = old is None or _tag_ref_changed(old, ref)
        tag_generation = new_generation if process else old.generation
        new = ref.model_copy(update={"generation": tag_generation})
        if old == new:
            return False
        self.trigger_event(self.SpecTagSet, tag=new, generation=new_generation)
        return process

    def set_lookup_policy(self, local: bool, *, generation: int | None = None) -> bool:
        if self.state.lookup_local == local:
            return False
        self.trigger_event(self.LookupPolicySet, local=local, generation=generation or self.state.generation + 1)
        return True

    def applied_to_cluster(self, cluster_command: str, exit_code: int, output: str, cluster_user: str) -> None:
        self.trigger_event(self.AppliedToCluster, cluster_command=cluster_command, exit_code=exit_code,
                           output=output, cluster_user=cluster_user)

    def delete_tag(self, tag: str) -> None:
        if tag not in self.state.spec_tags and tag not in self.state.status_tags:
            raise NotFound("imagestreamtags.image.openshift.io " + quote(f"{self.name}:{tag}") + " not found")
        generation = self.state.generation + (1 if tag in self.state.spec_tags else 0)
        self.trigger_event(self.TagDeleted, tag=tag, generation=generation)

    def record_reference(self, tag: str) -> None:
        """§3.3: a --reference DockerImage tag gets its raw pull spec as history, never imported."""
        spec = self.state.spec_tags[tag]
        item = TagEvent(created=utcnow(), docker_image_reference=spec.source.name, image="",
                        generation=spec.generation)
        self._move(tag, item, "reference", spec.source.name)

    def copy_image(self, tag: str, source: ImageStreamState, image_id: str, source_name: str) -> None:
        """§3.5: pin by digest (oc tag is:tag, is@sha256:…): a new event dated now."""
        found = source.find_image(image_id)
        item = TagEvent(created=utcnow(), docker_image_reference=found.docker_image_reference,
                        image=found.image, generation=self.state.spec_tags[tag].generation)
        self._move(tag, item, "copy", source_name)

    def copy_tag(self, tag: str, source: ImageStreamState, source_tag: str) -> bool:
        """§3.4: an alias copies the source's head, keeping its `created`. No head: nothing, no error."""
        head = source.head(source_tag)
        if head is None:
            return False
        item = head.model_copy(update={"generation": self.state.spec_tags[tag].generation})
        self._move(tag, item, "alias", f"{source.name}:{source_tag}")
        return True

    def imported(self, tag: str, pull_spec: str, digest: str, *, scheduled: bool = False,
                 generation: int | None = None) -> bool:
        """A registry import succeeded (§3.2, §5.8): record it unless nothing is new.

        `generation`: the import's nextGeneration when one ImageStreamImport imports several tags."""
        history = self.state.status_tags.get(tag)
        spec = self.state.spec_tags.get(tag)
        head = history.head if history else None
        if head and (head.docker_image_reference, head.image) == (pull_spec, digest):
            spec_generation = spec.generation if spec and spec.generation is not None else 0
            recovered = scheduled and bool(history.conditions)  # clear the failure a registry outage left
            if spec_generation <= self.state.observed_generation(tag) and not recovered:
                return False
        item = TagEvent(created=utcnow(), docker_image_reference=pull_spec, image=digest,
                        generation=generation or self.state.generation + 1)
        source = spec.source.name if spec and spec.source else pull_spec
        return self._move(tag, item, "scheduled-import" if scheduled else "import", source)

    def import_failed(self, tag: str, reason: str, message: str, *, generation: int | None = None) -> None:
        condition = TagEventCondition(
            last_transition_time=utcnow(), reason=reason,
            message=message or "unknown error prevented import", generation=generation or self.state.generation + 1,
        )
        self.trigger_event(self.ImportFailed, tag=tag, condition=condition)

    def roll_back(self, tag: str, pull_spec: str, image: str, position: int) -> bool:
        """Point the tag at the image it had at `position`, pinned by digest, by new events.

        Like `oc tag repo@digest is:tag`, this replaces the spec tag, so scheduled import
        is switched off and an alias stops following: automation cannot undo the rollback.
        Returns False when the tag already has that image.
        """
        head = self.state.head(tag)
        if head is not None and (head.docker_image_reference, head.image) == (pull_spec, image):
            return False
        current = self.state.spec_tags.get(tag)
        ref = TagReference(
            name=tag, source=ObjectReference(kind=DOCKER_IMAGE, name=pull_spec), generation=0,
            reference_policy=current.reference_policy if current else TagReferencePolicy(),
            import_policy=TagImportPolicy(import_mode=current.import_policy.import_mode) if current else TagImportPolicy(),
        )
        self.set_spec_tag(ref)
        item = TagEvent(created=utcnow(), docker_image_reference=pull_spec, image=image,
                        generation=self.state.spec_tags[tag].generation)
        return self._move(tag, item, "rollback", f"position {position}")

    def _move(self, tag: str, item: TagEvent, change: ChangeKind, source: str, *, follow: bool = True) -> bool:
        history = self.state.status_tags.get(tag)
        if history is not None and not history.would_change(item):
            return False
        self.trigger_event(self.TagMoved, tag=tag, item=item, change=change, source=source)
        if follow:
            self._propagate(tag)
        return True

    def _propagate(self, tag: str) -> None:
        """§4.1/§4.4: copy a new head verbatim into same-stream aliases, to a fixed point."""
        head = self.state.head(tag)
        for name, spec in sorted(self.state.spec_tags.items()):
            if spec.tracks(self.namespace, self.name, tag):
                history = self.state.status_tags.get(name)
                if history is None or history.would_change(head):
                    self.trigger_event(self.TagMoved, tag=name, item=head.model_copy(),
                                       change="followed", source=f"{self.name}:{tag}")
                    self._propagate(name)

    def moved_tags(self) -> list[str]:
        """Tags whose head moved in this unit of work (pending, not yet saved)."""
        return sorted({e.tag for e in self.pending_events if isinstance(e, self.TagMoved)})
