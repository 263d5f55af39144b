"""The Deployment aggregate: pod template images, pause, rollouts, and image triggers.

A Deployment follows image stream tags through its `image.openshift.io/triggers`
annotation (§11, §12); it rolls out a new revision when its template changes while it
is not paused (§13).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, PrivateAttr

from imagetrail.engine.domain.aggregate import (Aggregate, ChangeAttributed, Model, ObjectDeleted,
                                                ObjectRecreated, aggregate_id)
from imagetrail.engine.domain.references import quote
from imagetrail.engine.domain.errors import ImagetrailError, Invalid, NotFound, TriggerGovernsContainer
from imagetrail.engine.domain.model import Container, Revision
from imagetrail.engine.domain.trigger_annotation import (
    TRIGGERS_ANNOTATION,
    ImageTrigger,
    TriggerError,
    parse_annotation,
    parse_field_path,
)

CauseKind = Literal["manual", "trigger", "apply", "rollback", "bootstrap"]


class Cause(Model):
    """Why a container image changed: a user's command, or the tag event a trigger followed."""

    kind: CauseKind
    stream: str = ""        # "namespace/name" of the image stream a trigger followed
    tag: str = ""
    tag_event: int | None = None  # originator_version of the ImageStream.TagMoved it followed

    def describe(self) -> str:
        if self.kind == "trigger":
            return f"image trigger {self.stream.split('/', 1)[-1]}:{self.tag}"
        return self.kind


class ImageChange(Model):
    container: str
    image: str
    cause: Cause


class DeploymentState(Model):
    namespace: str
    name: str
    created: datetime
    observed_version: str = ""  # the cluster's resourceVersion of the last change observed (watch)
    deleted: bool = False  # deleted on the cluster (watch): kept for history, not found by reads
    attributed_until: str = ""  # the stageTimestamp of the last API audit record read for it
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    replicas: int = 1
    containers: list[Container] = Field(default_factory=list)
    init_containers: list[Container] = Field(default_factory=list)
    paused: bool = False
    revisions: list[Revision] = Field(default_factory=list)  # rollout history, oldest first
    # the images the last `import -f` of a cluster dump recorded, by container: the same dump
    # imported again leaves a container alone that has moved on since
    imported_images: dict[str, str] = Field(default_factory=dict)
    # the same for the pause and the triggers annotation ("paused", "triggers"; absent: never imported)
    imported_settings: dict[str, Any] = Field(default_factory=dict)

    # each template's revision, built at first use and kept in step: a rollout must not scan a
    # history that grows with every one (not part of the state's data)
    _by_template: dict[frozenset[tuple[str, str]], int] | None = PrivateAttr(default=None)

    @property
    def revision(self) -> int:
        return self.revisions[-1].number if self.revisions else 0

    def add_revision(self, revision: Revision) -> None:
        """§13.5: a template that ran before gives up its old number (its ReplicaSet is reused)."""
        if self._by_template is None or len(self._by_template) != len(self.revisions):
            self._by_template = {_template(r.images): r.number for r in self.revisions}
        key = _template(revision.images)
        if key in self._by_template:
            self.revisions = [r for r in self.revisions if _template(r.images) != key]
        self.revisions.append(revision)
        self._by_template[key] = revision.number

    @property
    def template_images(self) -> dict[str, str]:
        return {c.name: c.image for c in self.init_containers + self.containers}

    @property
    def rolled_out_images(self) -> dict[str, str]:
        return dict(self.revisions[-1].images) if self.revisions else {}

    @property
    def triggers_annotation(self) -> str | None:
        return self.annotations.get(TRIGGERS_ANNOTATION)

    def triggers(self) -> list[ImageTrigger]:
        """The image triggers; an unparseable annotation yields none, as the controller skips it."""
        try:
            return parse_annotation(self.triggers_annotation) or []
        except TriggerError:
            return []

    def container(self, name: str) -> Container | None:
        for c in self.init_containers + self.containers:
            if c.name == name:
                return c
        return None

    def auto_trigger_for(self, container: str) -> ImageTrigger | None:
        for trigger in self.triggers():
            if trigger.paused:
                continue
            try:
                target = trigger_target(self, trigger)
            except Invalid:
                continue
            if target is not None and target.name == container:
                return trigger
        return None


def _template(images: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset(images.items())


def trigger_target(state: DeploymentState, trigger: ImageTrigger) -> Container | None:
    """The container a trigger's fieldPath selects; None when the path is not ours (skipped)."""
    try:
        parsed = parse_field_path(trigger.field_path)
    except TriggerError as e:
        raise Invalid(str(e)) from None
    if parsed is None:
        return None
    field, index, name = parsed
    pool = state.init_containers if field == "initContainers" else state.containers
    if name is not None:
        # the controller searches init containers first, whatever the path says (§11.1)
        found = state.container(name)
    else:
        found = pool[index] if index is not None and 0 <= index < len(pool) else None
    if found is None:
        raise Invalid(f"no such container: {name if name is not None else index}")
    return found


# resolve(namespace, stream, tag) -> pull spec, or None when the tag has no image yet
TagResolver = Callable[[str, str, str], "str | None"]
CauseFinder = Callable[[str, str, str], Cause]


class Deployment(Aggregate[DeploymentState]):
    state_class = DeploymentState

    @staticmethod
    def id_for(namespace: str, name: str) -> UUID:
        return aggregate_id("deployment", namespace, name)

    class Deleted(ObjectDeleted):
        pass

    class Attributed(ChangeAttributed):
        pass

    class Recreated(ObjectRecreated):
        pass

    class Created(Aggregate.Created):
        namespace: str
        name: str
        containers: list[Container]
        init_containers: list[Container] = Field(default_factory=list)
        replicas: int = 1
        labels: dict[str, str] = Field(default_factory=dict)
        annotations: dict[str, str] = Field(default_factory=dict)
        paused: bool = False
        change_cause: str = ""
        imported: bool = False  # created by `import -f` from a cluster dump

        def initial_state(self) -> DeploymentState:
            state = DeploymentState(
                namespace=self.namespace, name=self.name, created=self.timestamp,
                labels=dict(self.labels), annotations=dict(self.annotations), replicas=self.replicas,
                containers=[c.model_copy() for c in self.containers],
                init_containers=[c.model_copy() for c in self.init_containers], paused=self.paused,
            )
            if self.imported:
                state.imported_images = state.template_images
                state.imported_settings = {"paused": self.paused,
                                           "triggers": self.annotations.get(TRIGGERS_ANNOTATION)}
            if not self.paused:
                state.revisions.append(Revision(number=1, images=state.template_images,
                                                change_cause=self.change_cause, timestamp=self.timestamp))
            return state

    class ImagesChanged(Aggregate.Event):
        """The pod template's container images changed (not yet a rollout)."""

        changes: list[ImageChange]

        def evolve(self, state: DeploymentState) -> None:
            for change in self.changes:
                state.container(change.container).image = change.image
                if change.cause.kind == "bootstrap":
                    state.imported_images[change.container] = change.image

    class RolledOut(Aggregate.Event):
        """A new revision: the template went live. A template seen before reuses its
        ReplicaSet, so its old revision number disappears from the history (§13.5)."""

        revision: int
        images: dict[str, str]
        change_cause: str = ""

        def evolve(self, state: DeploymentState) -> None:
            state.add_revision(Revision(number=self.revision, images=dict(self.images),
                                        change_cause=self.change_cause, timestamp=self.timestamp))

    class TriggersSet(Aggregate.Event):
        """The triggers annotation's raw value (None removes the annotation)."""

        annotation: str | None
        imported: bool = False  # set by `import -f` from a cluster dump

        def evolve(self, state: DeploymentState) -> None:
            if self.imported:
                state.imported_settings["triggers"] = self.annotation
            if self.annotation is None:
                state.annotations.pop(TRIGGERS_ANNOTATION, None)
            else:
                state.annotations[TRIGGERS_ANNOTATION] = self.annotation

    class PauseSet(Aggregate.Event):
        paused: bool
        imported: bool = False  # set by `import -f` from a cluster dump

        def evolve(self, state: DeploymentState) -> None:
            state.paused = self.paused
            if self.imported:
                state.imported_settings["paused"] = self.paused

    # -- commands ---------------------------------------------------------------------

    @classmethod
    def create(cls, namespace: str, name: str, *, containers: list[Container],
               init_containers: list[Container] = (), replicas: int = 1,
               labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
               paused: bool = False, change_cause: str = "", imported: bool = False) -> Deployment:
        return cls._create(
            cls.Created, id=cls.id_for(namespace, name), namespace=namespace, name=name,
            containers=list(containers), init_containers=list(init_containers), replicas=replicas,
            labels=labels or {}, annotations=annotations or {}, paused=paused, change_cause=change_cause,
            imported=imported,
        )

    @property
    def namespace(self) -> str:
        return self.state.namespace

    @property
    def name(self) -> str:
        return self.state.name

    def set_images(self, images: dict[str, str], cause: Cause) -> bool:
        for container in images:
            if self.state.container(container) is None:
                raise NotFound(f"unable to find container named {quote(container)}")
        changes = [ImageChange(container=c, image=img, cause=cause)
                   for c, img in images.items() if self.state.container(c).image != img]
        if not changes:
            return False
        self.trigger_event(self.ImagesChanged, changes=changes)
        return True

    def undo(self, to_revision: int | None = None) -> dict[str, str]:
        """`rollout undo`: set the template back to a revision's images (the previous one by default).

        A container that follows a tag through an automatic trigger is refused: the trigger
        would set it straight back (openshift/origin#25662). Roll the tag back instead.
        Returns the images changed (empty when the template already matches).
        """
        revisions = self.state.revisions
        if to_revision is None:
            if len(revisions) < 2:
                raise NotFound(f'no rollout history found for deployment {quote(self.name)}')
            target = revisions[-2]
        else:
            target = next((r for r in revisions if r.number == to_revision), None)
            if target is None:
                raise NotFound(f"unable to find specified revision {to_revision} in history")
        changes = {c: image for c, image in target.images.items()
                   if self.state.container(c) is not None and self.state.container(c).image != image}
        for container in changes:
            trigger = self.state.auto_trigger_for(container)
            if trigger is not None:
                raise TriggerGovernsContainer(container, trigger.source.name)
        self.set_images(changes, Cause(kind="rollback"))
        return changes

    def set_triggers_annotation(self, annotation: str | None, *, imported: bool = False) -> bool:
        if imported and self.state.imported_settings.get("triggers", ...) == annotation:
            return False  # the dump says what the last import said: a change made since stands
        if self.state.triggers_annotation == annotation:
            return False
        self.trigger_event(self.TriggersSet, annotation=annotation, imported=imported)
        return True

    def pause(self) -> None:
        if self.state.paused:
            raise ImagetrailError(f'deployments.apps {quote(self.name)} is already paused')
        self.trigger_event(self.PauseSet, paused=True)

    def resume(self) -> None:
        if not self.state.paused:
            raise ImagetrailError(f'deployments.apps {quote(self.name)} is not paused')
        self.trigger_event(self.PauseSet, paused=False)

    def set_paused(self, paused: bool, *, imported: bool = False) -> None:
        if imported and self.state.imported_settings.get("paused") == paused:
            return  # the dump says what the last import said: a pause or resume since stands
        if self.state.paused != paused:
            self.trigger_event(self.PauseSet, paused=paused, imported=imported)

    def follow_triggers(self, resolve: TagResolver, cause_for: CauseFinder) -> bool:
        """The image trigger controller's reaction (§12.4), from the latest state.

        Every non-paused trigger whose tag resolves sets its container to that image;
        unresolvable tags are skipped silently; a bad fieldPath or missing container
        aborts the whole update (nothing partial), as upstream does.
        """
        images: dict[str, tuple[str, Cause]] = {}
        for trigger in self.state.triggers():
            if trigger.paused or trigger.source.kind != "ImageStreamTag" or ":" not in trigger.source.name:
                continue
            namespace = trigger.source.namespace or self.namespace
            stream, tag = trigger.source.name.split(":", 1)
            resolved = resolve(namespace, stream, tag)
            if resolved is None:
                continue
            container = trigger_target(self.state, trigger)
            if container is None:
                continue
            if container.image != resolved:
                images[container.name] = (resolved, cause_for(namespace, stream, tag))
        changes = [ImageChange(container=c, image=img, cause=cause) for c, (img, cause) in images.items()]
        if not changes:
            return False
        self.trigger_event(self.ImagesChanged, changes=changes)
        return True

    def roll_out(self, command: str) -> bool:
        """The Deployment controller: a changed template on an unpaused Deployment is a new revision.

        The change cause names the triggers that moved the template in this command, else the command.
        """
        if self.state.paused or self.state.template_images == self.state.rolled_out_images:
            return False
        followed = sorted({change.cause.describe() for e in self.pending_events
                           if isinstance(e, self.ImagesChanged) for change in e.changes
                           if change.cause.kind == "trigger"})
        change_cause = "; ".join(followed) + f" ({command})" if followed else command
        self.trigger_event(self.RolledOut, revision=self.state.revision + 1,
                           images=self.state.template_images, change_cause=change_cause)
        return True
