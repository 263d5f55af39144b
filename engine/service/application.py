"""The imagetrail application: the eventsourcing Application, wired to the use cases.

Each use case is one user command (engine/service/tags.py, bootstrap.py, scheduled_imports.py,
and the deployment commands below): it loads what it needs, calls domain methods, lets the
trigger controller and the Deployment controller react, and saves everything in one atomic
`save` (engine/service/unit_of_work.py) — the command, its trigger reactions and its rollouts
together — and returns what it did as data.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.utils import Environment

from imagetrail.engine.domain import rollback_plan
from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.model import TagReference
from imagetrail.engine.domain.trigger_annotation import ImageTrigger
from imagetrail.engine.service.ports import Resolver, Store
from imagetrail.engine.domain.watchers import StreamWatchers
from imagetrail.engine.service import bootstrap, scheduled_imports, tag_processing, tags, unit_of_work
from imagetrail.engine.service.unit_of_work import Reactions, UnitOfWork

DEFAULT_INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"


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
