"""The rollback plan as data: which tags move, and what each Deployment that runs or follows
them does, and why.

Derived from the domain, never from text: the tag moves are the very `TagMoved` events the
rollback will save; a Deployment's fate comes from its triggers annotation, its pause state
and the `ImagesChanged`/`RolledOut` events the controllers added to it. The dry run and the
real run compute it from the same unit of work before saving, so they print the same plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from imagetrail.engine.domain.deployment import Deployment, DeploymentState, trigger_target
from imagetrail.engine.domain.errors import ImagetrailError, Invalid
from imagetrail.engine.domain.imagestream import ImageStream, ImageStreamState
from imagetrail.engine.domain.model import IMAGE_STREAM_TAG
from imagetrail.engine.domain.references import ReferenceError, parse_docker_image_reference
from imagetrail.engine.domain.trigger_annotation import ImageTrigger

Fate = Literal["rolls-out", "template-only", "not-followed", "no-trigger", "unchanged"]
Reason = Literal[
    "TriggerFollows",          # rolls-out: an automatic trigger follows the tag (maybe through aliases)
    "DeploymentPaused",        # template-only: the template changes; it rolls out on resume
    "SameAsLiveRevision",      # template-only: the template goes back to the revision that runs
    "TriggerManual",           # not-followed: the trigger is paused ("paused": true, oc set triggers --manual)
    "TriggerInvalid",          # not-followed: the controller cannot apply the Deployment's triggers
    "TriggerFollowsOtherTag",  # not-followed: it runs the tag's image, but its trigger follows a tag that stays
    "NoTrigger",               # no-trigger: it runs the tag's image and nothing moves it
    "AlreadyRunsImage",        # unchanged: its trigger follows the tag and it runs the image already
]
Key = tuple[str, str, str]  # (namespace, stream, tag)


@dataclass(frozen=True)
class TagChange:
    """One tag move the rollback saves: the rolled-back tag itself, or an alias that follows it."""

    namespace: str
    stream: str
    tag: str
    change: str                # the TagMoved change: rollback, followed, reference, copy, import …
    source: str                # what it came from: "position N", or the tag an alias follows
    from_pull_spec: str | None
    to_pull_spec: str
    from_image: str | None
    to_image: str


@dataclass(frozen=True)
class ScheduledImportOff:
    """A tag whose scheduled import the rollback switches off (its spec is pinned to a digest)."""

    namespace: str
    stream: str
    tag: str
    source: str                # what it imported, for re-enabling it


@dataclass(frozen=True)
class TriggerRef:
    """The image trigger of one container, as the annotation says."""

    istag: str                 # the image stream tag it follows, "stream:tag"
    namespace: str
    mode: Literal["auto", "manual"]
    # the alias chain from `istag` to the rolled-back tag, both ends included (just `istag` when it is
    # that tag); empty when the trigger does not lead to a rolled-back tag
    via: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeploymentFate:
    namespace: str
    deployment: str
    container: str
    tag: str                   # the rolled-back tag ("stream:tag") this fate is about
    fate: Fate
    reason: Reason
    trigger: TriggerRef | None
    image_before: str          # the container's image before the rollback
    image_after: str           # and after it
    revision: int | None = None  # the revision it rolls out (rolls-out)
    message: str = ""          # the controller's error (TriggerInvalid)


@dataclass(frozen=True)
class RollbackPlan:
    tags: tuple[TagChange, ...] = ()
    scheduled_imports_off: tuple[ScheduledImportOff, ...] = ()
    deployments: tuple[DeploymentFate, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.tags or self.scheduled_imports_off or self.deployments)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PlanScope:
    """What a plan is about: the tags the command rolls back, and the Deployments the read side
    lists in their namespaces (checked on the aggregates: a bystander runs a rolled-back image
    without following it)."""

    targets: list[Key] = field(default_factory=list)
    bystanders: list[tuple[str, str]] = field(default_factory=list)  # (namespace, name)


def plan(targets: Iterable[Key],
         streams: Iterable[ImageStream], streams_before: Mapping[tuple[str, str], ImageStreamState],
         deployments: Iterable[Deployment],
         deployments_before: Mapping[tuple[str, str], DeploymentState]) -> RollbackPlan:
    """The plan of a unit of work, after the controllers reacted and before it is saved.

    `streams` and `deployments` are the aggregates with their pending events; the `*_before`
    maps give their committed states (absent when the command creates them).
    """
    streams = {(s.namespace, s.name): s for s in streams}
    tags, schedules = [], []
    for key, stream in streams.items():
        before = streams_before.get(key)
        for event in stream.pending_events:
            if isinstance(event, ImageStream.TagMoved):
                old = before.head(event.tag) if before else None
                tags.append(TagChange(stream.namespace, stream.name, event.tag, event.change, event.source,
                                      old.docker_image_reference if old else None, event.item.docker_image_reference,
                                      old.image if old else None, event.item.image))
            elif isinstance(event, ImageStream.SpecTagSet) and before:
                was = before.spec_tags.get(event.tag.name)
                if was and was.import_policy.scheduled and not event.tag.import_policy.scheduled:
                    schedules.append(ScheduledImportOff(stream.namespace, stream.name, event.tag.name, was.source.name))
    followers = _followers(targets, streams)
    fates = []
    for deployment in sorted({(d.namespace, d.name): d for d in deployments}.values(),
                             key=lambda d: (d.namespace, d.name)):
        fates += _fates(deployment, deployments_before.get((deployment.namespace, deployment.name)),
                        followers, streams_before)
    return RollbackPlan(tuple(tags), tuple(schedules), tuple(fates))


def _followers(targets: Iterable[Key], streams: Mapping[tuple[str, str], ImageStream]) -> dict[Key, tuple[str, ...]]:
    """Every tag that resolves to a rolled-back tag, itself or through same-stream aliases (in the
    state after the rollback), with its alias chain down to that tag."""
    chains: dict[Key, tuple[str, ...]] = {}
    for ns, name, target in targets:
        stream = streams.get((ns, name))
        if stream is None:
            continue
        state = stream.state
        for tag in sorted({*state.spec_tags, *state.status_tags}):
            try:
                _, chain = state.follow_tag_reference(tag)
            except ImagetrailError:  # a cycle or a cross-stream link: it resolves to nothing here
                continue
            if target in chain:
                chains.setdefault((ns, name, tag), tuple(f"{name}:{t}" for t in chain[:chain.index(target) + 1]))
    return chains


def _fates(deployment: Deployment, before: DeploymentState | None, followers: Mapping[Key, tuple[str, ...]],
           streams_before: Mapping[tuple[str, str], ImageStreamState]) -> list[DeploymentFate]:
    state = deployment.state
    changed = {c.container: c for e in deployment.pending_events if isinstance(e, Deployment.ImagesChanged)
               for c in e.changes}
    rolled = [e.revision for e in deployment.pending_events if isinstance(e, Deployment.RolledOut)]
    broken = _trigger_error(state)
    triggers: dict[str, ImageTrigger] = {}
    fates = []
    for trigger in state.triggers():
        try:
            target = trigger_target(state, trigger)
        except Invalid as e:  # it names no container of ours: the controller leaves the Deployment alone
            key = _followed_key(deployment, trigger)
            if key in followers:
                ref = TriggerRef(trigger.source.name, key[0], "manual" if trigger.paused else "auto", followers[key])
                fates.append(DeploymentFate(state.namespace, state.name, "", followers[key][-1], "not-followed",
                                            "TriggerManual" if trigger.paused else "TriggerInvalid", ref, "", "",
                                            message=str(e)))
            continue
        if target is not None:
            triggers[target.name] = trigger  # a later entry wins, as in the controller
    for container in state.init_containers + state.containers:
        now = container.image
        was = before.container(container.name).image if before and before.container(container.name) else now
        trigger = triggers.get(container.name)
        key = _followed_key(deployment, trigger)
        if key in followers:
            via = followers[key]
            ref = TriggerRef(trigger.source.name, key[0], "manual" if trigger.paused else "auto", via)
            fate = DeploymentFate(state.namespace, state.name, container.name, via[-1], "unchanged",
                                  "AlreadyRunsImage", ref, was, now)
            if trigger.paused:
                fate = _with(fate, "not-followed", "TriggerManual")
            elif container.name in changed and rolled:
                fate = _with(fate, "rolls-out", "TriggerFollows", revision=rolled[-1])
            elif container.name in changed:
                fate = _with(fate, "template-only", "DeploymentPaused" if state.paused else "SameAsLiveRevision")
            elif broken:
                fate = _with(fate, "not-followed", "TriggerInvalid", message=broken)
            fates.append(fate)
            continue
        runs = _runs_tag_image(now, followers, streams_before)
        if runs is None:
            continue
        if trigger is None:
            fates.append(DeploymentFate(state.namespace, state.name, container.name, runs, "no-trigger",
                                        "NoTrigger", None, was, now))
        else:
            ref = TriggerRef(trigger.source.name, trigger.source.namespace or state.namespace,
                             "manual" if trigger.paused else "auto")
            fates.append(DeploymentFate(state.namespace, state.name, container.name, runs, "not-followed",
                                        "TriggerFollowsOtherTag", ref, was, now))
    return fates


def _with(fate: DeploymentFate, what: Fate, reason: Reason, **more: Any) -> DeploymentFate:
    return replace(fate, fate=what, reason=reason, **more)


def _followed_key(deployment: Deployment, trigger: ImageTrigger | None) -> Key | None:
    if trigger is None or trigger.source.kind != IMAGE_STREAM_TAG or ":" not in trigger.source.name:
        return None
    stream, tag = trigger.source.name.split(":", 1)
    return trigger.source.namespace or deployment.namespace, stream, tag


def _trigger_error(state: DeploymentState) -> str:
    """Why the trigger controller would leave this Deployment alone (a bad fieldPath or container)."""
    for trigger in state.triggers():
        if not trigger.paused:
            try:
                trigger_target(state, trigger)
            except Invalid as e:
                return str(e)
    return ""


def _runs_tag_image(image: str, followers: Mapping[Key, tuple[str, ...]],
                    streams_before: Mapping[tuple[str, str], ImageStreamState]) -> str | None:
    """The rolled-back tag whose image (before the rollback) a container runs, by pull spec or digest."""
    try:
        digest = parse_docker_image_reference(image).id
    except ReferenceError:
        digest = ""
    for (ns, name, tag), via in followers.items():
        before = streams_before.get((ns, name))
        head = before.head(tag) if before else None
        if head and (image in (head.docker_image_reference, before.resolve(tag)) or (digest and digest == head.image)):
            return via[-1]
    return None
