"""Output formats shared by the read commands, as kubectl prints them: -o json|yaml|name|wide,
jsonpath=…, jsonpath-as-json=…, jsonpath-file=…, custom-columns=…, custom-columns-file=…, and tables.

Sources: kubernetes/cli-runtime pkg/genericclioptions/jsonpath_flags.go and pkg/printers/jsonpath.go,
kubectl pkg/cmd/get/customcolumn.go and customcolumn_flags.go, pkg/printers/tabwriter.go.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import click

from imagetrail.cli.gofmt import human_duration
from imagetrail.cli.jsonpath import JSONPathError, find, go_sprint, parse, render
from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.references import quote

FORMATS = ("json, yaml, name, wide, jsonpath=TEMPLATE, jsonpath-as-json=TEMPLATE, jsonpath-file=FILE, "
           "custom-columns=SPEC, custom-columns-file=FILE")
_JSONPATH_FORMATS = ("jsonpath", "jsonpath-as-json", "jsonpath-file")
_COLUMNS_FORMATS = ("custom-columns", "custom-columns-file")


def tabwrite(text: str, minwidth: int = 6, padding: int = 3) -> str:
    """Go's text/tabwriter as kubectl configures it (minwidth 6, padding 3, spaces, align left).

    Cells end at a tab; the text after a line's last tab is not in a column. A column's width is
    set per block of consecutive lines that have that column (Writer.format, ported as is).
    """
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    widths: list[int] = []

    def write(line0: int, line1: int) -> None:
        for line in lines[line0:line1]:
            out.append("".join(c.ljust(widths[j]) if j < len(widths) else c for j, c in enumerate(line)))

    def block(line0: int, line1: int) -> None:
        column, this = len(widths), line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write(line0, this)
            line0, width = this, minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            widths.append(width)
            block(line0, this)
            widths.pop()
            line0 = this
        write(line0, line1)

    block(0, len(lines))
    return "\n".join(out)


def table(rows: Sequence[Sequence[str]], padding: int = 3) -> str:
    """kubectl's tabwriter layout: columns padded with spaces, the last one left ragged."""
    if not rows:
        return ""
    text = tabwrite("".join("\t".join(row) + "\n" for row in rows), padding=padding)
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


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


# cli-runtime printers.EscapeTerminal: no terminal escapes from object values in a table.
_TERMINAL = str.maketrans({"\x1b": "^[", "\r": "\\r"})
# customcolumn.go RelaxedJSONPathExpression: name.x, .name.x, {name.x} and {.name.x} are all {.name.x}.
_RELAXED = re.compile(r"\{\.?([^{}]+)\}|\.?([^{}]+)")  # fullmatch: Go's $ is the end of the text
_MISSING_LINE = ("invalid template, missing {} line. Expected format is one line of space separated headers, "
                 "one line of space separated column specs.")


@dataclass(frozen=True)
class Output:
    """A checked -o value with the flags that shape it; `format` is "" for the default table."""

    format: str = ""
    template: str = ""                  # jsonpath: the template, read from its file already
    as_json: bool = False               # jsonpath-as-json
    allow_missing: bool = True          # --allow-missing-template-keys
    columns: tuple = ()                 # custom-columns: (header, parsed jsonpath) pairs
    no_headers: bool = False            # --no-headers (tables and custom-columns=)


def output_format(output: str | None, allow_missing: bool = True, no_headers: bool = False) -> Output:
    """Check -o and read its files up front, with kubectl's messages, before anything is read."""
    if not output or output == "wide":
        return Output(output or "", no_headers=no_headers)
    if output in ("name", "json", "yaml"):
        return Output(output)
    name, _, value = output.partition("=")
    if name in _JSONPATH_FORMATS:
        if not value:
            raise UsageError("template format specified but no template given")
        if name == "jsonpath-file":
            value = _read(value, "--template")
        try:
            parse(value)
        except JSONPathError as e:
            raise UsageError(f"error parsing jsonpath {_one_line(value)}, {e}") from None
        return Output("jsonpath", value, as_json=name == "jsonpath-as-json", allow_missing=allow_missing)
    if name in _COLUMNS_FORMATS:
        if not value:
            raise UsageError("custom-columns format specified but no custom columns given")
        if name == "custom-columns-file":
            # kubectl's file printer never honours --no-headers (NewCustomColumnsPrinterFromTemplate)
            return Output("custom-columns", columns=_columns_from_file(value))
        return Output("custom-columns", columns=_columns_from_spec(value), no_headers=no_headers)
    raise UsageError(f'unable to match a printer suitable for the output format {quote(output)}, '
                     f"allowed formats are: {FORMATS}")


def _one_line(text: str) -> str:
    # a template read from a file ends in a newline; errors stay one line
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _read(path: str, what: str) -> str:
    """A template file, with Go's os error wording as kubectl prints it."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except IsADirectoryError:
        if what == "template":  # custom-columns-file: os.Open works, the scanner reads no line
            return ""
        raise UsageError(f"error reading {what} {path}, read {path}: is a directory") from None
    except UnicodeDecodeError:
        raise UsageError(f"error reading {what} {path}: not UTF-8 text") from None
    except OSError as e:
        raise UsageError(f"error reading {what} {path}, open {path}: {(e.strerror or str(e)).lower()}") from None


def _column(header: str, path: str) -> tuple[str, list]:
    if path:
        m = _RELAXED.fullmatch(path)
        if not m:
            raise UsageError("unexpected path string, expected a 'name1.name2' or '.name1.name2' or "
                             "'{name1.name2}' or '{.name1.name2}'")
        path = "{." + (m[1] or m[2]) + "}"
    try:
        return header, parse(path)
    except JSONPathError as e:  # kubectl prints the parser's message alone
        raise UsageError(str(e)) from None


def _columns_from_spec(spec: str) -> tuple:
    columns = []
    for part in spec.split(","):
        header, colon, path = part.partition(":")
        if not colon:
            raise UsageError(f"unexpected custom-columns spec: {_one_line(part)}, "
                             "expected <header>:<json-path-expr>")
        columns.append(_column(header, path))
    return tuple(columns)


def _columns_from_file(path: str) -> tuple:
    # bufio.Scanner lines (\n, an optional \r before it), then words split on white space
    lines = [line.removesuffix("\r") for line in _read(path, "template").split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise UsageError(_MISSING_LINE.format("header"))
    if len(lines) < 2:
        raise UsageError(_MISSING_LINE.format("spec"))
    headers, specs = lines[0].split(), lines[1].split()
    if len(headers) != len(specs):
        raise UsageError(f"number of headers ({len(headers)}) and field specifications ({len(specs)}) don't match")
    return tuple(_column(h, p) for h, p in zip(headers, specs))


def _custom_columns(out: Output, documents: list[dict[str, Any]]) -> str:
    """customcolumn.go printOneObject: each item a row, values by fmt.Sprint, several joined by commas."""
    lines = [] if out.no_headers else ["\t".join(h for h, _ in out.columns)]
    for doc in documents:
        cells = []
        for _, root in out.columns:
            try:
                results = find(root, doc, allow_missing=True)  # always lenient, as in kubectl
            except JSONPathError as e:
                raise UsageError(str(e)) from None
            values = ["<none>"] if not results or not results[0] else []
            values += [go_sprint(v).translate(_TERMINAL) for r in results for v in r]
            cells.append(",".join(values))
        lines.append("\t".join(cells))
    return tabwrite("".join(line + "\n" for line in lines))


def output_options(command: Callable) -> Callable:
    """-o, --allow-missing-template-keys and --no-headers, checked into one `output: Output` argument."""
    @click.option("-o", "--output", help=f"Output format: {FORMATS}.")
    @click.option("--allow-missing-template-keys", type=GO_BOOL, default=True, is_flag=False, flag_value="true",
                  show_default=True, help="If true, a template (jsonpath) field or map key that is missing "
                  "prints nothing; if false, it is an error.")
    @click.option("--no-headers", is_flag=True,
                  help="When using the default or custom-column output format, don't print headers.")
    @functools.wraps(command)
    def checked(*args, output, allow_missing_template_keys, no_headers, **kwargs):
        return command(*args, output=output_format(output, allow_missing_template_keys, no_headers), **kwargs)
    return checked


class _GoBool(click.ParamType):
    """A flag value as Go's strconv.ParseBool reads it (pflag's bool flags)."""

    name = "boolean"
    _VALUES = {**dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
               **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False)}

    def convert(self, value, param, ctx):
        if isinstance(value, bool):
            return value
        if value in self._VALUES:
            return self._VALUES[value]
        self.fail(f"invalid argument {json.dumps(value)}: strconv.ParseBool: parsing "
                  f"{json.dumps(value)}: invalid syntax", param, ctx)


GO_BOOL = _GoBool()


def emit(output: Output | str | None, documents: list[dict[str, Any]], single: bool, *,
         plain: Callable[[], list[list[str]]], wide: Callable[[], list[list[str]]] | None = None,
         resource: str, name: Callable[[dict[str, Any]], str] | None = None) -> str:
    """Render documents in the requested format; `plain`/`wide` give the table rows, header first.

    -o name prints `resource/<metadata.name>`, or `resource/<name(document)>`, once each.

    As kubectl get does, several objects (or none) are one `kind: List`: jsonpath runs against the
    List (`{.items[*]...}`), custom-columns prints one row per item.
    """
    out = output if isinstance(output, Output) else output_format(output)
    if out.format in ("", "wide"):
        rows = ((wide or plain) if out.format == "wide" else plain)()
        return table(rows[1:] if out.no_headers else rows)
    if out.format == "name":
        names = (name(d) if name else d["metadata"]["name"] for d in documents)
        return "".join(f"{resource}/{n}\n" for n in dict.fromkeys(names))
    if out.format == "custom-columns":
        return _custom_columns(out, documents)
    data = documents[0] if single else as_list(documents)
    if out.format == "json":
        return json.dumps(data, indent=4) + "\n"
    if out.format == "yaml":
        import yaml  # only to print YAML: loading it costs every command's start-up

        return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    try:
        return render(out.template, data, out.allow_missing, out.as_json)
    except JSONPathError as e:
        raise UsageError(_one_line(str(e))) from None
