"""Output formats shared by the read commands: -o json|yaml|name|wide|jsonpath=…, and tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import yaml

from imagetrail.cli.describe import human_duration
from imagetrail.cli.jsonpath import JSONPathError, render
from imagetrail.engine.errors import UsageError
from imagetrail.engine.references import quote

FORMATS = "json, yaml, name, wide, jsonpath=TEMPLATE"


def table(rows: Sequence[Sequence[str]], padding: int = 3) -> str:
    """kubectl's tabwriter layout: columns padded with spaces, the last one left ragged."""
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i] + padding) for i, cell in enumerate(row[:-1])]
        lines.append(("".join(cells) + row[-1]).rstrip())
    return "\n".join(lines) + "\n"


def age(ts: datetime | None, now: datetime | None = None) -> str:
    """kubectl's short age column (5m, 3h, 2d)."""
    if ts is None:
        return "<unknown>"
    seconds = int(((now or datetime.now(timezone.utc)) - ts).total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def ago(ts: datetime, now: datetime | None = None) -> str:
    return human_duration((now or datetime.now(timezone.utc)) - ts) + " ago"


def as_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def emit(output: str | None, documents: list[dict[str, Any]], single: bool, *,
         plain: Callable[[], str], wide: Callable[[], str] | None = None, resource: str) -> str:
    """Render documents in the requested format; `plain`/`wide` build the tables."""
    if not output:
        return plain()
    if output == "wide":
        return (wide or plain)()
    if output == "name":
        return "".join(f"{resource}/{d['metadata']['name']}\n" for d in documents)
    data = documents[0] if single else as_list(documents)
    if output == "json":
        return json.dumps(data, indent=4) + "\n"
    if output == "yaml":
        return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    if output.startswith("jsonpath="):
        template = output.split("=", 1)[1]
        if not template:  # kubectl's words (get.go PrintFlags), not a parse error
            raise UsageError("template format specified but no template given")
        try:
            return render(template, data)
        except JSONPathError as e:
            raise UsageError(str(e)) from None
    raise UsageError(f'unable to match a printer suitable for the output format {quote(output)}, '
                     f"allowed formats are: {FORMATS}")
