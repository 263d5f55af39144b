"""A realistic SQLite store of N events, written quickly, through imagetrail's own use cases.

    python tests/benchmarks/generate.py EVENTS PATH.db [--seed 1]

Every event is one a command writes: each command is a real use case (`tag`, `tag --alias`,
`tag --scheduled`, a scheduled re-import, `create deployment`, `set triggers`, `rollout
pause/resume`, `rollback`), with its own actor, correlation id and trigger reactions, and the
store writes the hash chain as it always does. What makes it fast is only where the saves go:
`Batching` holds each command's saved aggregates in memory and writes a batch of commands in
one `Application.save`, in command order, so a batch is a few hundred commands in one
transaction instead of one each. A batch never holds two commands that write the same
aggregate (a second one flushes first): each command then sees exactly the state a
one-save-per-command run would show it, and its events are the same (checked at each flush:
one correlation id per aggregate). Rollbacks read the audit index, so they run unbatched with
the projections caught up.

The store grows the way a cluster does, in width: ~1 stream per 400 events (4 tags, two
triggered Deployments each) over one namespace per 100 streams, so an object's history is as
deep at 1M events as at 10k, and a figure's growth with the log size is the indexes' alone.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.trigger_definition import TriggerChange
from imagetrail.engine.domain.watchers import StreamWatchers
from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.service.deployments import Deployments
from imagetrail.engine.service.rollback import Rollback, Target
from imagetrail.engine.settings import Settings
from imagetrail.projections.history_reader import ProjectionHistory
from imagetrail.projections.runner import catch_up
from imagetrail.projections.views import open_view

USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "ci-bot"]
BATCH = 250  # commands per save: past a few hundred the save's own cost no longer shrinks


def digest(*parts: object) -> str:
    return "sha256:" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


class _Repository:
    """The application's repository, answering from the batch's aggregates first (latest version only)."""

    def __init__(self, inner: Any, held: dict):
        self._inner, self._held = inner, held
        self.bypass = False

    def get(self, aggregate_id: Any, *args: Any, **kwargs: Any) -> Any:
        held = self._held.get(aggregate_id)
        if held is not None and not args and kwargs.get("version") is not None and \
                kwargs["version"] == held.version and not held.pending_events:
            return held  # a snapshot of what was just saved (Application.take_snapshot)
        if not args and kwargs.get("version") is None and aggregate_id in self._held:
            held = self._held[aggregate_id]
            # unbatched, every load is a new object, as from the store (held ones have nothing unsaved then)
            return copy.deepcopy(held) if self.bypass else held
        return self._inner.get(aggregate_id, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Snapshots:
    """The snapshot store, holding the snapshots a flush takes until it has saved the batch, then
    writing them in one transaction (each would be a transaction, and an fsync, of its own)."""

    def __init__(self, inner: Any):
        self._inner = inner
        self.held: list[Any] | None = None

    def put(self, events: Any, **kwargs: Any) -> Any:
        if self.held is None:
            return self._inner.put(events, **kwargs)
        self.held.extend(events)
        return []

    def release(self) -> None:
        held, self.held = self.held, None
        if held:
            self._inner.put(held)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def project(aggregate: Any, events: Any) -> Any:
    """eventsourcing's project_aggregate without its per-event `isinstance(e, CanMutateProtocol)`
    assert (a runtime Protocol check, ~40 µs an event); the same states."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class Batching(ImageTrail):
    """ImageTrail whose `save` keeps the aggregates until `flush`, which saves them all at once.

    Held aggregates are what the next command loads (the store has not seen them yet); after a
    flush they stay held, as a cache: this process is the store's only writer.
    """

    name = ImageTrail.name  # eventsourcing names an application after its class: the view tracks this name
    snapshotting_projectors = {ImageStream: project, Deployment: project, StreamWatchers: project}

    def __init__(self, *args: Any, **kwargs: Any):
        self.held: dict[Any, Any] = {}    # id → the aggregate, as the last command left it
        self.dirty: dict[Any, Any] = {}   # id → aggregate with unsaved events, in first-save order
        self.keys: set[Any] = set()       # what the commands of this batch touched (see `run`)
        self.commands = 0
        self.direct = False
        self.batch = BATCH
        super().__init__(*args, **kwargs)

    def construct_snapshot_store(self) -> Any:
        return _Snapshots(super().construct_snapshot_store())

    def construct_repository(self) -> Any:
        return _Repository(super().construct_repository(), self.held)

    def save(self, *objects: Any, **kwargs: Any) -> Any:
        if self.direct:
            recordings = super().save(*objects, **kwargs)
            self.held.update((o.id, o) for o in objects)
            return recordings
        for aggregate in objects:
            self.held[aggregate.id] = aggregate
            self.dirty.setdefault(aggregate.id, aggregate)
        return []

    def pending(self) -> int:
        return sum(len(a.pending_events) for a in self.dirty.values())

    def run(self, key: Any, command: Callable[[], Any]) -> Any:
        """One command touching the aggregates named by `key` (a stream: itself and its Deployments)."""
        if key in self.keys or self.commands >= self.batch:
            self.flush()
        self.keys.add(key)
        self.commands += 1
        return command()

    def flush(self) -> None:
        for aggregate in self.dirty.values():
            correlations = {e.correlation_id for e in aggregate.pending_events}
            if len(correlations) > 1:  # two commands wrote it: the second saw unsaved state
                raise AssertionError(f"{aggregate.id} written by {len(correlations)} commands in one batch")
        if self.dirty:
            self.snapshots.held = []
            super().save(*self.dirty.values())
            self.snapshots.release()
        self.dirty.clear()
        self.keys.clear()
        self.commands = 0

    @contextmanager
    def unbatched(self) -> Iterator[None]:
        """Commands that load committed state beside their unit of work (rollback's plan) save alone."""
        self.flush()
        self.direct = self.repository.bypass = True
        try:
            yield
        finally:
            self.direct = self.repository.bypass = False


@dataclass
class Stream:
    namespace: str
    name: str
    imports: int = 0    # how many images `latest` has had
    nightly: int = 0    # the upstream nightly build's number
    paused: bool = False


def generate(events: int, path: Path, *, seed: int = 1, batch: int = BATCH,
             progress: Callable[[int], None] | None = None) -> dict:
    """Write at least `events` events to the SQLite store at `path` (a new file); return what was written.
    With `batch=1` every command is saved alone, as the CLI saves it (slower; the same events)."""
    if path.exists():
        raise SystemExit(f"error: {path} exists; the generator writes a new store")
    rng = random.Random(seed)
    count = max(10, events // 400)
    streams = [Stream(f"team-{i % max(2, count // 100)}", f"svc-{i}") for i in range(count)]
    resolver = Resolver({f"quay.io/acme/svc-{i}:nightly": digest(i, "nightly", 0) for i in range(count)})
    app = Batching(parse_store(Settings(store=f"sqlite:///{path}")), resolver)
    app.batch = batch
    deployments = Deployments(app)
    view = open_view(str(app.views_path), app.source)
    history = ProjectionHistory(app, lambda: (catch_up(app, view), view)[1])
    started = time.perf_counter()
    counts: dict[str, int] = {}

    def run(s: Stream, what: str, command: Callable[[], Any]) -> None:
        counts[what] = counts.get(what, 0) + 1
        app.run((s.namespace, s.name), command)

    def import_latest(s: Stream, actor: str) -> None:
        s.imports += 1
        app.tag(s.namespace, f"quay.io/acme/{s.name}@{digest(s.name, s.imports)}", [f"{s.name}:latest"],
                actor=actor, reason=rng.choice(["", "release", "hotfix"]))

    # -- set up, one stage at a time over every stream (a stage writes each stream once) --------------
    for s in streams:
        run(s, "tag", lambda s=s: import_latest(s, "ci-bot"))
    for s in streams:
        run(s, "tag --alias", lambda s=s: app.tag(s.namespace, f"{s.name}:latest", [f"{s.name}:stable"],
                                                  alias=True, actor=rng.choice(USERS)))
    for s in streams:
        run(s, "tag (promote)", lambda s=s: app.tag(s.namespace, f"{s.name}:latest", [f"{s.name}:prod"],
                                                    actor=rng.choice(USERS)))
    for s in streams:
        run(s, "tag --scheduled", lambda s=s: app.tag(s.namespace, f"quay.io/acme/{s.name}:nightly",
                                                      [f"{s.name}:nightly"], scheduled=True, actor="ci-bot"))
    for role, tag in (("web", "prod"), ("canary", "stable")):
        for s in streams:
            run(s, "create deployment", lambda s=s, role=role: deployments.create_deployment(
                s.namespace, f"{s.name}-{role}", [f"quay.io/acme/{s.name}:bootstrap"], actor=rng.choice(USERS)))
        for s in streams:
            run(s, "set triggers", lambda s=s, role=role, tag=tag: deployments.set_triggers(
                s.namespace, f"{s.name}-{role}", TriggerChange(f"{s.name}:{tag}", containers=(s.name,)),
                actor=rng.choice(USERS)))
    app.flush()

    # -- then activity, until the log holds `events` ---------------------------------------------------
    while (app.recorder.max_notification_id() or 0) + app.pending() < events:
        order = streams[:]
        rng.shuffle(order)
        for s in order:
            roll = rng.random()
            actor = rng.choice(USERS)
            if roll < 0.45:      # a new build (moves latest, stable follows, the canary rolls out)
                run(s, "tag", lambda s=s, actor=actor: import_latest(s, actor))
            elif roll < 0.65:    # a promotion (prod pinned to latest's image, web rolls out)
                run(s, "tag (promote)", lambda s=s, actor=actor: app.tag(
                    s.namespace, f"{s.name}:latest", [f"{s.name}:prod"], actor=actor, reason="promote"))
            elif roll < 0.90:    # the nightly build changed upstream: the controller re-imports
                s.nightly += 1
                resolver.snapshot[f"quay.io/acme/{s.name}:nightly"] = digest(s.name, "nightly", s.nightly)
                run(s, "scheduled import", lambda s=s: app.reimport_scheduled(s.namespace, s.name))
            elif roll < 0.998:    # someone holds the web Deployment, or lets it go again
                s.paused = not s.paused
                act = deployments.pause if s.paused else deployments.resume
                run(s, "rollout pause/resume", lambda s=s, act=act, actor=actor: act(
                    s.namespace, f"{s.name}-web", actor=actor))
            else:                # a bad release: prod back one step, through the audit index
                with app.unbatched():
                    if len(history.tag_changes(s.namespace, s.name, "prod")) > 1:
                        counts["rollback"] = counts.get("rollback", 0) + 1
                        Rollback(app, history).execute(Target(s.namespace, s.name, "prod", steps=1), actor=actor,
                                                       reason="bad release")
        app.flush()
        if progress:
            progress(app.recorder.max_notification_id() or 0)
    app.flush()
    written = time.perf_counter() - started
    return {"events": app.recorder.max_notification_id() or 0, "seconds": written, "streams": len(streams),
            "namespaces": len({s.namespace for s in streams}), "deployments": 2 * len(streams), "commands": counts,
            "view": str(app.views_path)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("events", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=BATCH, help="commands per save (1: each alone)")
    args = parser.parse_args()
    started = time.perf_counter()
    report = generate(args.events, args.path, seed=args.seed, batch=args.batch,
                      progress=lambda n: print(f"{n:,} events, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True))
    print(f"{report['events']:,} events in {report['seconds']:.0f} s "
          f"({report['events'] / report['seconds']:,.0f} events/s): {report['streams']} streams in "
          f"{report['namespaces']} namespaces, {report['deployments']} Deployments")
    print("commands: " + ", ".join(f"{k} {v:,}" for k, v in sorted(report["commands"].items())))


if __name__ == "__main__":
    main()
