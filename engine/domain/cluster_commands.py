"""What a rollback plan means on a real cluster: the `oc` commands, or the `kubectl patch` bodies,
that apply it there.

A rollback pins each rolled-back tag to a digest, keeping its policies (docs/semantics.md
§18.1); on a cluster that is `oc tag REPO@sha256:… IS:TAG`. Aliases that follow the tag move by
themselves, and the image trigger controller rolls out the Deployments that follow it: their
fates in the plan are what the cluster will do, so they need no command of their own.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from imagetrail.engine.domain.model import TagReference
from imagetrail.engine.domain.rollback_plan import RollbackPlan

Key = tuple[str, str, str]  # (namespace, stream, tag)


@dataclass(frozen=True)
class ClusterChange:
    """One change to one object on the cluster, as an `oc` command and as a patch."""

    namespace: str
    kind: str                  # the resource kubectl names: imagestream, deployment
    name: str
    oc: tuple[str, ...]        # the oc command, as argv
    patch: dict[str, Any]      # the same change as a strategic merge patch of the object

    def oc_line(self) -> str:
        return shlex.join(self.oc)

    def patch_argv(self) -> list[str]:
        # strategic, not a JSON merge patch: spec.tags merge by name there, a merge patch would
        # replace the whole list (openshift/api image/v1 types: patchMergeKey "name")
        return ["kubectl", "patch", self.kind, self.name, "-n", self.namespace, "--type", "strategic",
                "-p", json.dumps(self.patch, separators=(",", ":"), sort_keys=True)]

    def patch_line(self) -> str:
        return shlex.join(self.patch_argv())


def for_rollback(plan: RollbackPlan | None, specs: Mapping[Key, TagReference | None]) -> list[ClusterChange]:
    """The changes that apply `plan` to a cluster: one per rolled-back tag. `specs` gives each
    tag's spec as imagetrail knows it, for the policies the pin keeps."""
    changes = []
    for t in plan.tags if plan else ():
        if t.change != "rollback":  # an alias that follows: the cluster moves it with its source
            continue
        spec = specs.get((t.namespace, t.stream, t.tag))
        policy = spec.import_policy if spec else None
        reference_policy = spec.reference_policy.type if spec else "Source"
        argv = ["oc", "tag", t.to_pull_spec, f"{t.stream}:{t.tag}", "-n", t.namespace]
        if policy and policy.insecure:
            argv.append("--insecure")
        if reference_policy == "Local":
            argv.append("--reference-policy=local")
        if policy and policy.import_mode != "Legacy":
            argv.append(f"--import-mode={policy.import_mode}")
        tag = {"name": t.tag, "from": {"kind": "DockerImage", "name": t.to_pull_spec},
               "importPolicy": {"scheduled": False, "insecure": bool(policy and policy.insecure),
                                "importMode": policy.import_mode if policy else "Legacy"},
               "referencePolicy": {"type": reference_policy}}
        changes.append(ClusterChange(t.namespace, "imagestream", t.stream, tuple(argv), {"spec": {"tags": [tag]}}))
    return changes
