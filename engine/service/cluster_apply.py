"""`rollback --apply`: a rollback run on the real cluster, not only recorded.

First the plan (a dry run), then a check that each stream the plan moves is on the cluster where
imagetrail thinks it is (the tag's current image, and the resourceVersion a watch last recorded):
any difference refuses the whole rollback and changes nothing. Then the commands run, one by one,
stopping at the first failure; each run command and its result is recorded on its stream, with
the cluster user the client acts as. When all succeeded, the rollback is recorded in imagetrail
as `rollback` records it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from imagetrail.engine.domain import cluster_commands
from imagetrail.engine.domain.errors import Conflict, ImagetrailError
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.service.ports import Cluster, HistoryReader
from imagetrail.engine.service.rollback import Rollback, RollbackResult, Target
from imagetrail.engine.service.unit_of_work import command

if TYPE_CHECKING:
    from imagetrail.engine.service.application import ImageTrail

OUTPUT_KEPT = 2000  # characters of a command's output kept on its event


class DriftFound(Conflict):
    """The cluster is not where imagetrail's plan starts from."""


@dataclass(frozen=True)
class Applied:
    command: str
    exit_code: int
    output: str


@dataclass
class AppliedRollback:
    plan: RollbackResult             # the plan that was applied
    cluster_user: str
    applied: list[Applied] = field(default_factory=list)
    recorded: RollbackResult | None = None  # imagetrail's own rollback, once every command succeeded


def apply_rollback(app: ImageTrail, history: HistoryReader, target: Target, cluster: Cluster, *,
                   actor: str | None = None, reason: str = "") -> AppliedRollback:
    rollback = Rollback(app, history)
    planned = rollback.plan(target, actor=actor, reason=reason)
    specs = {}
    for t in planned.plan.tags:
        stream = app.stream(t.namespace, t.stream)
        specs[(t.namespace, t.stream, t.tag)] = stream.state.spec_tags.get(t.tag) if stream else None
    changes = cluster_commands.for_rollback(planned.plan, specs)
    drift = [d for t in planned.plan.tags if t.change == "rollback" for d in _drift(app, cluster, t)]
    if drift:
        raise DriftFound(f"the cluster is not where imagetrail's plan starts, nothing was changed: {'; '.join(drift)} "
                         "(imagetrail diff -f shows all of it; record the cluster's state with watch or import first)")
    result = AppliedRollback(planned, cluster.whoami() if changes else "")
    for change in changes:
        argv = list(change.oc) if cluster.client == "oc" else change.patch_argv()
        code, output = cluster.run(argv)
        result.applied.append(Applied(shlex.join(argv), code, output[-OUTPUT_KEPT:]))
        if code != 0:
            break
    if result.applied:
        with command(app, "imagetrail rollback --apply", actor, reason) as (uow, _):
            for change, applied in zip(changes, result.applied):
                stream = uow.get(ImageStream, change.namespace, change.name)
                if stream:
                    stream.applied_to_cluster(applied.command, applied.exit_code, applied.output, result.cluster_user)
    failed = [a for a in result.applied if a.exit_code != 0]
    if failed:
        done = len(result.applied) - 1
        raise ImagetrailError(f"{failed[0].command} failed on the cluster (exit {failed[0].exit_code}: "
                              f"{failed[0].output.splitlines()[-1] if failed[0].output else 'no output'}); "
                              f"{done} of {len(changes)} commands ran before it, all recorded; imagetrail's "
                              "own tags were not moved")
    result.recorded = rollback.execute(target, actor=actor, reason=reason)
    return result


def _drift(app: ImageTrail, cluster: Cluster, t) -> list[str]:
    found = cluster.get("imagestream", t.namespace, t.stream)
    where = f"imagestream {t.namespace}/{t.stream}"
    if found is None:
        return [f"{where} does not exist on the cluster"]
    heads = {entry.get("tag"): (entry.get("items") or [{}])[0].get("image")
             for entry in (found.get("status") or {}).get("tags") or []}
    problems = []
    if heads.get(t.tag) != t.from_image:
        problems.append(f"{where}: tag {t.tag} is at {heads.get(t.tag) or 'nothing'} on the cluster, "
                        f"imagetrail has {t.from_image or 'nothing'}")
    ours = app.stream(t.namespace, t.stream)
    version = str((found.get("metadata") or {}).get("resourceVersion") or "")
    if ours and ours.state.observed_version and version and version != ours.state.observed_version:
        problems.append(f"{where} is at resourceVersion {version} on the cluster, imagetrail last saw "
                        f"{ours.state.observed_version}")
    return problems

