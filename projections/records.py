"""What the audit reads return: documented models, not the audit index's rows.

`imagetrail history` and `imagetrail log` print these (`-o json` wraps them in a kubectl
`kind: List`); `imagetrail schema TagChange` prints their JSON Schema. The index's tables
(audit.py) may change; these names and shapes are the contract. Field names are camelCase
on the wire, like the rest of imagetrail's JSON.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

_TIME = {"description": "RFC 3339, UTC, microseconds: when the command ran", "json_schema_extra": {"format": "date-time"}}


class Record(BaseModel):
    # defer_build: validators are built at a model's first use, not at import (start-up)
    model_config = ConfigDict(defer_build=True, alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    def document(self) -> dict[str, Any]:
        """The wire form: camelCase keys, JSON values."""
        return self.model_dump(mode="json", by_alias=True)


class Command(Record):
    """Who ran which command, when and why: shared by every event the command wrote."""

    position: int = Field(description="The event's position in the log (what --at and --to-position take)")
    timestamp: str = Field(**_TIME)
    actor: str
    command: str | None = Field(description="The command line, as typed")
    correlation_id: str = Field(description="Shared by every event of one command")
    reason: str | None = Field(description="The --reason given, if any")


class TagImage(Record):
    """A tag's history head: the image and the pull spec it was recorded with."""

    image: str | None = Field(description="The image digest (sha256:…)")
    docker_image_reference: str | None = Field(description="The pull spec")


class TagChange(Command):
    """One move of a tag's head, or the tag's deletion (`imagetrail history IS:TAG`)."""

    revision: int = Field(description="The tag's changes numbered from 1, oldest first (rollback --to-revision)")
    namespace: str
    image_stream: str
    tag: str
    change: str = Field(description="import, scheduled-import, reference, copy, alias-set, alias-followed, "
                                    "bootstrap, rollback or delete")
    source: str = Field(description="Where the image came from (a pull spec, IS:TAG, position N), or empty")
    from_: TagImage | None = Field(alias="from", description="The head before; null for the tag's first image")
    to: TagImage | None = Field(description="The head after; null when the tag was deleted")
    deployments: list[str] = Field(description="Deployments whose containers an image trigger set to this change")


class TagEventReference(Record):
    """The tag change an image trigger followed, with the command that made it."""

    position: int
    change: str
    actor: str
    command: str | None
    correlation_id: str


class ImageChangeCause(Record):
    kind: str = Field(description="manual, trigger, apply, rollback or bootstrap")
    image_stream: str | None = Field(description="namespace/name of the image stream a trigger followed")
    tag: str | None = Field(description="The tag a trigger followed")
    tag_change: TagEventReference | None = Field(description="The tag change a trigger followed, when known")


class ImageChange(Command):
    """One container image change of a Deployment, with its cause (`imagetrail history deployment/NAME`)."""

    namespace: str
    deployment: str
    container: str
    previous_image: str | None = Field(description="The container's image before; null for a new Deployment")
    image: str
    cause: ImageChangeCause


class LogEntry(Command):
    """One event of the log (`imagetrail log`)."""

    namespace: str
    kind: str = Field(description="What happened, as --kind filters it (tag.import, deployment.rolled-out, …)")
    object: str = Field(description="is/NAME or deployment/NAME")
    tag: str | None = Field(description="The tag the event is about, if any")
    summary: str = Field(description="One human line")


# `imagetrail schema NAME` prints these, beside the event types
MODELS: dict[str, type[Record]] = {m.__name__: m for m in (TagChange, ImageChange, LogEntry)}


def _command(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("position", "timestamp", "actor", "command", "correlation_id", "reason")}


def tag_change(row: dict[str, Any]) -> TagChange:
    """From a row of audit.tag_history."""
    def image(side: str) -> TagImage | None:
        return TagImage(image=row[f"{side}_image"], docker_image_reference=row[f"{side}_pull_spec"]) \
            if row[f"{side}_image"] is not None or row[f"{side}_pull_spec"] is not None else None
    return TagChange(**_command(row), revision=row["revision"], namespace=row["namespace"], image_stream=row["stream"],
                     tag=row["tag"], change=row["change"], source=row["source"] or "", from_=image("old"),
                     to=image("new"), deployments=row["deployments"])


def image_change(row: dict[str, Any]) -> ImageChange:
    """From a row of audit.deployment_history."""
    found = row["tag_event"]
    cause = ImageChangeCause(
        kind=row["cause"], image_stream=row["cause_stream"], tag=row["cause_tag"],
        tag_change=TagEventReference(**{k: found[k] for k in ("position", "change", "actor", "command",
                                                              "correlation_id")}) if found else None)
    return ImageChange(**_command(row), namespace=row["namespace"], deployment=row["deployment"],
                       container=row["container"], previous_image=row["old_image"], image=row["new_image"],
                       cause=cause)


def log_entry(row: dict[str, Any]) -> LogEntry:
    """From a row of audit.log."""
    return LogEntry(**_command(row), namespace=row["namespace"], kind=row["kind"], object=row["object"],
                    tag=row["tag"], summary=row["summary"])
