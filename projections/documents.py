"""Read-model states → API-shaped objects, as `oc get -o json` prints them.

ImageStream and ImageStreamTag (image.openshift.io/v1) and Deployment (apps/v1), so that
jq and kubectl-style JSONPath written for real clusters work unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from imagetrail.engine.domain.deployment import DeploymentState
from imagetrail.engine.domain.imagestream import ImageStreamState
from imagetrail.engine.domain.model import TagEvent, TagHistory, TagReference
from imagetrail.engine.domain.parsing import timestamp

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"


def rfc3339(ts: datetime) -> str:
    return timestamp(ts, seconds=True)  # metav1.Time: to the second


def _item(item: TagEvent) -> dict[str, Any]:
    return {"created": rfc3339(item.created), "dockerImageReference": item.docker_image_reference,
            "image": item.image, "generation": item.generation}


def _conditions(history: TagHistory) -> list[dict[str, Any]]:
    return [{"type": c.type, "status": c.status, "lastTransitionTime": rfc3339(c.last_transition_time),
             "reason": c.reason, "message": c.message, "generation": c.generation}
            for c in history.conditions]


def spec_tag(tag: TagReference) -> dict[str, Any]:
    """A spec tag as the API serialises it: Go's omitempty drops empty namespace and false flags."""
    doc = tag.model_dump(by_alias=True)
    if doc["from"] is not None and not doc["from"]["namespace"]:
        del doc["from"]["namespace"]
    if doc["from"] is None:
        del doc["from"]
    if not doc["reference"]:
        del doc["reference"]
    for flag in ("insecure", "scheduled"):
        if not doc["importPolicy"][flag]:
            del doc["importPolicy"][flag]
    return doc


def imagestream(state: ImageStreamState) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": state.name, "namespace": state.namespace, "generation": state.generation,
        "creationTimestamp": rfc3339(state.created),
    }
    if state.labels:
        metadata["labels"] = dict(sorted(state.labels.items()))
    if state.annotations:
        metadata["annotations"] = dict(sorted(state.annotations.items()))
    spec_tags = []
    for name in sorted(state.spec_tags):  # the API sorts tags by name (§1.5)
        spec_tags.append(spec_tag(state.spec_tags[name]))
    status_tags = []
    for name in sorted(state.status_tags):
        history = state.status_tags[name]
        if not history.items and not history.conditions:
            continue
        entry: dict[str, Any] = {"tag": name, "items": [_item(i) for i in history.items]}
        if history.conditions:
            entry["conditions"] = _conditions(history)
        status_tags.append(entry)
    status: dict[str, Any] = {"dockerImageRepository": state.repository}
    if status_tags:
        status["tags"] = status_tags
    return {
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": metadata,
        "spec": {"lookupPolicy": {"local": state.lookup_local}, "tags": spec_tags},
        "status": status,
    }


def imagestreamtag(state: ImageStreamState, tag: str) -> dict[str, Any] | None:
    """None when the istag does not exist: no history head with an image (§1.7)."""
    head = state.head(tag)
    if head is None or not head.image:
        return None
    spec = state.spec_tags.get(tag)
    history = state.status_tags[tag]
    doc: dict[str, Any] = {
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStreamTag",
        "metadata": {"name": f"{state.name}:{tag}", "namespace": state.namespace,
                     "creationTimestamp": rfc3339(head.created)},
        "tag": spec_tag(spec) if spec else None,
        "generation": head.generation,
        "lookupPolicy": {"local": state.lookup_local},
        "image": {"metadata": {"name": head.image}, "dockerImageReference": state.resolve(tag)},
    }
    if history.conditions:
        doc["conditions"] = _conditions(history)
    return doc


def deployment(state: DeploymentState) -> dict[str, Any]:
    annotations = dict(state.annotations)
    if state.revision:
        annotations[REVISION_ANNOTATION] = str(state.revision)
    labels = state.labels or {"app": state.name}
    spec: dict[str, Any] = {
        "replicas": state.replicas,
        "selector": {"matchLabels": dict(labels)},
        "template": {
            "metadata": {"labels": dict(labels)},
            "spec": {"containers": [{"name": c.name, "image": c.image} for c in state.containers]},
        },
    }
    if state.init_containers:
        spec["template"]["spec"]["initContainers"] = [
            {"name": c.name, "image": c.image} for c in state.init_containers]
    if state.paused:
        spec["paused"] = True
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": state.name, "namespace": state.namespace,
                     "creationTimestamp": rfc3339(state.created), "labels": dict(labels),
                     "annotations": dict(sorted(annotations.items()))},
        "spec": spec,
        "status": {"replicas": state.replicas, "updatedReplicas": state.replicas,
                   "readyReplicas": state.replicas, "availableReplicas": state.replicas},
    }
