"""The Deployment use cases: create, set triggers, pause, resume, set image, rollout undo.

Each is one command (one atomic save, with the trigger and Deployment controllers' reactions)
and returns what happened as data; a front end (the CLI) words it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Literal

from imagetrail.engine.domain.deployment import Cause, Deployment
from imagetrail.engine.domain.errors import AlreadyExists, Invalid, NotFound, UsageError
from imagetrail.engine.domain.model import Container
from imagetrail.engine.domain.references import (
    ReferenceError,
    parse_docker_image_reference,
    quote,
    validate_object_name,
)
from imagetrail.engine.domain.trigger_definition import TriggerChange
from imagetrail.engine.service.tag_processing import reindex_triggers, resolve_image_name
from imagetrail.engine.service.unit_of_work import (
    command,
    ImportFailure,
    Reactions,
    Rollout,
    TriggerNotApplied,
    UnitOfWork,
    retry_on_conflict,
)

if TYPE_CHECKING:
    from imagetrail.engine.service.application import ImageTrail

Action = Literal["created", "triggers updated", "unchanged", "paused", "resumed", "image updated",
                 "rolled back", "skipped rollback"]


@dataclass(frozen=True)
class ImageSetBack:
    """A container set by hand that an automatic trigger set straight back: its tag decides."""

    container: str
    trigger_source: str  # the image stream tag the trigger follows ("stream:tag")
    image: str           # the image it runs now


@dataclass
class DeploymentChange:
    """What a Deployment command did."""

    name: str
    action: Action
    set_back: list[ImageSetBack] = field(default_factory=list)
    # the controllers' reactions in the same save
    rollouts: list[Rollout] = field(default_factory=list)
    not_applied: list[TriggerNotApplied] = field(default_factory=list)
    failures: list[ImportFailure] = field(default_factory=list)

    def with_reactions(self, reactions: Reactions) -> DeploymentChange:
        self.rollouts, self.not_applied = list(reactions.rollouts), list(reactions.not_applied)
        self.failures = list(reactions.failures)
        return self


class Deployments:
    """The Deployment use cases over one application (its store and resolver)."""

    def __init__(self, app: ImageTrail):
        self.app = app

    @retry_on_conflict
    def create_deployment(self, namespace: str, name: str, images: list[str], *, replicas: int = 1,
                          actor: str | None = None, reason: str = "") -> DeploymentChange:
        names_ok(lambda: validate_object_name(name, "deployment"))
        if not images:
            raise UsageError("required flag(s) \"image\" not set")
        containers: list[tuple[str, str]] = []
        for index, image in enumerate(images):
            container = container_name_for(image)
            # kubectl names each container after its image's last path component and sends them
            # all; the API server then refuses the second of two equal names, and so do we
            if any(taken == container for taken, _ in containers):
                raise Invalid(f"Deployment.apps {quote(name)} is invalid: spec.template.spec.containers[{index}].name: "
                              f"Duplicate value: {quote(container)}")
            if len(container) > 63:  # a repository path component may be longer than a DNS label
                raise Invalid(f"Deployment.apps {quote(name)} is invalid: spec.template.spec.containers[{index}].name: "
                              f"Invalid value: {quote(container)}: must be no more than 63 characters")
            containers.append((container, image))
        with command(self.app, f"imagetrail create deployment {name}", actor, reason) as (uow, outcome):
            if uow.get(Deployment, namespace, name) is not None:
                raise AlreadyExists(f'deployments.apps {quote(name)} already exists')
            resolved = [Container(name=c, image=resolve_image_name(uow, namespace, img))
                        for c, img in containers]
            uow.add(Deployment.create(namespace, name, containers=resolved, replicas=replicas,
                                      labels={"app": name}, change_cause=f"imagetrail create deployment {name}"))
            change = DeploymentChange(name, "created")
        return change.with_reactions(outcome)

    @retry_on_conflict
    def set_triggers(self, namespace: str, name: str, change: TriggerChange, *, actor: str | None = None,
                     reason: str = "") -> DeploymentChange:
        """`oc set triggers`: the change (from the flags, by the front end) applied to the annotation
        and the pause state; the stream → Deployments index follows."""
        with command(self.app, f"imagetrail set triggers deployment/{name}", actor, reason) as (uow, outcome):
            deployment = _deployment(uow, namespace, name)
            before = deployment.state.triggers()
            annotation, paused = change.apply(deployment.state)
            changed = deployment.set_triggers_annotation(annotation)
            if paused != deployment.state.paused:
                deployment.set_paused(paused)
                changed = True
            reindex_triggers(uow, deployment, before)
            result = DeploymentChange(name, "triggers updated" if changed else "unchanged")
        return result.with_reactions(outcome)

    @retry_on_conflict
    def pause(self, namespace: str, name: str, *, actor: str | None = None, reason: str = "") -> DeploymentChange:
        with command(self.app, f"imagetrail rollout pause deployment/{name}", actor, reason) as (uow, outcome):
            _deployment(uow, namespace, name).pause()
        return DeploymentChange(name, "paused").with_reactions(outcome)

    @retry_on_conflict
    def resume(self, namespace: str, name: str, *, actor: str | None = None, reason: str = "") -> DeploymentChange:
        with command(self.app, f"imagetrail rollout resume deployment/{name}", actor, reason) as (uow, outcome):
            _deployment(uow, namespace, name).resume()
        return DeploymentChange(name, "resumed").with_reactions(outcome)

    @retry_on_conflict
    def set_image(self, namespace: str, name: str, images: dict[str, str], *, actor: str | None = None,
                  reason: str = "") -> DeploymentChange:
        """Set container images by hand; a container an automatic trigger governs is set straight
        back by the trigger controller in the same save (reported as `set_back`)."""
        for image in images.values():
            try:
                parse_docker_image_reference(image)
            except ReferenceError as e:
                raise UsageError(f"invalid image {quote(image)}: {e}") from None
        description = f"imagetrail set image deployment/{name} " + " ".join(f"{c}={i}" for c, i in images.items())
        with command(self.app, description, actor, reason) as (uow, outcome):
            deployment = _deployment(uow, namespace, name)
            deployment.set_images(images, Cause(kind="manual"))
            governed = {c: deployment.state.auto_trigger_for(c) for c in images}
        change = DeploymentChange(name, "image updated").with_reactions(outcome)
        for container, trigger in governed.items():  # after the commit: the controller has reacted
            now = deployment.state.container(container).image
            if trigger is not None and now != images[container]:
                change.set_back.append(ImageSetBack(container, trigger.source.name, now))
        return change

    @retry_on_conflict
    def undo_rollout(self, namespace: str, name: str, *, to_revision: int | None = None,
                     actor: str | None = None, reason: str = "") -> DeploymentChange:
        description = f"imagetrail rollout undo deployment/{name}" + (
            f" --to-revision {to_revision}" if to_revision else "")
        with command(self.app, description, actor, reason) as (uow, outcome):
            undone = _deployment(uow, namespace, name).undo(to_revision)
        return DeploymentChange(name, "rolled back" if undone else "skipped rollback").with_reactions(outcome)


def _deployment(uow: UnitOfWork, namespace: str, name: str) -> Deployment:
    names_ok(lambda: validate_object_name(name, "deployment"))
    deployment = uow.get(Deployment, namespace, name)
    if deployment is None:
        raise NotFound(f'deployments.apps {quote(name)} not found')
    return deployment


def container_name_for(image: str) -> str:
    """kubectl create deployment names a container after its image's last path component."""
    try:
        ref = parse_docker_image_reference(image)
    except ReferenceError as e:
        raise UsageError(f"invalid image {quote(image)}: {e}") from None
    name = ref.name.rsplit("/", 1)[-1]
    if "_" in name or "." in name:
        # kubectl's sanitizeAndUniquify: '_' and '.' are not allowed in a container name (a
        # DNS-1123 label), so they become '-' and a random suffix keeps the result unique
        suffix = "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        name = f"{name.replace('_', '-').replace('.', '-')}-{suffix}"
    return name


def names_ok(*checks: Callable[[], None]) -> None:
    """Run name checks (engine.references), turning their verdict into a user error."""
    for check in checks:
        try:
            check()
        except ReferenceError as e:
            raise UsageError(str(e)) from None
