"""The imagetrail application: the eventsourcing Application, wired to the use cases.

Each use case is one user command (engine/service/tags.py, bootstrap.py, scheduled_imports.py,
and the deployment commands below): it loads what it needs, calls domain methods, lets the
trigger controller and the Deployment controller react, and saves everything in one atomic
`save` (engine/service/unit_of_work.py) — the command, its trigger reactions and its rollouts
together — and returns what it did as data.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.utils import Environment

from imagetrail.engine.domain import trigger_definition as triggerset
from imagetrail.engine.domain import rollback_plan
from imagetrail.engine.domain.deployment import Cause, Deployment
from imagetrail.engine.domain.errors import AlreadyExists, Invalid, NotFound, UsageError
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.model import Container, TagReference
from imagetrail.engine.domain.references import (
    ReferenceError,
    parse_docker_image_reference,
    quote,
    validate_object_name,
)
from imagetrail.engine.domain.trigger_annotation import ImageTrigger
from imagetrail.engine.service.ports import Resolver, Store
from imagetrail.engine.domain.watchers import StreamWatchers
from imagetrail.engine.service import bootstrap, scheduled_imports, tag_processing, tags, unit_of_work
from imagetrail.engine.service.unit_of_work import (  # noqa: F401 (Outcome: what the deployment commands return)
    Outcome,
    Reactions,
    UnitOfWork,
    retry_on_conflict,
)

DEFAULT_INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"


@dataclass(frozen=True)
class RollbackTarget:
    """What a tag had at a past position, as the read side found it."""

    stream: str
    tag: str
    image: str
    pull_spec: str
    position: int


class ImageTrail(Application):
    name = "imagetrail"
    # long-lived streams and Deployments load from a snapshot plus the events after it
    snapshotting_intervals = {ImageStream: 50, Deployment: 50, StreamWatchers: 50}

    def __init__(self, store: Store, resolver: Resolver, *, internal_registry: str | None = None):
        self.store = store
        self.resolver = resolver
        self.internal_registry = internal_registry or DEFAULT_INTERNAL_REGISTRY
        super().__init__(env=store.env)

    def construct_env(self, name: str, env: dict[str, str] | None = None) -> Environment:
        """The class's settings and the store's, not the process environment eventsourcing would add:
        the configuration is read once, by the composition root (engine/settings.py)."""
        settings = dict(type(self).env)
        if type(self).is_snapshotting_enabled or type(self).snapshotting_intervals:
            settings["IS_SNAPSHOTTING_ENABLED"] = "y"
        return Environment(name, settings | dict(env or {}))

    # -- reading aggregates -------------------------------------------------------------

    def stream(self, namespace: str, name: str) -> ImageStream | None:
        return UnitOfWork(self).get(ImageStream, namespace, name)

    def deployment(self, namespace: str, name: str) -> Deployment | None:
        return UnitOfWork(self).get(Deployment, namespace, name)

    @property
    def views_path(self) -> Path:
        """Where the projections live: beside the store (the Kafka store keys them to its topic)."""
        return self.store.views_path

    @functools.cached_property
    def source(self) -> str:
        """The CloudEvents `source` of this store's events: its identity, created once (a
        memory store is a new store in every process)."""
        return getattr(self.recorder, "source", None) or f"imagetrail://memory/{uuid4()}"

    def repository_for(self, namespace: str, name: str) -> str:
        return f"{self.internal_registry}/{namespace}/{name}"

    # -- the core: one command, one atomic save; tag processing shared by the use cases ----------

    def command(self, description: str, actor: str | None = None, reason: str = "", *, result: Any = None,
                plan: rollback_plan.PlanScope | None = None, dry_run: bool = False):
        """A context manager: yields (unit of work, result — an `Outcome` when not given); see
        unit_of_work.command."""
        return unit_of_work.command(self, description, actor, reason, result=result, plan=plan, dry_run=dry_run)

    def set_tag(self, uow: UnitOfWork, namespace: str, stream_name: str, ref: TagReference,
                result: Reactions) -> ImageStream:
        return tag_processing.set_tag(self, uow, namespace, stream_name, ref, result)

    def reindex_triggers(self, uow: UnitOfWork, deployment: Deployment, before: list[ImageTrigger]) -> None:
        tag_processing.reindex_triggers(uow, deployment, before)

    def resolve_image_name(self, uow: UnitOfWork, namespace: str, image: str) -> str:
        return tag_processing.resolve_image_name(uow, namespace, image)

    # -- the use cases (engine/service/tags.py, bootstrap.py, scheduled_imports.py) ----------------

    tag = tags.tag
    delete_tags = tags.delete_tags
    create_istag = tags.create_istag
    import_image = tags.import_image
    set_image_lookup = tags.set_image_lookup
    apply = bootstrap.apply
    import_cluster = bootstrap.import_cluster
    reimport_scheduled = scheduled_imports.reimport_scheduled

    def describe_plan(self, uow: UnitOfWork, scope: rollback_plan.PlanScope) -> rollback_plan.RollbackPlan:
        """What the pending events of a unit of work will do, from the events themselves: so a
        dry run shows exactly what the real run does. Computed before the save."""
        for ns, stream_name, _ in scope.targets:  # followers of a tag that does not move are in the plan too
            watchers = uow.get(StreamWatchers, ns, stream_name)
            for key in watchers.state.deployments if watchers else []:
                uow.get(Deployment, *key.split("/", 1))
        for ns, name in scope.bystanders:
            uow.get(Deployment, ns, name)  # loaded after the controllers ran: only read, never saved
        streams, deployments = uow.of_type(ImageStream), uow.of_type(Deployment)
        committed_streams = {(s.namespace, s.name): self.stream(s.namespace, s.name) for s in streams}
        committed_deployments = {(d.namespace, d.name): self.deployment(d.namespace, d.name) if d.pending_events
                                 else d for d in deployments}
        return rollback_plan.plan(
            scope.targets, streams, {k: s.state for k, s in committed_streams.items() if s},
            deployments, {k: d.state for k, d in committed_deployments.items() if d})

    # -- deployment commands --------------------------------------------------------------

    @retry_on_conflict
    def create_deployment(self, namespace: str, name: str, images: list[str], *, replicas: int = 1,
                          actor: str | None = None, reason: str = "") -> Outcome:
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
        with self.command(f"imagetrail create deployment {name}", actor, reason) as (uow, outcome):
            if uow.get(Deployment, namespace, name) is not None:
                raise AlreadyExists(f'deployments.apps {quote(name)} already exists')
            resolved = [Container(name=c, image=self.resolve_image_name(uow, namespace, img))
                        for c, img in containers]
            uow.add(Deployment.create(namespace, name, containers=resolved, replicas=replicas,
                                      labels={"app": name}, change_cause=f"imagetrail create deployment {name}"))
            outcome.lines.append(f"deployment.apps/{name} created")
        return outcome

    def _deployment(self, uow: UnitOfWork, namespace: str, name: str) -> Deployment:
        names_ok(lambda: validate_object_name(name, "deployment"))
        deployment = uow.get(Deployment, namespace, name)
        if deployment is None:
            raise NotFound(f'deployments.apps {quote(name)} not found')
        return deployment

    @retry_on_conflict
    def set_triggers(self, namespace: str, name: str, *, from_image: str | None = None,
                     containers: list[str] | None = None, auto: bool = False, manual: bool = False,
                     remove: bool = False, remove_all: bool = False, actor: str | None = None,
                     reason: str = "") -> Outcome:
        change = triggerset.TriggerChange.parse(namespace, from_image=from_image, containers=containers,
                                                auto=auto, manual=manual, remove=remove, remove_all=remove_all)
        with self.command(f"imagetrail set triggers deployment/{name}", actor, reason) as (uow, outcome):
            deployment = self._deployment(uow, namespace, name)
            before = deployment.state.triggers()
            annotation, paused = change.apply(deployment.state)
            changed = deployment.set_triggers_annotation(annotation)
            if paused != deployment.state.paused:
                deployment.set_paused(paused)
                changed = True
            self.reindex_triggers(uow, deployment, before)
            if changed:
                outcome.lines.append(f"deployment.apps/{name} triggers updated")
        return outcome

    @retry_on_conflict
    def pause(self, namespace: str, name: str, *, actor: str | None = None, reason: str = "") -> Outcome:
        with self.command(f"imagetrail rollout pause deployment/{name}", actor, reason) as (uow, outcome):
            self._deployment(uow, namespace, name).pause()
            outcome.lines.append(f"deployment.apps/{name} paused")
        return outcome

    @retry_on_conflict
    def resume(self, namespace: str, name: str, *, actor: str | None = None, reason: str = "") -> Outcome:
        with self.command(f"imagetrail rollout resume deployment/{name}", actor, reason) as (uow, outcome):
            self._deployment(uow, namespace, name).resume()
            outcome.lines.append(f"deployment.apps/{name} resumed")
        return outcome

    @retry_on_conflict
    def set_image(self, namespace: str, name: str, images: dict[str, str], *, actor: str | None = None,
                  reason: str = "") -> Outcome:
        for image in images.values():
            try:
                parse_docker_image_reference(image)
            except ReferenceError as e:
                raise UsageError(f"invalid image {quote(image)}: {e}") from None
        command = f"imagetrail set image deployment/{name} " + " ".join(f"{c}={i}" for c, i in images.items())
        with self.command(command, actor, reason) as (uow, outcome):
            deployment = self._deployment(uow, namespace, name)
            deployment.set_images(images, Cause(kind="manual"))
            governed = {c: deployment.state.auto_trigger_for(c) for c in images}
            outcome.lines.append(f"deployment.apps/{name} image updated")
        for container, trigger in governed.items():
            if trigger is not None:
                now = deployment.state.container(container).image
                if now != images[container]:
                    outcome.warnings.append(
                        f'container {quote(container)} follows image stream tag {trigger.source.name} (automatic '
                        f"trigger), so the image was set back to {now}. Move the tag instead, or run "
                        f"'imagetrail set triggers deployment/{name} --manual' first.")
        return outcome

    # -- rollback -----------------------------------------------------------------------------

    @retry_on_conflict
    def undo_rollout(self, namespace: str, name: str, *, to_revision: int | None = None,
                     actor: str | None = None, reason: str = "") -> Outcome:
        description = f"imagetrail rollout undo deployment/{name}" + (
            f" --to-revision {to_revision}" if to_revision else "")
        with self.command(description, actor, reason) as (uow, outcome):
            deployment = self._deployment(uow, namespace, name)
            if deployment.undo(to_revision):
                outcome.lines.append(f"deployment.apps/{name} rolled back")
            else:
                outcome.lines.append(f"deployment.apps/{name} skipped rollback (current template already "
                                     "matches that revision)")
        return outcome

    @retry_on_conflict
    def restore_spec(self, namespace: str, stream_name: str, spec: TagReference, position: int, *,
                     dry_run: bool = False, bystanders: list[str] | None = None, actor: str | None = None,
                     reason: str = "") -> Outcome:
        """Put back a tag's spec exactly as it was at `position` (an alias stays an alias), and
        resolve it now, as the API server does for a spec change."""
        description = f"imagetrail rollback {stream_name}:{spec.name} --restore-spec --to-position {position}"
        scope = rollback_plan.PlanScope([(namespace, stream_name, spec.name)],
                                        [(namespace, n) for n in bystanders or []])
        with self.command(description, actor, reason, plan=scope, dry_run=dry_run) as (uow, outcome):
            stream = uow.get(ImageStream, namespace, stream_name)
            if stream is None:
                raise NotFound(f'imagestreams.image.openshift.io {quote(stream_name)} not found')
            source = f"{spec.source.kind} {spec.source.name}" if spec.source else "no source"
            self.set_tag(uow, namespace, stream_name, spec.model_copy(update={"generation": 0}), outcome)
            now = stream.state.resolve(spec.name)
            verb = "would be" if dry_run else "is"
            outcome.lines.append(f"Tag {stream_name}:{spec.name} {verb} set back to {source} (as at position "
                                 f"{position}); it resolves now to {now or 'nothing yet'}.")
        return outcome

    @retry_on_conflict
    def rollback(self, namespace: str, targets: list[RollbackTarget], *, dry_run: bool = False,
                 bystanders: list[str] | None = None, actor: str | None = None, reason: str = "") -> Outcome:
        """Move tags back to the images they had at a position (found by the read side), with
        every trigger reaction, in one atomic save; or, with `dry_run`, only say what would happen.

        The plan (outcome.plan) covers the Deployments that follow the tags and, of `bystanders`
        (the namespace's Deployments as the read side lists them), those that run their images.
        """
        names = " ".join(f"{t.stream}:{t.tag}" for t in targets)
        description = f"imagetrail rollback {names} --to-position {max(t.position for t in targets)}"
        scope = rollback_plan.PlanScope([(namespace, t.stream, t.tag) for t in targets],
                                        [(namespace, n) for n in bystanders or []])
        with self.command(description, actor, reason, plan=scope, dry_run=dry_run) as (uow, outcome):
            for target in targets:
                stream = uow.get(ImageStream, namespace, target.stream)
                if stream is None:
                    raise NotFound(f'imagestreams.image.openshift.io {quote(target.stream)} not found')
                where = f"{target.stream}:{target.tag}"
                if stream.roll_back(target.tag, target.pull_spec, target.image, target.position):
                    verb = "would roll" if dry_run else "rolled"
                    outcome.lines.append(f"Tag {where} {verb} back to {target.pull_spec} (position {target.position}).")
                else:
                    outcome.lines.append(f"Tag {where} already points to {target.pull_spec}; nothing to do.")
        return outcome


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
