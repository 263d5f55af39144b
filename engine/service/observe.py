"""Following a cluster: each change a watch stream shows, recorded as the cluster made it
(`imagetrail watch -f`). The same events `import -f` writes, marked as observed (the object
and its resourceVersion), with imagetrail's controllers kept out: the cluster's controllers
reacted already, and what they did arrives as changes of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from imagetrail.engine.domain import manifests
from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.watch_events import WatchEvent, newer_version
from imagetrail.engine.service.bootstrap import adopt_deployment, adopt_stream
from imagetrail.engine.service.tag_processing import unindex_triggers
from imagetrail.engine.service.unit_of_work import command, retry_on_conflict

if TYPE_CHECKING:
    from imagetrail.engine.service.application import ImageTrail

UNKNOWN_ACTOR = "unknown (observed on the cluster)"


@dataclass(frozen=True)
class Observed:
    type: str                  # the watch event's type (SEEN for a bare object)
    kind: str
    namespace: str
    name: str
    resource_version: str
    action: Literal["recorded", "unchanged", "skipped"]  # skipped: a kind, or a deletion, imagetrail never knew
    actor: str                 # a field manager (the tool that wrote it), or unknown until an audit log says


@retry_on_conflict
def observe(app: ImageTrail, namespace: str, event: WatchEvent, *, source: str, actor: str | None = None,
            reason: str | None = None, description: str | None = None) -> Observed:
    """Record one ADDED, MODIFIED (or bare) object, or a DELETED one; other kinds are skipped. A
    re-sent object (a restarted watch lists everything again), or one older than what was
    recorded, writes nothing. An object deleted and created again keeps its history."""
    dump = manifests.for_import([event.object], namespace, enforce_namespace=False)
    manager = event.field_manager()
    actor = actor or (f"{manager} (field manager)" if manager else UNKNOWN_ACTOR)
    metadata = event.metadata
    ns, name = metadata.get("namespace") or namespace, str(metadata.get("name") or "")
    if not dump.streams and not dump.deployments:
        return Observed(event.type, event.kind, ns, name, event.resource_version, "skipped", actor)
    reason = reason or f"observed on the cluster: {event.type} at resourceVersion {event.resource_version or '?'}"
    description = description or f"imagetrail watch -f {source}"
    with command(app, description, actor, reason, observed=event.observed(namespace)) as (uow, _):
        kind = ImageStream if dump.streams else Deployment
        known = uow.get(kind, ns, name)
        if event.type == "DELETED":
            gone = known is None and kind.id_for(ns, name) in uow.deleted  # deleted already
            if known is None or not _newer(event.resource_version, known.state.observed_version):
                return Observed(event.type, event.kind, ns, name, event.resource_version,
                                "unchanged" if gone or known else "skipped", actor)
            if isinstance(known, Deployment):
                unindex_triggers(uow, known)
            uow.delete(known)
            return Observed(event.type, event.kind, ns, name, event.resource_version, "recorded", actor)
        if known is None and kind.id_for(ns, name) in uow.deleted and \
                not _newer(event.resource_version, uow.deleted[kind.id_for(ns, name)].state.observed_version):
            return Observed(event.type, event.kind, ns, name, event.resource_version, "unchanged", actor)
        if known and not _newer(event.resource_version, known.state.observed_version):
            # re-fed, or older than what was recorded: a stream replayed from its start writes nothing
            return Observed(event.type, event.kind, ns, name, event.resource_version, "unchanged", actor)
        changes = [adopt_stream(app, uow, m) for m in dump.streams]
        changes += [adopt_deployment(app, uow, m, description) for m in dump.deployments]
    action = "unchanged" if all(c.action == "unchanged" for c in changes) else "recorded"
    return Observed(event.type, event.kind, ns, name, event.resource_version, action, actor)



def _newer(version: str, last: str) -> bool:
    """Not comparable as numbers: the content decides (an unchanged object writes nothing)."""
    return newer_version(version, last) is not False
