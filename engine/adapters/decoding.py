"""Bytes of a file → plain JSON values (dict, list, str, int, float, bool, None), as kubectl reads them.

The one decoding adapter for `apply -f` and `import -f`; the domain never sees YAML.

- A text whose first non-blank character is `{` or `[` is JSON (kubectl's YAMLOrJSONDecoder
  sniffs the same way), read as a stream of values: one object, a list, or objects one after
  another as `oc get -w -o json` prints them. Anything else is a YAML `---` stream.
- Only what JSON can say is accepted: no YAML tags (`!!int abc`, `!!timestamp`, `!!python/…`),
  and timestamps stay strings (annotation values and `creationTimestamp` are strings to the API).
- Bounded: nesting deeper than MAX_DEPTH and YAML aliases that expand past MAX_NODES are refused
  before any recursive code runs, so hostile input is an error line, never a RecursionError or
  an exponential walk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from imagetrail.engine.domain.errors import UsageError

MAX_DEPTH = 100  # Kubernetes objects nest ~20 deep; Python's own recursion limit is ~1000
MAX_NODES = 1_000_000  # after alias expansion ("billion laughs")

_JSON_TOKEN = re.compile(r'[\[\]{}"\\]')


class _KubeYAMLLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when PyYAML has it: ~10x faster
    """YAML as Kubernetes reads it: timestamps stay strings."""


_KubeYAMLLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# explicit tags that only restate what the value already is
_HARMLESS_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "!"}


def decode(data: bytes | str, source: str) -> list[Any]:
    """Every document of `data`, empty ones (comments only, `---` alone) left out."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise UsageError(f"{source} is not UTF-8 text: byte 0x{data[e.start]:02x} at offset {e.start} "
                             "cannot be decoded; save the file as UTF-8") from None
    else:
        text = data.removeprefix("\ufeff")
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        return _json_stream(stripped, source)
    return [doc for doc in _yaml_stream(text, source) if doc is not None]


def _json_stream(text: str, source: str) -> list[Any]:
    _check_json_depth(text, source)
    decoder = json.JSONDecoder()
    docs, index = [], 0
    while index < len(text):
        try:
            value, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as e:
            raise UsageError(f"{source} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
        docs.extend(value if isinstance(value, list) else [value])
        while index < len(text) and text[index] in " \t\r\n":
            index += 1
    return docs


def _check_json_depth(text: str, source: str) -> None:
    depth, in_string, skip_at = 0, False, -1
    for match in _JSON_TOKEN.finditer(text):
        char = match.group()
        if in_string:
            if match.start() == skip_at:  # the character after a backslash
                continue
            if char == "\\":
                skip_at = match.end()
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                raise UsageError(f"{source}: line {line}: nested more than {MAX_DEPTH} levels deep; "
                                 "no Kubernetes object is")
        elif char in "]}":
            depth -= 1


def _yaml_stream(text: str, source: str) -> list[Any]:
    try:
        _check_yaml_events(text, source)
        return list(yaml.load_all(text, Loader=_KubeYAMLLoader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UsageError(f"{source} is not valid YAML: {e.problem or e.context}{where}") from None
    except yaml.YAMLError as e:
        raise UsageError(f"{source} is not valid YAML: {str(e).splitlines()[0]}") from None


def _check_yaml_events(text: str, source: str) -> None:
    """One pass over the parser's events (the parser is iterative): tags, depth, alias expansion."""
    sizes: list[int] = []  # values under each open collection, aliases expanded
    anchors: dict[str, int] = {}
    open_anchors: list[str | None] = []
    total = 0

    def where(event: yaml.Event) -> str:
        return f"{source}: line {event.start_mark.line + 1}"

    def count(n: int) -> None:
        nonlocal total
        total += n
        if total > MAX_NODES:
            raise UsageError(f"{source}: YAML aliases expand to more than {MAX_NODES} values; "
                             "write the objects out without anchors")
        if sizes:
            sizes[-1] += n

    for event in yaml.parse(text, Loader=_KubeYAMLLoader):
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _HARMLESS_TAGS:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise UsageError(f'{where(event)}: YAML tag "{shown}" is not allowed: Kubernetes objects '
                             "hold plain strings, numbers, booleans, lists and mappings")
        if isinstance(event, yaml.CollectionStartEvent):
            if len(sizes) >= MAX_DEPTH:
                raise UsageError(f"{where(event)}: nested more than {MAX_DEPTH} levels deep; no Kubernetes object is")
            count(1)
            sizes.append(1)
            open_anchors.append(event.anchor)
        elif isinstance(event, yaml.CollectionEndEvent):
            size, anchor = sizes.pop(), open_anchors.pop()
            if anchor:
                anchors[anchor] = size
            if sizes:
                sizes[-1] += size - 1  # the start already counted one
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                anchors[event.anchor] = 1
            count(1)
        elif isinstance(event, yaml.AliasEvent):
            count(anchors.get(event.anchor, 1))


def json_stream(lines: Iterable[str], source: str) -> Iterator[Any]:
    """JSON documents as they arrive (`oc get -w -o json | imagetrail watch -f -` never ends): one a
    line, or pretty-printed one after another. Each is yielded as soon as it is complete."""
    decoder = json.JSONDecoder()
    buffer, line_number = "", 0
    for line in lines:
        line_number += 1
        buffer += line
        while True:
            text = buffer.lstrip()
            if not text:
                buffer = ""
                break
            if text[0] not in "{[":
                raise UsageError(f"{source} is not a JSON stream: line {line_number} starts with {text[0]!r}")
            _check_json_depth(text, source)
            try:
                value, end = decoder.raw_decode(text)
            except json.JSONDecodeError as e:
                if e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string"):
                    break  # the document goes on in the next lines
                raise UsageError(f"{source} is not valid JSON: {e.msg} near line {line_number}") from None
            buffer = text[end:]
            yield from (value if isinstance(value, list) else [value])
    if buffer.strip():
        raise UsageError(f"{source} ends in the middle of a JSON document (line {line_number})")
