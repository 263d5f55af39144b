"""The imagetrail application: a thin service layer over the aggregates.

Each public method is one user command. It loads what it needs, calls domain methods,
lets the trigger controller and the Deployment controller react, and saves everything
in one atomic `save` — the command, its trigger reactions and its rollouts together.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from imagetrail.engine.domain import context, manifests
from imagetrail.engine.domain import tag_sources as tagging
from imagetrail.engine.domain import rollback_plan
from imagetrail.engine.domain.deployment import Cause, Deployment
from imagetrail.engine.domain.errors import AlreadyExists, Conflict, Invalid, NotFound, ResolveFailed, UsageError
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.adapters.mapper import PydanticMapper
from imagetrail.engine.domain.model import DOCKER_IMAGE, IMAGE_STREAM_IMAGE, IMAGE_STREAM_TAG, Container, TagReference
from imagetrail.engine.domain.references import (
    ReferenceError,
    parse_docker_image_reference,
    parse_istag_name,
    quote,
    validate_stream_name,
    validate_tag_name,
)
from imagetrail.engine.domain.trigger_annotation import TRIGGERS_ANNOTATION, ImageTrigger
from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import StoreConfig
from imagetrail.engine.domain.watchers import StreamWatchers

DEFAULT_INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"
# who the audit log says moved a tag on a scheduled re-import, as OpenShift's own import controller
CONTROLLER_ACTOR = "system:serviceaccount:openshift-infra:image-import-controller"

A = TypeVar("A")


@dataclass
class ImportFailure:
    stream: str
    tag: str
    message: str


@dataclass
class Outcome:
    """What a command did, for the CLI to report."""

    lines: list[str] = field(default_factory=list)
    plan: rollback_plan.RollbackPlan | None = None  # what the command does, when asked (rollback)
    warnings: list[str] = field(default_factory=list)
    failures: list[ImportFailure] = field(default_factory=list)
    rollouts: list[str] = field(default_factory=list)  # "deployment.apps/x rolled out revision N"
    notices: list[str] = field(default_factory=list)  # other info: lines (what import -f skipped)


CONFLICT_RETRIES = 5


def retry_on_conflict(command: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """Re-run a command on fresh state when a concurrent writer got there first.

    Every command re-reads and re-validates from scratch, so a retry means the same as
    typing it again (like oc's retry-on-conflict); after a few losses the conflict is
    reported.
    """
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Outcome:
        for attempt in range(CONFLICT_RETRIES):
            try:
                return command(*args, **kwargs)
            except Conflict:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    return run


class UnitOfWork:
    """The aggregates one command touches, loaded once and saved together."""

    def __init__(self, app: ImageTrail):
        self.app = app
        self.loaded: dict[UUID, Any] = {}
        self.missing: set[UUID] = set()

    def get(self, cls: type[A], namespace: str, name: str) -> A | None:
        agg_id = cls.id_for(namespace, name)
        if agg_id in self.loaded:
            return self.loaded[agg_id]
        if agg_id in self.missing:
            return None
        try:
            agg = self.app.repository.get(agg_id)
        except AggregateNotFoundError:
            self.missing.add(agg_id)
            return None
        self.loaded[agg_id] = agg
        return agg

    def add(self, agg: Any) -> Any:
        self.missing.discard(agg.id)
        self.loaded[agg.id] = agg
        return agg

    def of_type(self, cls: type[A]) -> list[A]:
        return [a for a in self.loaded.values() if isinstance(a, cls)]

    def pending(self) -> list[Any]:
        return [a for a in self.loaded.values() if a.pending_events]


class ImageTrail(Application):
    name = "imagetrail"
    env = {"MAPPER_TOPIC": get_topic(PydanticMapper)}
    # long-lived streams and Deployments load from a snapshot plus the events after it
    snapshotting_intervals = {ImageStream: 50, Deployment: 50, StreamWatchers: 50}

    def __init__(self, store: StoreConfig, resolver: Resolver | None = None):
        self.store = store
        self.resolver = resolver or Resolver()
        self.internal_registry = os.environ.get("IMAGETRAIL_INTERNAL_REGISTRY", DEFAULT_INTERNAL_REGISTRY)
        super().__init__(env=store.env)

    # -- reading aggregates -------------------------------------------------------------

    def stream(self, namespace: str, name: str) -> ImageStream | None:
        return UnitOfWork(self).get(ImageStream, namespace, name)

    def deployment(self, namespace: str, name: str) -> Deployment | None:
        return UnitOfWork(self).get(Deployment, namespace, name)

    @property
    def views_path(self) -> str:
        """Where the projections live: beside the store (the Kafka store keys them to its topic)."""
        return getattr(self.recorder, "views_path", None) or self.store.views_path

    @functools.cached_property
    def source(self) -> str:
        """The CloudEvents `source` of this store's events: its identity, created once (a
        memory store is a new store in every process)."""
        return getattr(self.recorder, "source", None) or f"imagetrail://memory/{uuid4()}"

    def repository_for(self, namespace: str, name: str) -> str:
        return f"{self.internal_registry}/{namespace}/{name}"

    # -- the unit of work's end: controllers react, then one atomic save -----------------

    def commit(self, uow: UnitOfWork, outcome: Outcome, command: str, *,
               plan: rollback_plan.PlanScope | None = None, dry_run: bool = False) -> Outcome:
        """Run the trigger and Deployment controllers on what changed, then save atomically.

        With `plan`, first describe everything the save will do; with `dry_run`, only that.
        """
        for stream in uow.of_type(ImageStream):
            if stream.moved_tags():
                watchers = uow.get(StreamWatchers, stream.namespace, stream.name)
                for key in watchers.state.deployments if watchers else []:
                    ns, name = key.split("/", 1)
                    uow.get(Deployment, ns, name)

        def resolve(ns: str, stream_name: str, tag: str) -> str | None:
            stream = uow.get(ImageStream, ns, stream_name)
            return stream.state.resolve(tag) if stream else None

        def cause_for(ns: str, stream_name: str, tag: str) -> Cause:
            stream = uow.get(ImageStream, ns, stream_name)
            moves = [e for e in stream.pending_events
                     if isinstance(e, ImageStream.TagMoved) and e.tag == tag] if stream else []
            return Cause(kind="trigger", stream=f"{ns}/{stream_name}", tag=tag,
                         tag_event=moves[-1].originator_version if moves else None)

        for deployment in uow.of_type(Deployment):
            try:
                deployment.follow_triggers(resolve, cause_for)
            except Invalid as e:  # the controller would log, retry, and leave the object alone
                outcome.warnings.append(f"deployment.apps/{deployment.name}: image trigger not applied: {e}")
                continue
            if deployment.roll_out(command):
                outcome.rollouts.append(
                    f"deployment.apps/{deployment.name} rolled out revision {deployment.state.revision}")
        if plan is not None:
            outcome.plan = self.describe_plan(uow, plan)
        if not dry_run:
            self.save_all(uow)
        return outcome

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

    def save_all(self, uow: UnitOfWork) -> None:
        pending = uow.pending()
        if not pending:
            return
        try:
            self.save(*pending)
        except IntegrityError:
            names = ", ".join(sorted(_describe(a) for a in pending))
            raise Conflict(f"{names} changed concurrently; nothing was written, retry the command") from None

    # -- tag processing shared by tag, create istag, import-image, apply ----------------------

    def set_tag(self, uow: UnitOfWork, namespace: str, stream_name: str, ref: TagReference,
                outcome: Outcome, *, labels: dict | None = None) -> ImageStream:
        """Create or update a spec tag and process its source the way the API server would."""
        stream = uow.get(ImageStream, namespace, stream_name)
        if stream is None:
            stream = uow.add(ImageStream.create(namespace, stream_name, tags=[ref],
                                                repository=self.repository_for(namespace, stream_name)))
            process = True
        else:
            process = stream.set_spec_tag(ref)
        if process:
            self.process_tag_source(uow, stream, ref.name, outcome)
        return stream

    def process_tag_source(self, uow: UnitOfWork, stream: ImageStream, tag: str, outcome: Outcome, *,
                           import_generation: int | None = None) -> None:
        spec = stream.state.spec_tags[tag]
        src = spec.source
        if src is None:
            return
        if src.kind == DOCKER_IMAGE:
            if spec.reference:
                stream.record_reference(tag)
            else:
                self.import_tag(stream, tag, outcome, generation=import_generation)
        elif src.kind == IMAGE_STREAM_IMAGE:
            source_name, image_id = src.name.split("@", 1) if "@" in src.name else (stream.name, src.name)
            source = self.source_stream(uow, stream, src.namespace, source_name)
            stream.copy_image(tag, source.state, image_id, src.name)
        elif src.kind == IMAGE_STREAM_TAG:
            source_name, source_tag = src.name.split(":", 1) if ":" in src.name else (stream.name, src.name)
            source = self.source_stream(uow, stream, src.namespace, source_name)
            stream.copy_tag(tag, source.state, source_tag)

    def source_stream(self, uow: UnitOfWork, stream: ImageStream, namespace: str, name: str) -> ImageStream:
        source = uow.get(ImageStream, namespace or stream.namespace, name)
        if source is None:
            raise NotFound(f'imagestreams.image.openshift.io {quote(name)} not found')
        return source

    def import_tag(self, stream: ImageStream, tag: str, outcome: Outcome, *, scheduled: bool = False,
                   generation: int | None = None) -> bool:
        """Resolve the tag's source and record the import, or the failure as a condition.

        A scheduled re-import that fails as the last one did writes nothing: the
        condition already says so, and the log should not grow every interval.
        """
        spec = stream.state.spec_tags[tag]
        try:
            resolved = self.resolver.resolve(spec.source.name, insecure=spec.import_policy.insecure,
                                             import_mode=spec.import_policy.import_mode)
        except ResolveFailed as e:
            if not (scheduled and stream.state.has_failure(tag, e.reason, e.message)):
                stream.import_failed(tag, e.reason, e.message, generation=generation)
            outcome.failures.append(ImportFailure(stream.name, tag, e.message))
            return False
        before = stream.state.head(tag)
        if not stream.imported(tag, resolved.pull_spec, resolved.digest, scheduled=scheduled, generation=generation):
            return False
        if scheduled:
            was = f" (was {before.image})" if before else ""
            outcome.lines.append(f"imported {stream.namespace}/{stream.name}:{tag} {resolved.digest}{was}")
        return True

    @retry_on_conflict
    def reimport_scheduled(self, namespace: str, name: str, *, actor: str | None = None) -> Outcome:
        """One scheduled re-import of a stream's scheduled tags (§9.3): only changed digests are
        written, and they fire the triggers in the same atomic save as any tag move."""
        with self.command(f"scheduled import {namespace}/{name}", actor or CONTROLLER_ACTOR) as (uow, outcome):
            stream = uow.get(ImageStream, namespace, name)
            for tag in stream.state.scheduled_tags() if stream else []:
                self.import_tag(stream, tag, outcome, scheduled=True)
        return outcome

    @contextlib.contextmanager
    def command(self, description: str, actor: str | None = None, reason: str = "", *,
                plan: rollback_plan.PlanScope | None = None,
                dry_run: bool = False) -> Iterator[tuple[UnitOfWork, Outcome]]:
        """One user command: its own actor and correlation id, one atomic save at the end.

        An exception inside the block writes nothing.
        """
        with context.command(actor=actor, reason=reason, description=description):
            uow, outcome = UnitOfWork(self), Outcome()
            yield uow, outcome
            self.commit(uow, outcome, description, plan=plan, dry_run=dry_run)

    # -- reindexing triggers ------------------------------------------------------------

    def reindex_triggers(self, uow: UnitOfWork, deployment: Deployment, before: list[ImageTrigger]) -> None:
        """Keep the stream → Deployments index in step with the triggers annotation."""
        key = f"{deployment.namespace}/{deployment.name}"
        old, new = _watched(deployment, before), _watched(deployment, deployment.state.triggers())
        for ns, stream in sorted(new - old):
            watchers = uow.get(StreamWatchers, ns, stream) or uow.add(StreamWatchers.create(ns, stream))
            watchers.watch(key)
        for ns, stream in sorted(old - new):
            watchers = uow.get(StreamWatchers, ns, stream)
            if watchers:
                watchers.unwatch(key)

    # -- image stream commands ------------------------------------------------------------

    @retry_on_conflict
    def tag(self, namespace: str, source: str, dests: list[str], *, alias: bool = False,
            reference: bool = False, scheduled: bool = False, insecure: bool = False,
            reference_policy: str = "source", import_mode: str = "Legacy", source_kind: str | None = None,
            actor: str | None = None, reason: str = "") -> Outcome:
        policy = tagging.reference_policy(reference_policy)
        mode = tagging.import_mode(import_mode)
        src = tagging.classify_source(source, source_kind)
        if alias and (scheduled or insecure):
            raise UsageError("cannot set a container image tag as an alias and also set import flags")
        if src.kind != DOCKER_IMAGE and (scheduled or insecure):
            raise UsageError("only container images can have importing flags set")
        targets = [tagging.parse_dest(d, namespace) for d in dests]
        if alias:
            if src.kind != IMAGE_STREAM_TAG:
                raise UsageError("--alias needs an image stream tag (name:tag) as SOURCE")
            if any(t.namespace != namespace or t.stream != src.stream for t in targets):
                raise UsageError("cannot set alias across different Image Streams")
        with self.command(f"imagetrail tag {source} {' '.join(dests)}", actor, reason) as (uow, outcome):
            for dest in targets:
                ref, shown = self._tag_reference(uow, namespace, src, dest, alias=alias, reference=reference,
                                                 scheduled=scheduled, insecure=insecure, policy=policy, mode=mode)
                self.set_tag(uow, dest.namespace, dest.stream, ref, outcome)
                where = dest.display(namespace)
                if alias:
                    outcome.lines.append(f"Tag {where} set up to track {shown}.")
                elif scheduled:
                    verb = "import " if dest.namespace == namespace else ""
                    outcome.lines.append(f"Tag {where} set to {verb}{shown} periodically.")
                else:
                    outcome.lines.append(f"Tag {where} set to {shown}.")
        return outcome

    def _tag_reference(self, uow: UnitOfWork, namespace: str, src: tagging.Source, dest: tagging.Dest, *,
                       alias: bool, reference: bool, scheduled: bool, insecure: bool,
                       policy, mode: str) -> tuple[TagReference, str]:
        # an omitted source namespace means the current project, spelled out when DEST is elsewhere
        src_ns = src.namespace or ("" if dest.namespace == namespace else namespace)
        prefix = f"{src.namespace}/" if src.namespace else ""
        if src.kind == DOCKER_IMAGE:
            return tagging.docker_image_tag(dest.tag, src.text, scheduled=scheduled, insecure=insecure,
                                            reference=reference, policy=policy, mode=mode), src.text
        if src.kind == IMAGE_STREAM_IMAGE:
            name = f"{src.stream}@{src.image_id}"
            return tagging.stream_tag_reference(dest.tag, IMAGE_STREAM_IMAGE, name, src_ns,
                                                reference=reference, policy=policy), prefix + name
        if alias:
            name = f"{src.stream}:{src.tag}"
            return tagging.stream_tag_reference(dest.tag, IMAGE_STREAM_TAG, name, src_ns,
                                                reference=reference, policy=policy), prefix + name
        # `is:tag` without --alias pins the source's current image by digest (§6.2)
        source_stream = uow.get(ImageStream, src.namespace or namespace, src.stream)
        head = source_stream.state.head(src.tag) if source_stream else None
        if head is None:
            raise UsageError(f'{quote(src.text)} is not currently pointing to an image, cannot use it as the source of a tag')
        if not head.image:
            return tagging.docker_image_tag(dest.tag, head.docker_image_reference, reference=reference,
                                            policy=policy, mode=mode), head.docker_image_reference
        name = f"{src.stream}@{head.image}"
        return tagging.stream_tag_reference(dest.tag, IMAGE_STREAM_IMAGE, name, src_ns,
                                            reference=reference, policy=policy), prefix + name

    @retry_on_conflict
    def delete_tags(self, namespace: str, dests: list[str], *, actor: str | None = None,
                    reason: str = "") -> Outcome:
        targets = [(t.namespace, t.stream, t.tag) for t in (tagging.parse_dest(d, namespace) for d in dests)]
        with self.command(f"imagetrail tag -d {' '.join(dests)}", actor, reason) as (uow, outcome):
            for ns, stream_name, tag in targets:
                stream = uow.get(ImageStream, ns, stream_name)
                if stream is None:
                    raise NotFound("imagestreamtags.image.openshift.io " + quote(f"{stream_name}:{tag}") + " not found")
                stream.delete_tag(tag)
                outcome.lines.append(f"Deleted tag {ns}/{stream_name}:{tag}.")
        return outcome

    @retry_on_conflict
    def create_istag(self, namespace: str, name: str, *, from_image: str | None = None,
                     from_: str | None = None, scheduled: bool = False, insecure: bool = False,
                     reference: bool = False, reference_policy: str = "source",
                     annotations: dict[str, str] | None = None, actor: str | None = None,
                     reason: str = "") -> Outcome:
        if from_image and from_:
            raise UsageError("--from and --from-image may not be used together")
        policy = tagging.reference_policy(reference_policy, case_sensitive=False)
        if ":" not in name:
            raise UsageError(f"{quote(name)} must be of the form <stream_name>:<tag>")
        try:
            stream_name, tag = parse_istag_name(name, namespace=namespace)
        except ReferenceError as e:
            raise UsageError(str(e)) from None
        if from_image:
            ref = tagging.docker_image_tag(tag, from_image, scheduled=scheduled, insecure=insecure,
                                           reference=reference, policy=policy, generation=None,
                                           annotations=annotations)
        elif from_:
            if scheduled or insecure:
                raise UsageError("only container images can have importing flags set")
            kind, source_name, source_ns = tagging.parse_istag_from(from_)
            ref = tagging.stream_tag_reference(tag, kind, source_name, source_ns, reference=reference,
                                               policy=policy, annotations=annotations)
        else:
            ref = TagReference(name=tag, annotations=annotations, reference_policy=policy)
        with self.command(f"imagetrail create istag {name}", actor, reason) as (uow, outcome):
            stream = uow.get(ImageStream, namespace, stream_name)
            if stream is not None and tag in stream.state.spec_tags:
                raise AlreadyExists(f'imagestreamtags.image.openshift.io {quote(name)} already exists')
            self.set_tag(uow, namespace, stream_name, ref, outcome)
            outcome.lines.append(f"imagestreamtag.image.openshift.io/{name} created")
        return outcome

    @retry_on_conflict
    def import_image(self, namespace: str, target: str, *, from_: str | None = None, confirm: bool = False,
                     scheduled: bool = False, insecure: bool = False, reference_policy: str = "source",
                     import_mode: str = "Legacy", actor: str | None = None, reason: str = "") -> Outcome:
        if "@" in target:
            raise UsageError("to import images by ID, use the 'tag' command")
        stream_name, _, tag = target.partition(":")
        tag = tag or "latest"
        try:
            validate_stream_name(stream_name, namespace=namespace)
            validate_tag_name(tag)
        except ReferenceError as e:
            raise UsageError(str(e)) from None
        policy = tagging.reference_policy(reference_policy, case_sensitive=False)
        mode = tagging.import_mode(import_mode)
        with self.command(f"imagetrail import-image {target}", actor, reason) as (uow, outcome):
            stream = uow.get(ImageStream, namespace, stream_name)
            if stream is None and not confirm:
                raise NotFound(f'no image stream named {quote(stream_name)} exists, pass --confirm to create and import')
            existing = stream.state.spec_tags.get(tag) if stream else None
            if existing is None:
                if stream is not None and not from_:
                    raise UsageError(f'the tag {quote(tag)} does not exist on the image stream - choose an existing '
                                     "tag to import or use the 'tag' command to create a new tag")
                ref = tagging.docker_image_tag(tag, from_ or target, scheduled=scheduled, insecure=insecure,
                                               policy=policy, mode=mode)
                stream = self.set_tag(uow, namespace, stream_name, ref, outcome)
            else:
                final, chain = stream.state.follow_tag_reference(tag)
                spec = stream.state.spec_tags.get(final)
                if spec is None or spec.source is None or spec.kind != DOCKER_IMAGE:
                    kind = spec.kind if spec and spec.source else "nothing"
                    name = spec.source.name if spec and spec.source else ""
                    raise UsageError(f'tag {quote(final)} points to existing {kind} {quote(name)}, it cannot be re-imported')
                if from_ and from_ != spec.source.name:
                    via = f'the tag {quote(tag)} points to the tag {quote(final)} which points to' if final != tag \
                        else f'the tag {quote(tag)} points to'
                    raise UsageError(f'{via} {quote(spec.source.name)} - use the \'tag\' command if you want to '
                                     f'change the source to {quote(from_)}')
                policy_update = {"generation": 0}
                if scheduled:
                    policy_update["import_policy"] = spec.import_policy.model_copy(update={"scheduled": True})
                stream.set_spec_tag(spec.model_copy(update=policy_update))
                self.import_tag(stream, final, outcome)
            outcome.lines.append(f"imagestream.image.openshift.io/{stream_name} imported"
                                 + (" with errors" if outcome.failures else ""))
        return outcome

    @retry_on_conflict
    def set_image_lookup(self, namespace: str, names: list[str], *, enabled: bool = True,
                         actor: str | None = None, reason: str = "") -> Outcome:
        names_ok(*(lambda n=n: validate_stream_name(n, namespace=namespace) for n in names))
        with self.command(f"imagetrail set image-lookup {' '.join(names)}", actor, reason) as (uow, outcome):
            for name in names:
                stream = uow.get(ImageStream, namespace, name)
                if stream is None:
                    raise NotFound(f'imagestreams.image.openshift.io {quote(name)} not found')
                if stream.set_lookup_policy(enabled):
                    outcome.lines.append(f"imagestream.image.openshift.io/{name} image lookup updated")
        return outcome

    # -- deployment commands --------------------------------------------------------------

    def resolve_image_name(self, uow: UnitOfWork, namespace: str, image: str) -> str:
        """Image policy admission (§10.2): a short `stream:tag` becomes the digest pull spec when
        the stream in this namespace has local lookup enabled; otherwise it stays literal."""
        if not image.strip():  # a trigger's placeholder (openshift/origin#14659): left for the trigger
            return image
        try:
            ref = parse_docker_image_reference(image)
        except ReferenceError as e:
            raise UsageError(f"invalid image {quote(image)}: {e}") from None
        if ref.registry or ref.namespace or ref.id:
            return image
        stream = uow.get(ImageStream, namespace, ref.name)
        if stream is None or not stream.state.lookup_local:
            return image
        tag = ref.tag or "latest"
        head = stream.state.head(tag)
        if head is None or not head.image:
            return f"{stream.state.repository}:{tag}" if stream.state.repository else image
        resolved = parse_docker_image_reference(stream.state.resolve(tag))
        return resolved.with_digest(head.image).exact()

    # -- importing cluster state ------------------------------------------------------------------

    @retry_on_conflict
    def import_cluster(self, namespace: str, documents: list[Any], *, source: str, actor: str | None = None,
                       enforce_namespace: bool = False) -> Outcome:
        """Record what a cluster dump shows as bootstrap events: each stream's spec and its whole
        status history in order (original `created` kept); Deployments as apply records them.
        Objects of other kinds are counted and skipped. Importing the same dump again writes nothing;
        a newer dump appends only what changed."""
        reason = f"imported from {source}"
        dump = manifests.for_import(documents, namespace, enforce_namespace=enforce_namespace)
        with self.command(f"imagetrail import -f {source}", actor, reason) as (uow, outcome):
            for m in dump.streams:
                stream = uow.get(ImageStream, m.namespace, m.name)
                if stream is None:
                    stream = uow.add(ImageStream.from_cluster(
                        m.namespace, m.name, repository=m.repository or self.repository_for(m.namespace, m.name),
                        tags=m.tags,
                        lookup_local=m.lookup_local, labels=m.labels, annotations=m.annotations,
                        created=m.created, generation=m.generation))
                else:
                    stream.adopt_lookup_policy(m.lookup_local)
                    for tag in m.tags:
                        stream.adopt_spec_tag(tag, m.generation)
                added = sum(stream.adopt_history(tag, history) for tag, history in sorted(m.history.items()))
                verb = "imported" if stream.pending_events else "unchanged"
                outcome.lines.append(f"imagestream.image.openshift.io/{m.name} {verb} "
                                     f"({len(m.tags)} spec tags, {added} history entries added)")
            for m in dump.deployments:
                outcome.lines.append(self._apply_deployment(uow, m, imported=True))
            skipped = dump.skipped_line()
            if skipped:
                outcome.notices.append(skipped)
        return outcome

    # -- apply ------------------------------------------------------------------------------

    @retry_on_conflict
    def apply(self, namespace: str, documents: list[Any], *, actor: str | None = None,
              reason: str = "", enforce_namespace: bool = False) -> Outcome:
        """`oc apply -f`: create or update ImageStreams and Deployments, all in one atomic save.

        Spec tags given are set (tags not listed are kept); status in the input is ignored,
        as the API server ignores it.
        """
        parsed = manifests.for_apply(documents, namespace, enforce_namespace=enforce_namespace)
        with self.command("imagetrail apply", actor, reason) as (uow, outcome):
            for item in parsed:
                if isinstance(item, manifests.ImageStreamManifest):
                    outcome.lines.append(self._apply_stream(uow, item, outcome))
                else:
                    outcome.lines.append(self._apply_deployment(uow, item))
        return outcome

    def _apply_stream(self, uow: UnitOfWork, m: manifests.ImageStreamManifest, outcome: Outcome) -> str:
        """One create or update of the stream, as the API server does it: the spec change takes ONE
        new generation (1 on create), then the import controller imports every pending tag in ONE
        ImageStreamImport, whose events share the next generation (openshift-semantics §2.1, §2.5)."""
        stream = uow.get(ImageStream, m.namespace, m.name)
        if stream is None:
            stream = uow.add(ImageStream.create(m.namespace, m.name, tags=m.tags, lookup_local=m.lookup_local,
                                                labels=m.labels, annotations=m.annotations,
                                                repository=self.repository_for(m.namespace, m.name)))
            self._process_tags(uow, stream, [t.name for t in m.tags], outcome)
            return f"imagestream.image.openshift.io/{m.name} created"
        version = stream.version
        generation = stream.state.generation + 1
        stream.set_lookup_policy(m.lookup_local, generation=generation)
        changed = [tag.name for tag in m.tags if stream.set_spec_tag(tag, generation=generation)]
        self._process_tags(uow, stream, changed, outcome)
        changed = stream.version != version
        return f"imagestream.image.openshift.io/{m.name} {'configured' if changed else 'unchanged'}"

    def _process_tags(self, uow: UnitOfWork, stream: ImageStream, tags: list[str], outcome: Outcome) -> None:
        """Aliases first, as the API server sets them synchronously (a head that is not there yet is
        copied verbatim when the import brings it, §4); then the import controller's ONE
        ImageStreamImport of the pending DockerImage tags; then copies by digest, which need the
        images those imports bring."""
        import_generation = stream.state.generation + 1
        order = {IMAGE_STREAM_TAG: 0, DOCKER_IMAGE: 1, IMAGE_STREAM_IMAGE: 2}
        for tag in sorted(tags, key=lambda t: order.get(stream.state.spec_tags[t].kind, 0)):
            self.process_tag_source(uow, stream, tag, outcome, import_generation=import_generation)

    def _apply_deployment(self, uow: UnitOfWork, m: manifests.DeploymentManifest, *, imported: bool = False) -> str:
        """Create or update a Deployment from a manifest (`imported`: from a cluster dump).

        A dump is a past picture: a container whose automatic trigger resolves, or whose dumped image
        is the one the last import of a dump recorded, keeps its current image, so re-importing the
        same dump writes nothing even after the trigger (or a user) moved the image since.
        """
        def admitted(containers: list[Container]) -> list[Container]:
            return [c.model_copy(update={"image": self.resolve_image_name(uow, m.namespace, c.image)})
                    for c in containers]

        triggers = m.annotations.get(TRIGGERS_ANNOTATION)
        deployment = uow.get(Deployment, m.namespace, m.name)
        if deployment is None:
            deployment = uow.add(Deployment.create(
                m.namespace, m.name, containers=admitted(m.containers), init_containers=admitted(m.init_containers),
                replicas=m.replicas, labels=m.labels, annotations=m.annotations, paused=m.paused,
                change_cause="imagetrail import" if imported else "imagetrail apply", imported=imported))
            self.reindex_triggers(uow, deployment, [])
            return f"deployment.apps/{m.name} created"
        version = deployment.version
        before = deployment.state.triggers()
        current = deployment.state.template_images
        wanted = {c.name: c.image for c in m.init_containers + m.containers}
        unknown = sorted(set(wanted) - set(current))
        if unknown:
            raise UsageError(f"deployment.apps/{m.name}: adding containers ({', '.join(unknown)}) is not supported; "
                             "delete and re-create the Deployment")
        deployment.set_triggers_annotation(triggers, imported=imported)
        if imported:
            wanted = {c: img for c, img in wanted.items()
                      if img != deployment.state.imported_images.get(c) and not self._trigger_owns(uow, deployment, c)}
        changed = {c: self.resolve_image_name(uow, m.namespace, img) for c, img in wanted.items()
                   if img != current[c]}
        deployment.set_images(changed, Cause(kind="bootstrap" if imported else "apply"))
        deployment.set_paused(m.paused, imported=imported)
        self.reindex_triggers(uow, deployment, before)
        return f"deployment.apps/{m.name} {'configured' if deployment.version != version else 'unchanged'}"

    def _trigger_owns(self, uow: UnitOfWork, deployment: Deployment, container: str) -> bool:
        """An automatic trigger whose tag resolves sets this container's image whatever a dump says."""
        trigger = deployment.state.auto_trigger_for(container)
        if trigger is None or trigger.source.kind != IMAGE_STREAM_TAG or ":" not in trigger.source.name:
            return False
        stream_name, tag = trigger.source.name.split(":", 1)
        stream = uow.get(ImageStream, trigger.source.namespace or deployment.namespace, stream_name)
        return bool(stream and stream.state.resolve(tag))


def _watched(deployment: Deployment, triggers: list[ImageTrigger]) -> set[tuple[str, str]]:
    return {(t.source.namespace or deployment.namespace, t.source.name.split(":", 1)[0])
            for t in triggers if ":" in t.source.name}


def names_ok(*checks: Callable[[], None]) -> None:
    """Run name checks (engine.references), turning their verdict into a user error."""
    for check in checks:
        try:
            check()
        except ReferenceError as e:
            raise UsageError(str(e)) from None


def _describe(agg: Any) -> str:
    if isinstance(agg, ImageStream):
        return f"imagestream {agg.namespace}/{agg.name}"
    if isinstance(agg, Deployment):
        return f"deployment {agg.namespace}/{agg.name}"
    return f"trigger index {agg.state.namespace}/{agg.state.stream}"

