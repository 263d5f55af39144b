"""Codec for OpenShift's ``image.openshift.io/triggers`` annotation.

Reference: docs/semantics.md §11.1 (JSON shape) and §12.4 (how the controller reads it).
Upstream: library-go ``pkg/image/trigger/{types,annotations}.go``.

The annotation is a JSON array of ``ObjectFieldTrigger``::

    [{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},
      "fieldPath":"spec.template.spec.containers[?(@.name==\\"keycloak\\")].image"}]

Reading reproduces Go's ``encoding/json.Unmarshal`` into ``[]ObjectFieldTrigger``:

* ``null`` is a nil slice (``None``), ``[]`` an empty one (``[]``);
* missing keys and JSON ``null`` values keep Go's zero value (``""`` / ``false``); a later
  duplicate key overwrites an earlier one, and a repeated ``from`` object is merged into the
  earlier one (Go decodes into the same struct);
* keys match case-insensitively (``"FieldPath"`` works), unknown keys are ignored;
* a value of the wrong JSON type (``"paused": "false"``) is an error, which makes the
  controller ignore the whole annotation;
* two entries with the same ``fieldPath`` -> ``duplicate triggers are not allowed``.

Writing reproduces Go's ``json.Marshal``: compact, struct key order, ``omitempty`` on
``namespace``/``apiVersion``/``paused``, HTML-safe string escaping.

Deliberate deviation: the empty string (and ``None``) read as "no triggers" (``None``), whereas
Go's ``json.Unmarshal("")`` fails with "unexpected end of JSON input" (so a present but empty
annotation makes the real controller skip the object with an error).
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TRIGGERS_ANNOTATION = "image.openshift.io/triggers"

DEFAULT_POD_SPEC_PATH = "spec.template.spec"
"""Pod spec path of Deployments, StatefulSets and DaemonSets."""
CRONJOB_POD_SPEC_PATH = "spec.jobTemplate.spec.template.spec"
"""Pod spec path of CronJobs."""

CONTAINERS = "containers"
INIT_CONTAINERS = "initContainers"


class TriggerError(ValueError):
    """The annotation (or one of its field paths) is not acceptable to OpenShift."""


class TriggerSource(BaseModel):
    """``ObjectReference`` of library-go's trigger types: what the trigger follows."""

    # defer_build: validators are built at a model's first use, not at import (start-up)
    model_config = ConfigDict(defer_build=True, frozen=True, strict=True, populate_by_name=True, extra="forbid")

    kind: str = "ImageStreamTag"
    name: str
    namespace: str = ""
    api_version: str = Field(default="", alias="apiVersion")


class ImageTrigger(BaseModel):
    """``ObjectFieldTrigger``: one entry of the annotation array."""

    model_config = ConfigDict(defer_build=True, frozen=True, strict=True, populate_by_name=True, extra="forbid")

    source: TriggerSource = Field(alias="from")
    field_path: str = Field(alias="fieldPath")
    paused: bool = False


# --------------------------------------------------------------------------- field paths


def container_field_path(container: str, pod_spec_path: str = DEFAULT_POD_SPEC_PATH) -> str:
    """The fieldPath ``oc set triggers`` writes for ``container`` (always ``containers[...]``)."""
    return f'{pod_spec_path}.containers[?(@.name=="{container}")].image'


_NAME_PREFIX = '?(@.name=="'
_NAME_SUFFIX = '")'
_GO_ATOI = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _go_atoi(s: str) -> int | None:
    """``strconv.Atoi`` (64-bit): optional sign, ASCII digits only, int64 range."""
    if not _GO_ATOI.fullmatch(s):
        return None
    value = int(s)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def parse_field_path(
    field_path: str, pod_spec_path: str = DEFAULT_POD_SPEC_PATH
) -> tuple[str, int | None, str | None] | None:
    """Split a trigger fieldPath into ``(list, index, name)`` as the trigger controller does.

    * ``None`` when the path does not start with ``pod_spec_path + "."`` (the controller
      silently skips such triggers);
    * ``("containers" | "initContainers", index, None)`` for ``[<index>]`` selectors (the index is
      not range-checked and may be negative: that is the caller's "no such container");
    * ``("containers" | "initContainers", None, name)`` for ``[?(@.name=="<name>")]``;
    * ``TriggerError("field path is not valid: <fp>")`` otherwise.

    This mirrors library-go's ``parseContainerReference``/``findContainerBySelector``, quirks
    included: the selector ends at the first ``]``; the ``.`` before ``image`` is optional
    (``containers[0]image`` is accepted); the name selector is ``TrimPrefix(?(@.name==")``
    then ``TrimSuffix(")``, accepted when either trim removed something. Note that a name
    selector matches containers *and* init containers upstream (init first), whichever list
    the path names. Upstream reports an unrecognised selector (e.g. single-quoted) as
    ``no such container: <fp>``; here it is a field-path error like every other syntax error.
    """
    base = pod_spec_path + "."
    if not field_path.startswith(base):
        return None
    rest = field_path[len(base):]
    if rest.startswith("containers["):
        which, rest = CONTAINERS, rest[len("containers["):]
    elif rest.startswith("initContainers["):
        which, rest = INIT_CONTAINERS, rest[len("initContainers["):]
    else:
        raise TriggerError(f"field path is not valid: {field_path}")
    end = rest.find("]")
    if end == -1:
        raise TriggerError(f"field path is not valid: {field_path}")
    selector, remainder = rest[:end], rest[end + 1:]
    if remainder.startswith("."):
        remainder = remainder[1:]
    if remainder != "image":
        raise TriggerError(f"field path is not valid: {field_path}")
    index = _go_atoi(selector)
    if index is not None:
        return which, index, None
    name = selector.removeprefix(_NAME_PREFIX).removesuffix(_NAME_SUFFIX)
    if name != selector:
        return which, None, name
    raise TriggerError(f"field path is not valid: {field_path}")


# --------------------------------------------------------------------------- decoding


class _Object:
    """A decoded JSON object, keeping its key/value pairs in document order (duplicates too)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]):
        self.pairs = pairs


class _Number:
    """A JSON number, kept as text (it is never stored; only its JSON type matters)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_type(value: Any) -> str:
    if isinstance(value, _Object):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, _Number):
        return "number"
    return "null"  # pragma: no cover - null is handled before the type check


_SURROGATES = re.compile("[\ud800-\udfff]")


def _go_string(value: str) -> str:
    # Go replaces unpaired surrogate escapes (and invalid UTF-8) with U+FFFD.
    return _SURROGATES.sub("\ufffd", value)


_GO_SPECIAL_FOLD = {"\u212a": "K", "\u017f": "S", "\u0131": "I", "\u0130": "I"}


def _fold(key: str) -> str:
    """Go (>= 1.21) ``encoding/json`` key folding, for keys that can match ASCII field names."""
    return "".join(
        ch.upper() if ch < "\x80" else _GO_SPECIAL_FOLD.get(ch, ch) for ch in key
    )


_TRIGGER_FIELDS = {"FROM": "from", "FIELDPATH": "fieldPath", "PAUSED": "paused"}
_SOURCE_FIELDS = {"KIND": "kind", "NAME": "name", "NAMESPACE": "namespace", "APIVERSION": "apiVersion"}
_TRIGGER_GO_TYPE = "trigger.ObjectFieldTrigger"
_SOURCE_GO_TYPE = "trigger.ObjectReference"


def _type_error(value: Any, go_type: str, field: str | None = None) -> TriggerError:
    # Go names the innermost struct, then the full field path from the element.
    struct = "ObjectReference" if field and field.startswith("from.") else "ObjectFieldTrigger"
    where = f"Go struct field {struct}.{field}" if field else "Go value"
    return TriggerError(
        f"invalid {TRIGGERS_ANNOTATION} annotation: "
        f"json: cannot unmarshal {_json_type(value)} into {where} of type {go_type}"
    )


def _decode_string(value: Any, field: str, current: str) -> str:
    if value is None:
        return current
    if not isinstance(value, str):
        raise _type_error(value, "string", field)
    return _go_string(value)


def _decode_source(value: _Object, current: dict[str, str]) -> None:
    for key, item in value.pairs:
        name = _SOURCE_FIELDS.get(_fold(key))
        if name is not None:
            current[name] = _decode_string(item, f"from.{name}", current[name])


def _decode_trigger(value: Any) -> ImageTrigger:
    source = {"kind": "", "name": "", "namespace": "", "apiVersion": ""}
    field_path, paused = "", False
    if value is not None:  # a null element decodes to the zero ObjectFieldTrigger
        if not isinstance(value, _Object):
            raise _type_error(value, _TRIGGER_GO_TYPE)
        for key, item in value.pairs:
            name = _TRIGGER_FIELDS.get(_fold(key))
            if name is None or item is None:
                continue
            if name == "from":
                if not isinstance(item, _Object):
                    raise _type_error(item, _SOURCE_GO_TYPE, "from")
                _decode_source(item, source)
            elif name == "fieldPath":
                field_path = _decode_string(item, "fieldPath", field_path)
            else:
                if not isinstance(item, bool):
                    raise _type_error(item, "bool", "paused")
                paused = item
    return ImageTrigger(
        source=TriggerSource(
            kind=source["kind"],
            name=source["name"],
            namespace=source["namespace"],
            api_version=source["apiVersion"],
        ),
        field_path=field_path,
        paused=paused,
    )


def parse_annotation(value: str | None) -> list[ImageTrigger] | None:
    """Decode the annotation value.

    ``None``, ``""`` and ``"null"`` -> ``None``; ``"[]"`` -> ``[]``. Invalid JSON, a value of the
    wrong JSON type, or duplicate fieldPaths -> ``TriggerError`` (upstream the controller then
    ignores the whole annotation). Semantic checks (kind, ``:`` in the name, field path syntax)
    are not made here: upstream applies them per trigger, later (see ``parse_field_path``).
    """
    if value is None or value == "":
        return None
    try:
        document = json.loads(
            value,
            object_pairs_hook=_Object,
            parse_int=_Number,
            parse_float=_Number,
            parse_constant=_reject_constant,
        )
    except RecursionError:
        # Go accepts nesting up to 10000 levels; Python's decoder stops earlier.
        raise TriggerError(f"invalid {TRIGGERS_ANNOTATION} annotation: JSON nested too deeply") from None
    except ValueError as exc:
        raise TriggerError(f"invalid {TRIGGERS_ANNOTATION} annotation: {exc}") from None
    if document is None:
        return None
    if not isinstance(document, list):
        raise _type_error(document, "[]" + _TRIGGER_GO_TYPE)
    triggers = [_decode_trigger(item) for item in document]
    seen: set[str] = set()
    for trigger in triggers:
        if trigger.field_path in seen:
            raise TriggerError("duplicate triggers are not allowed")
        seen.add(trigger.field_path)
    return triggers


# --------------------------------------------------------------------------- encoding

_GO_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_GO_ESCAPE = re.compile('["\\\\\x00-\x1f<>&\u2028\u2029\ud800-\udfff]')


def _go_escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    short = _GO_SHORT_ESCAPES.get(ch)
    if short is not None:
        return short
    if "\ud800" <= ch <= "\udfff":
        return "\\ufffd"  # what Go writes for invalid UTF-8
    return f"\\u{ord(ch):04x}"


def _go_quote(value: str) -> str:
    """A JSON string exactly as Go's ``json.Marshal`` writes it (HTML-safe escaping, Go >= 1.22)."""
    return '"' + _GO_ESCAPE.sub(_go_escape_char, value) + '"'


def _format_trigger(trigger: ImageTrigger) -> str:
    src = trigger.source
    parts = [f'"kind":{_go_quote(src.kind)}', f'"name":{_go_quote(src.name)}']
    if src.namespace:
        parts.append(f'"namespace":{_go_quote(src.namespace)}')
    if src.api_version:
        parts.append(f'"apiVersion":{_go_quote(src.api_version)}')
    out = '{"from":{' + ",".join(parts) + '},"fieldPath":' + _go_quote(trigger.field_path)
    if trigger.paused:
        out += ',"paused":true'
    return out + "}"


def format_annotation(triggers: list[ImageTrigger] | None) -> str:
    """Encode like Go's ``json.Marshal([]ObjectFieldTrigger)``.

    ``None`` (a nil slice, e.g. after ``oc set triggers --remove-all``) -> ``null``; an empty
    list -> ``[]``. Duplicates are not checked: Go would marshal them too.
    """
    if triggers is None:
        return "null"
    return "[" + ",".join(_format_trigger(t) for t in triggers) + "]"


__all__ = [
    "CONTAINERS",
    "CRONJOB_POD_SPEC_PATH",
    "DEFAULT_POD_SPEC_PATH",
    "INIT_CONTAINERS",
    "ImageTrigger",
    "TRIGGERS_ANNOTATION",
    "TriggerError",
    "TriggerSource",
    "container_field_path",
    "format_annotation",
    "parse_annotation",
    "parse_field_path",
]
