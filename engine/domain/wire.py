"""The API's JSON shapes as strict pydantic models: the wire form of ImageStream and Deployment.

Strict mode, so `replicas: "3"`, `paused: "false"` or `labels: [1]` are refused as the API
server's decoder refuses them, never coerced; every error becomes ONE line naming the field
path (`one_line`). engine/domain/manifests.py turns these into domain values.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.functional_validators import PlainValidator
from pydantic_core import PydanticCustomError



_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


# -- strict field types, each with the message the user sees --------------------------------------

def _fail(message: str) -> None:
    raise PydanticCustomError("kube", message)


def _non_negative_int(value: Any) -> int:
    if type(value) is not int or value < 0:  # bool is an int to Python, not to JSON
        _fail("must be a non-negative integer")
    return value


def _timestamp(value: Any) -> str:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        _fail("must be an RFC 3339 time such as 2026-01-05T10:00:00Z")
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        _fail("must be an RFC 3339 time such as 2026-01-05T10:00:00Z")
    return value


NonNegativeInt = Annotated[int, PlainValidator(_non_negative_int)]
Timestamp = Annotated[str, PlainValidator(_timestamp)]
StringMap = dict[str, str]


class Wire(BaseModel):
    """The API's JSON shape: strict types, camelCase names, unknown fields ignored (pruned)."""

    # defer_build: validators are built at a model's first use, not at import (start-up)
    model_config = ConfigDict(defer_build=True, strict=True, extra="ignore", alias_generator=to_camel, populate_by_name=False)


class ObjectMeta(Wire):
    name: str | None = None
    namespace: str | None = None
    labels: StringMap | None = None
    annotations: StringMap | None = None
    creation_timestamp: Timestamp | None = None
    generation: NonNegativeInt | None = None


class WireObjectReference(Wire):
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None


class WireImportPolicy(Wire):
    insecure: bool | None = None
    scheduled: bool | None = None
    import_mode: Literal["Legacy", "PreserveOriginal", ""] | None = None


class WireReferencePolicy(Wire):
    type: Literal["Source", "Local", ""] | None = None


class WireTagReference(Wire):
    name: str
    annotations: StringMap | None = None
    source: WireObjectReference | None = Field(default=None, alias="from")
    reference: bool | None = None
    generation: NonNegativeInt | None = None
    import_policy: WireImportPolicy | None = None
    reference_policy: WireReferencePolicy | None = None


class WireLookupPolicy(Wire):
    local: bool | None = None


class ImageStreamSpec(Wire):
    lookup_policy: WireLookupPolicy | None = None
    tags: list[WireTagReference] | None = None
    docker_image_repository: str | None = None


class WireTagEvent(Wire):
    created: Timestamp | None = None
    docker_image_reference: str | None = None
    image: str | None = None
    generation: NonNegativeInt | None = None


class WireTagHistory(Wire):
    tag: str
    items: list[WireTagEvent] | None = None


class ImageStreamStatus(Wire):
    docker_image_repository: str | None = None
    tags: list[WireTagHistory] | None = None


class WireImageStream(Wire):
    api_version: str
    kind: Literal["ImageStream"]
    metadata: ObjectMeta
    spec: ImageStreamSpec | None = None
    status: ImageStreamStatus | None = None


class WireContainer(Wire):
    name: str
    image: str | None = None


class PodSpec(Wire):
    containers: list[WireContainer]
    init_containers: list[WireContainer] | None = None


class PodTemplateMeta(Wire):
    labels: StringMap | None = None
    annotations: StringMap | None = None


class PodTemplate(Wire):
    metadata: PodTemplateMeta | None = None
    spec: PodSpec


class DeploymentSpec(Wire):
    replicas: NonNegativeInt | None = None
    paused: bool | None = None
    template: PodTemplate


class WireDeployment(Wire):
    api_version: str
    kind: Literal["Deployment"]
    metadata: ObjectMeta
    spec: DeploymentSpec


# -- one line per error ---------------------------------------------------------------------------------

_EXPECTED = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "missing": "Required value",
}


def one_line(error: ValidationError) -> str:
    """The first error as `path: what is allowed, got VALUE`, never pydantic's multi-line dump."""
    first = error.errors(include_url=False)[0]
    path = ""
    for part in first["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    kind = first["type"]
    if kind == "literal_error":
        expected = f"must be one of {first['ctx']['expected']}"
    elif kind in _EXPECTED:
        expected = _EXPECTED[kind]
    else:
        expected = first["msg"].removeprefix("Value error, ")
    if kind == "missing":
        return f"{path}: Required value"
    return f"{path}: {expected}, got {shown(first['input'])}"


def shown(value: Any) -> str:
    """A value as Go's %q shows a string (control characters escaped), or what kind it is."""
    if isinstance(value, str):
        text = json.dumps(value if len(value) <= 80 else value[:77] + "...", ensure_ascii=False)
        return text
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return str(value) if abs(value) < 1e18 else "a number out of range"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
