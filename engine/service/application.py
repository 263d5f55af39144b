"""The imagetrail application: the eventsourcing Application, wired to the use cases.

Each use case is one user command (engine/service/tags.py, bootstrap.py, scheduled_imports.py,
deployments.py, rollback.py): it loads what it needs, calls domain methods, lets the
trigger controller and the Deployment controller react, and saves everything in one atomic
`save` (engine/service/unit_of_work.py) — the command, its trigger reactions and its rollouts
together — and returns what it did as data.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from uuid import uuid4

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.utils import Environment

from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.watchers import StreamWatchers
from imagetrail.engine.service.ports import Resolver, Store
from imagetrail.engine.service import bootstrap, observe, scheduled_imports, tags
from imagetrail.engine.service.unit_of_work import UnitOfWork
from imagetrail.engine.service.warm_aggregates import WarmAggregates

DEFAULT_INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"


class ImageTrail(Application):
    name = "imagetrail"
    # long-lived streams and Deployments load from a snapshot plus the events after it
    snapshotting_intervals = {ImageStream: 50, Deployment: 50, StreamWatchers: 50}

    def __init__(self, store: Store, resolver: Resolver, *, internal_registry: str | None = None):
        self.store = store
        self.resolver = resolver
        self.internal_registry = internal_registry or DEFAULT_INTERNAL_REGISTRY
        self.warm = WarmAggregates()
        super().__init__(env=store.env)

    def construct_env(self, name: str, env: dict[str, str] | None = None) -> Environment:
        """The class's settings and the store's, not the process environment eventsourcing would add:
        the configuration is read once, by the composition root (engine/settings.py)."""
        settings = dict(type(self).env)
        if type(self).is_snapshotting_enabled or type(self).snapshotting_intervals:
            settings["IS_SNAPSHOTTING_ENABLED"] = "y"
        return Environment(name, settings | dict(env or {}))

    def _take_snapshots(self, processing_event: ProcessingEvent) -> None:
        """Snapshot a saved aggregate whose new events cross its interval, from the aggregate
        itself: eventsourcing would first rebuild it from the store (a snapshot and a replay)
        to the interval's exact version. Loading needs only some recent version."""
        new_events = Counter(e.originator_id for e in processing_event.events)
        for aggregate_id, aggregate in processing_event.aggregates.items():
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval and aggregate.version // interval > (aggregate.version - new_events[aggregate_id]) // interval:
                self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])

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

    # -- the use cases (engine/service/tags.py, bootstrap.py, scheduled_imports.py) ----------------

    tag = tags.tag
    delete_tags = tags.delete_tags
    create_istag = tags.create_istag
    import_image = tags.import_image
    set_image_lookup = tags.set_image_lookup
    apply = bootstrap.apply
    import_cluster = bootstrap.import_cluster
    observe = observe.observe
    reimport_scheduled = scheduled_imports.reimport_scheduled
