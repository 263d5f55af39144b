"""Who changed the cluster: API audit records read into imagetrail (`imagetrail import --audit-log`).

Records are taken in the order of their `stageTimestamp` (a log read line by line may hold them
out of order). For each object, a record at or before the last one read for it is skipped, so
reading the same log again writes nothing.

- RequestResponse level, with the object in the response: when imagetrail has not seen that
  resourceVersion yet (no watch, or a watch that has not got there), the object is recorded as
  observed, with the audit's user as its actor; the watch's own copy of that change then adds
  nothing.
- Every level: an `Attributed` event on the object names the user (and the user impersonated),
  the verb, the resource, the audit id and the time, and, when the record gives it, the
  resourceVersion; the read side puts that actor on the observed change of that version, whichever
  of the two arrived first (projections/audit.py). At Metadata and Request level the record names
  no version: it is kept as an attribution of the object at that time, and the request body is
  not applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from imagetrail.engine.domain import api_audit
from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.watch_events import WatchEvent, newer_version
from imagetrail.engine.service.observe import observe
from imagetrail.engine.service.unit_of_work import command, retry_on_conflict

if TYPE_CHECKING:
    from imagetrail.engine.service.application import ImageTrail


@dataclass
class AuditImport:
    read: int = 0                 # records in the input
    relevant: int = 0             # completed, successful writes of image streams and Deployments
    attributed: int = 0           # attributions recorded
    recorded: int = 0             # objects recorded from a response (not seen before at that version)
    already: int = 0              # read before (re-reading the log)
    unknown: list[str] = field(default_factory=list)  # objects imagetrail does not have, with no body to record


def import_audit_log(app: ImageTrail, documents: list[Any], *, source: str) -> AuditImport:
    result = AuditImport(read=len(documents))
    records = [r for r in (api_audit.parse(d) for d in documents) if r is not None]
    result.relevant = len(records)
    for record in sorted(records, key=lambda r: (r.time, r.audit_id)):
        _one(app, record, source, result)
    return result


@retry_on_conflict
def _one(app: ImageTrail, record: api_audit.AuditRecord, source: str, result: AuditImport) -> None:
    cls = ImageStream if record.kind == "imagestream" else Deployment
    version = record.resource_version
    response = record.response if record.resource in ("imagestreams", "deployments") else None
    if record.resource == "imagestreamimports" and record.response:
        response = (record.response.get("status") or {}).get("import")
    known = app.stream(record.namespace, record.name) if cls is ImageStream else \
        app.deployment(record.namespace, record.name)
    if known is not None and record.time <= known.state.attributed_until:
        result.already += 1
        return
    if response and record.verb != "delete" and (known is None or _newer(version, known.state.observed_version)):
        response = {**response, "kind": "ImageStream" if cls is ImageStream else "Deployment"}
        observe(app, record.namespace, WatchEvent("AUDITED", response), source=source, actor=record.actor,
                reason=f"{record.intent} by {record.actor} (audit {record.audit_id})",
                description=f"imagetrail import --audit-log {source}")
        result.recorded += 1
        known = known or (app.stream(record.namespace, record.name) if cls is ImageStream else
                          app.deployment(record.namespace, record.name))
    if known is None:
        result.unknown.append(f"{record.kind}/{record.namespace}/{record.name}")
        return
    with command(app, f"imagetrail import --audit-log {source}", record.actor,
                 f"API audit {record.audit_id}: {record.verb} {record.resource}") as (uow, _):
        target = uow.get(cls, record.namespace, record.name)
        if target is None:
            result.unknown.append(f"{record.kind}/{record.namespace}/{record.name}")
            return
        target.trigger_event(cls.Attributed, resource_version=version, user=record.actor, verb=record.verb,
                             resource=record.resource, intent=record.intent, audit_id=record.audit_id, at=record.time)
    result.attributed += 1


def _newer(version: str, last: str) -> bool:
    newer = newer_version(version, last)
    return bool(version) and version != last if newer is None else newer
