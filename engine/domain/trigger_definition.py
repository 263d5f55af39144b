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
                raise UsageError("you must specify --containers when setting --from-image")
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


@dataclass(frozen=True)
class TriggerChange:
    from_image: str = ""
    from_namespace: str = ""
    containers: tuple[str, ...] = ()
    auto: bool = False
    manual: bool = False
    remove: bool = False
    remove_all: bool = False

    @classmethod
    def parse(cls, namespace: str, *, from_image: str | None, containers: list[str] | None, auto: bool,
              manual: bool, remove: bool, remove_all: bool) -> TriggerChange:
        names = tuple(n for c in containers or () for n in c.split(",") if n)
        if auto and manual:
            raise UsageError("you must specify at most one of --auto or --manual")
        if remove_all and (remove or auto or manual or from_image or names):
            raise UsageError("--remove-all may not be used with any other flag")
        if remove and not from_image:
            raise UsageError("--remove requires a flag defining a trigger type to be specified")
        if names and not from_image:
            raise UsageError("--containers can only be used with --from-image")
        if not (from_image or auto or manual or remove or remove_all):
            raise UsageError("you must specify one of --from-image, --auto, --manual, --remove or --remove-all")
        stream_tag, source_ns = "", ""
        if from_image:
            try:
                ref = parse_docker_image_reference(from_image)
            except ReferenceError as e:
                raise UsageError(f"the value of --from-image is not valid: {e}") from None
            if ref.registry or ref.id or "/" in ref.name:
                raise UsageError("the value of --from-image must point to an image stream tag on this server")
            if not ref.tag:
                raise UsageError("the value of --from-image must include the tag you wish to pull from")
            try:  # the stream tag and its namespace by the API server's rules, as every entry point
                stream, tag = parse_istag_name(f"{ref.name}:{ref.tag}", namespace=ref.namespace or namespace)
                if ref.namespace:
                    validate_namespace(ref.namespace)
            except ReferenceError as e:
                raise UsageError(f"the value of --from-image is not valid: {e}") from None
            stream_tag = f"{stream}:{tag}"
            source_ns = "" if ref.namespace == namespace else ref.namespace
            if not remove and not names:
                raise UsageError("you must specify --containers when setting --from-image")
        return cls(stream_tag, source_ns, names, auto, manual, remove, remove_all)

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
