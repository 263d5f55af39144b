"""`oc set triggers` on a Deployment (§11.2): flags → a new triggers annotation and pause state.

Mirrors oc's TriggerDefinition round trip: read the annotation into abstract triggers
(config = !spec.paused, one image trigger per entry), change what the flags name, and
write every entry back normalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imagetrail.engine.domain.deployment import DeploymentState, trigger_target
from imagetrail.engine.domain.errors import Invalid, UsageError
from imagetrail.engine.domain.references import (
    ReferenceError,
    parse_docker_image_reference,
    parse_istag_name,
    validate_namespace,
)
from imagetrail.engine.domain.trigger_annotation import (
    ImageTrigger,
    TriggerError,
    TriggerSource,
    container_field_path,
    format_annotation,
    parse_annotation,
)


@dataclass
class ImageChangeTrigger:
    source: str          # "stream:tag"
    namespace: str       # "" when it is the Deployment's own namespace
    auto: bool
    names: list[str] = field(default_factory=list)


@dataclass
class TriggerDefinition:
    config: bool
    images: list[ImageChangeTrigger]

    @classmethod
    def of(cls, state: DeploymentState) -> TriggerDefinition:
        try:
            entries = parse_annotation(state.triggers_annotation) or []
        except TriggerError as e:
            raise Invalid(f"deployment {state.name} has an invalid image.openshift.io/triggers annotation: {e}") from None
        images = []
        for entry in entries:
            try:
                container = trigger_target(state, entry)
            except Invalid:  # oc skips entries whose path or container does not resolve
                continue
            if container is None:
                continue
            namespace = "" if entry.source.namespace == state.namespace else entry.source.namespace
            images.append(ImageChangeTrigger(entry.source.name, namespace, not entry.paused, [container.name]))
        return cls(config=not state.paused, images=images)

    def annotation(self, state: DeploymentState) -> str:
        known = {c.name for c in state.containers + state.init_containers}
        taken: set[str] = set()
        entries: list[ImageTrigger] = []
        for trigger in self.images:
            if not trigger.names:
                raise UsageError(f"the trigger on {trigger.source} names no container")
            missing = sorted(set(trigger.names) - known)
            if missing:
                raise UsageError(f"not all container names exist: {', '.join(missing)} "
                                 f"(accepts: {', '.join(sorted(known))})")
            reused = sorted(taken & set(trigger.names))
            if reused:
                raise UsageError(f"only one trigger may reference each container: {', '.join(reused)}")
            taken.update(trigger.names)
            for name in trigger.names:
                entries.append(ImageTrigger(
                    source=TriggerSource(name=trigger.source, namespace=trigger.namespace),
                    field_path=container_field_path(name), paused=not trigger.auto))
        return format_annotation(entries or None)


class TriggerSourceError(Invalid):
    """The image a trigger should follow is no image stream tag of this server: `problem` says why
    ("invalid", with the name rule's `detail`; "not-on-server"; "no-tag")."""

    def __init__(self, problem: str, detail: str = ""):
        super().__init__(f"{problem}: {detail}" if detail else problem)
        self.problem, self.detail = problem, detail


@dataclass(frozen=True)
class TriggerChange:
    """What `oc set triggers` changes; a front end builds it from its flags."""

    from_image: str = ""
    from_namespace: str = ""
    containers: tuple[str, ...] = ()
    auto: bool = False
    manual: bool = False
    remove: bool = False
    remove_all: bool = False

    @staticmethod
    def source(namespace: str, image: str) -> tuple[str, str]:
        """The image stream tag a trigger follows, as "stream:tag", and its namespace ("" for
        `namespace`), by the API server's name rules."""
        try:
            ref = parse_docker_image_reference(image)
        except ReferenceError as e:
            raise TriggerSourceError("invalid", str(e)) from None
        if ref.registry or ref.id or "/" in ref.name:
            raise TriggerSourceError("not-on-server")
        if not ref.tag:
            raise TriggerSourceError("no-tag")
        try:
            stream, tag = parse_istag_name(f"{ref.name}:{ref.tag}", namespace=ref.namespace or namespace)
            if ref.namespace:
                validate_namespace(ref.namespace)
        except ReferenceError as e:
            raise TriggerSourceError("invalid", str(e)) from None
        return f"{stream}:{tag}", "" if ref.namespace == namespace else ref.namespace

    def apply(self, state: DeploymentState) -> tuple[str, bool]:
        """The annotation to write and the Deployment's new spec.paused."""
        definition = TriggerDefinition.of(state)
        if self.remove_all:
            definition = TriggerDefinition(config=False, images=[])
        elif self.remove:
            definition.images = [t for t in definition.images if t.source != self.from_image]
        elif not self.from_image:  # --auto / --manual alone: every trigger, and the config trigger
            definition.config = self.auto
            for trigger in definition.images:
                trigger.auto = self.auto
        else:
            for trigger in definition.images:
                if trigger.source == self.from_image and trigger.namespace == self.from_namespace:
                    trigger.auto, trigger.names = not self.manual, list(self.containers)
                    break
            else:
                definition.images.append(ImageChangeTrigger(self.from_image, self.from_namespace,
                                                             not self.manual, list(self.containers)))
        return definition.annotation(state), not definition.config
