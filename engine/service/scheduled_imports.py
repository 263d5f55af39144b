"""The scheduled import controller (§9): re-import every scheduled tag on an interval.

Like openshift-controller-manager's scheduled image controller: each cycle re-imports
the streams that have `importPolicy.scheduled` tags, at most `per_minute` stream
imports a minute; an unchanged digest writes nothing, a changed one moves the tag and
fires its triggers in the same atomic save, a failure becomes the tag's condition.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol

from imagetrail.engine.domain.errors import ImagetrailError
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.service.tag_processing import TagImport, import_tag
from imagetrail.engine.service.unit_of_work import Reactions, Rollout, command, retry_on_conflict

if TYPE_CHECKING:
    from imagetrail.engine.service.application import ImageTrail

log = logging.getLogger("imagetrail.controller")

# who the audit log says moved a tag on a scheduled re-import, as OpenShift's own import controller
CONTROLLER_ACTOR = "system:serviceaccount:openshift-infra:image-import-controller"

DEFAULT_INTERVAL = 15 * 60.0  # scheduledImageImportMinimumIntervalSeconds
DEFAULT_PER_MINUTE = 60  # maxScheduledImageImportsPerMinute


@dataclass
class ScheduledImportResult(Reactions):
    imported: list[TagImport] = field(default_factory=list)  # the tags whose digest changed upstream


@retry_on_conflict
def reimport_scheduled(app: ImageTrail, namespace: str, name: str, *,
                       actor: str | None = None) -> ScheduledImportResult:
    """One scheduled re-import of a stream's scheduled tags (§9.3): only changed digests are
    written, and they fire the triggers in the same atomic save as any tag move."""
    result = ScheduledImportResult()
    with command(app, f"scheduled import {namespace}/{name}", actor or CONTROLLER_ACTOR, result=result) as (uow, _):
        stream = uow.get(ImageStream, namespace, name)
        for tag in stream.state.scheduled_tags() if stream else []:
            moved = import_tag(app, stream, tag, result, scheduled=True)
            if moved:
                result.imported.append(moved)
    return result


class Importer(Protocol):
    def reimport_scheduled(self, namespace: str, name: str) -> ScheduledImportResult: ...


@dataclass
class CycleReport:
    number: int
    streams: int = 0
    imported: list[TagImport] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    rollouts: list[Rollout] = field(default_factory=list)
    unchanged: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"cycle {self.number} done in {self.seconds:.1f}s: {self.streams} streams, "
                f"{len(self.imported)} tags imported, {self.unchanged} streams unchanged, "
                f"{len(self.failed)} failures, {len(self.rollouts)} rollouts")


class ScheduledImportController:
    def __init__(self, importer: Importer, scheduled_streams: Callable[[], list[tuple[str, str]]], *,
                 interval: float = DEFAULT_INTERVAL, per_minute: int = DEFAULT_PER_MINUTE,
                 stop: threading.Event | None = None, clock: Callable[[], float] = time.monotonic):
        self.importer = importer
        self.scheduled_streams = scheduled_streams
        self.interval = interval
        self.spacing = 60.0 / per_minute  # the rate limit, as an even spacing between imports
        self.stop = stop or threading.Event()
        self.clock = clock
        self._last_import: float | None = None

    def run(self, *, once: bool = False) -> CycleReport | None:
        """Cycle every `interval` until `stop` is set (or once); returns the last cycle's report."""
        number, report = 0, None
        while not self.stop.is_set():
            number += 1
            started = self.clock()
            report = self.cycle(number)
            log.info(report.summary())
            if once or self.stop.is_set():
                break
            wait = max(0.0, started + self.interval - self.clock())
            log.info("next cycle in %s", _duration(wait))
            self.stop.wait(wait)
        return report

    def cycle(self, number: int) -> CycleReport:
        report = CycleReport(number)
        started = self.clock()
        streams = self.scheduled_streams()
        log.info("cycle %d: %d image streams with scheduled tags", number, len(streams))
        for namespace, name in streams:
            if not self._wait_for_rate_limit():
                log.info("stopping: %d of %d streams done in this cycle", report.streams, len(streams))
                break
            report.streams += 1
            self._import(namespace, name, report)
        report.seconds = self.clock() - started
        return report

    def _import(self, namespace: str, name: str, report: CycleReport) -> None:
        try:
            result = self.importer.reimport_scheduled(namespace, name)
        except ImagetrailError as e:
            report.failed.append(f"{namespace}/{name}: {e}")
            log.error("import of %s/%s failed: %s", namespace, name, e)
            return
        except Exception:  # a controller logs and goes on with the next stream, as upstream's do
            report.failed.append(f"{namespace}/{name}: unexpected error")
            log.exception("import of %s/%s failed unexpectedly", namespace, name)
            return
        for moved in result.imported:
            report.imported.append(moved)
            was = f" (was {moved.previous})" if moved.previous is not None else ""
            log.info("imported %s/%s:%s %s%s", moved.namespace, moved.stream, moved.tag, moved.digest, was)
        for failure in result.failures:
            report.failed.append(f"{namespace}/{failure.stream}:{failure.tag}: {failure.message}")
            log.warning("import of %s/%s:%s failed: %s", namespace, failure.stream, failure.tag, failure.message)
        report.rollouts += result.rollouts
        for rollout in result.rollouts:
            log.info("deployment.apps/%s rolled out revision %d", rollout.deployment, rollout.revision)
        for skipped in result.not_applied:
            log.info("deployment.apps/%s: image trigger not applied: %s", skipped.deployment, skipped.error)
        if not result.imported and not result.failures:
            report.unchanged += 1
            log.debug("%s/%s: no scheduled tag moved upstream", namespace, name)

    def _wait_for_rate_limit(self) -> bool:
        """Hold the next import until the spacing since the last one has passed; False when stopped."""
        if self._last_import is not None:
            wait = self._last_import + self.spacing - self.clock()
            if wait > 0 and self.stop.wait(wait):
                return False
        if self.stop.is_set():
            return False
        self._last_import = self.clock()
        return True


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"
