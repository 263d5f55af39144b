"""A cluster's watch stream, as `oc get is,deploy -A --watch --output-watch-events -o json` prints
it: `{"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": {…}}`, or the bare objects
without `--output-watch-events`. What one line means, nothing more: recording it is the
service's (engine/service/observe.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagetrail.engine.domain.errors import UsageError

TYPES = ("ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR")
SEEN = "SEEN"  # a bare object: added or modified, the stream does not say which
RESOURCES = {"ImageStream": "imagestreams", "Deployment": "deployments"}


@dataclass(frozen=True)
class WatchEvent:
    type: str                  # one of TYPES, or SEEN
    object: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.object.get("kind") or "")

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.object.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def resource_version(self) -> str:
        return str(self.metadata.get("resourceVersion") or "")

    def observed(self, namespace: str) -> str:
        """`<resource>/<namespace>/<name>@<resourceVersion>`: the change's identity, as an API audit
        record of it names the same object and version."""
        resource = RESOURCES.get(self.kind, self.kind.lower())
        return f"{resource}/{self.metadata.get('namespace') or namespace}/{self.metadata.get('name')}@" \
               f"{self.resource_version}"

    def field_manager(self) -> str | None:
        """The tool that last wrote the object (`metadata.managedFields`, latest by time): not a person."""
        managed = [m for m in self.metadata.get("managedFields") or [] if isinstance(m, dict) and m.get("manager")]
        if not managed:
            return None
        return str(max(managed, key=lambda m: str(m.get("time") or ""))["manager"])

    def error(self) -> str:
        """An ERROR event's Status, as one line: what the caller must do (410: list again)."""
        status = self.object
        code, reason, message = status.get("code"), status.get("reason"), status.get("message")
        advice = "; the resourceVersion is too old: list again and restart the watch" if code == 410 else ""
        return f"the watch ended with an error: {code or '?'} {reason or ''}: {message or ''}{advice}".replace("  ", " ")


def parse(document: Any, where: str) -> WatchEvent:
    if isinstance(document, dict) and "object" in document and "type" in document:
        if document["type"] not in TYPES or not isinstance(document["object"], dict):
            raise UsageError(f"{where}: not a watch event: type must be one of {', '.join(TYPES)} with an object")
        return WatchEvent(document["type"], document["object"])
    if isinstance(document, dict) and "kind" in document:
        return WatchEvent(SEEN, document)
    raise UsageError(f"{where}: neither a watch event ({{\"type\": …, \"object\": …}}) nor an object with a kind")


def newer_version(version: str, last: str) -> bool | None:
    """Whether resourceVersion `version` comes after `last`: Kubernetes calls them opaque, yet they
    are etcd revisions, and kubectl's re-lists repeat them. None when they are not both numbers."""
    if version.isdigit() and last.isdigit():
        return int(version) > int(last)
    return None
