"""Kubernetes API audit events (`audit.k8s.io/v1` `Event`, one JSON object a line, as
kube-apiserver and openshift-apiserver write them): which of them say who changed an image
stream or a Deployment, and what they say. Parsing only; recording is the service's
(engine/service/cluster_audit.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# (API group, resource) → the object imagetrail keeps for it
RESOURCES = {
    ("image.openshift.io", "imagestreams"): "imagestream",
    ("image.openshift.io", "imagestreamtags"): "imagestream",
    ("image.openshift.io", "imagestreamimports"): "imagestream",
    ("image.openshift.io", "imagestreammappings"): "imagestream",
    ("apps", "deployments"): "deployment",
}
VERBS = ("create", "update", "patch", "delete")
# what a user typed, recognised from the request (cluster-formats.md §3)
INTENT = {
    ("imagestreamtags", "update"): "oc tag", ("imagestreamtags", "create"): "oc tag",
    ("imagestreamtags", "delete"): "oc tag -d", ("imagestreamimports", "create"): "oc import-image",
}


@dataclass(frozen=True)
class AuditRecord:
    audit_id: str
    time: str                  # stageTimestamp: when the API server answered
    level: str                 # Metadata, Request or RequestResponse
    verb: str
    resource: str              # as the request named it: imagestreamtags, deployments, …
    kind: str                  # the object imagetrail keeps: imagestream or deployment
    namespace: str
    name: str                  # the stream's or the Deployment's name (an istag's stream)
    user: str
    impersonated: str          # the impersonated user, "" when none
    response: dict[str, Any] | None  # responseObject (RequestResponse level)

    @property
    def resource_version(self) -> str:
        """The object's resourceVersion after the change, when the response says it (an image
        stream tag's is its stream's; an import's stream is in status.import)."""
        obj = self.response or {}
        if self.resource == "imagestreamimports":
            obj = (obj.get("status") or {}).get("import") or {}
        return str((obj.get("metadata") or {}).get("resourceVersion") or "")

    @property
    def intent(self) -> str:
        return INTENT.get((self.resource, self.verb), f"{self.verb} {self.resource}")

    @property
    def actor(self) -> str:
        return f"{self.user} as {self.impersonated}" if self.impersonated else self.user


def parse(document: Any) -> AuditRecord | None:
    """The record, when it is a completed, successful write of a kept resource; else None."""
    if not isinstance(document, dict) or document.get("kind") != "Event" or document.get("stage") != "ResponseComplete":
        return None
    ref = document.get("objectRef") or {}
    status = document.get("responseStatus") or {}
    code = status.get("code")
    kind = RESOURCES.get((ref.get("apiGroup") or "", ref.get("resource") or ""))
    if kind is None or document.get("verb") not in VERBS or not isinstance(code, int) or not 200 <= code < 300:
        return None
    if ref.get("subresource") and ref.get("subresource") != "status":
        return None  # scale, log, …: not what imagetrail records
    name = str(ref.get("name") or "")
    response = document.get("responseObject") if isinstance(document.get("responseObject"), dict) else None
    if not name and response:
        name = str((response.get("metadata") or {}).get("name") or "")
    if ref.get("resource") == "imagestreamtags":
        name = name.split(":", 1)[0]
    user = document.get("user") or {}
    impersonated = document.get("impersonatedUser") or {}
    if not name or not ref.get("namespace") or not user.get("username"):
        return None
    return AuditRecord(
        audit_id=str(document.get("auditID") or ""), time=str(document.get("stageTimestamp") or ""),
        level=str(document.get("level") or ""), verb=document["verb"], resource=ref["resource"], kind=kind,
        namespace=ref["namespace"], name=name, user=user["username"],
        impersonated=str(impersonated.get("username") or ""), response=response)
