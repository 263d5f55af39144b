"""kubectl / ``oc`` ``-o jsonpath=TEMPLATE`` output, in pure Python.

A port of k8s.io/client-go/util/jsonpath as kubectl drives it (missing keys
allowed), checked against kubectl 1.32.  Its quirks are kept on purpose, so a
template behaves here as it does in a user's shell script:

* ``['a.b']`` is the *path* a -> b, as in kubectl; a key with dots needs
  ``['a\\.b']`` or ``.a\\.b``.
* Filters compare like Go templates: int with int, float with float, string with
  string; mixing kinds is an error ("incompatible types for comparison").
* Maps and lists print as Go's ``json.Marshal`` does (compact, keys sorted,
  ``<>&`` escaped); scalars print as ``fmt.Print`` does (``1e+06``, ``true``,
  ``null``).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
import re

__all__ = ["JSONPathError", "find", "go_sprint", "parse", "render"]


class JSONPathError(ValueError):
    """A template that does not parse, or that fails on the data (kubectl's wording)."""


class _Fail(Exception):
    # `partial` is what the failing Go step returned alongside its error: an
    # existence filter still looks at it (see _Exec._filter).
    def __init__(self, message: str, partial: list | None = None):
        super().__init__(message)
        self.partial = partial or []


def render(template: str, data: object, allow_missing: bool = True, as_json: bool = False) -> str:
    """Render `data` (decoded JSON) through a kubectl jsonpath `template`.

    Errors carry the first line of kubectl's message; `as_json` is
    ``-o jsonpath-as-json``: each action's results as an indented JSON array.
    """
    try:
        root = parse(template)
    except JSONPathError as e:
        raise JSONPathError(f"error parsing jsonpath {template}, {e}") from None
    try:
        results = find(root, data, allow_missing)
    except JSONPathError as e:
        quoted = json.dumps(template, ensure_ascii=False)
        # kubectl's printer goes on with the template and the whole object on
        # later lines; errors here are one line, so its first line is all we keep.
        raise JSONPathError(
            f"error executing jsonpath {quoted}: Error executing template: {e}. "
            "Printing more information for debugging the template:"
        ) from None
    if as_json:  # client-go PrintResults with outputJSON: MarshalIndent(results, "", "    ")
        return "".join(_json_indent(r, "") + "\n" for r in results)
    # One `{...}` yielding several values prints them space-separated.
    return "".join(" ".join(map(_print, r)) for r in results)


def parse(template: str) -> list:
    """The parsed template; an error carries client-go's parser message alone."""
    try:
        return _Parser(template).parse()
    except _Fail as e:
        raise JSONPathError(str(e)) from None


def find(root: list, data: object, allow_missing: bool = True) -> list[list]:
    """client-go FindResults: the values of each action of a parsed template."""
    try:
        return _Exec(root, allow_missing).find(0, data)
    except _Fail as e:
        raise JSONPathError(str(e)) from None


def go_sprint(v: object) -> str:
    """Go's fmt.Sprint of a decoded JSON value (``map[k:v]``, ``[a b]``, ``<nil>``)."""
    return _go_v(v)


# --- parsing -----------------------------------------------------------------
# Nodes are tuples: ("text", s) ("list", [nodes]) ("field", name) ("wild",)
# ("recur",) ("array", [[value, known, derived] * 3]) ("union", [node lists])
# ("filter", left, right, op) ("int"|"float"|"bool", value) ("ident", name).

_TERMINATORS = frozenset(" \t\r\n.,[]$@{}")
_DICT_KEY = re.compile(r"'([^']*)'")
_SLICE = re.compile(r"(-?[0-9]*)(:-?[0-9]*)?(:-?[0-9]*)?")
_FILTER = re.compile(r"([^!<>=]+)([!<>=]+)(.+?)")
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdecimal()


def _parse_action(text: str) -> list:
    # Filter operands and bracket keys are parsed as actions of their own.
    return _Parser("{" + text + "}").parse()[0][1]


class _Parser:
    def __init__(self, text: str):
        self.s, self.pos = text, 0

    def parse(self) -> list:
        root, s = [], self.s
        while (brace := s.find("{", self.pos)) >= 0:
            if brace > self.pos:
                root.append(("text", s[self.pos:brace]))
            self.pos = brace + 1
            cur: list = []
            root.append(("list", cur))
            self._action(cur)
        if self.pos < len(s):
            root.append(("text", s[self.pos:]))
        return root

    def _action(self, cur: list) -> None:
        s = self.s
        while True:
            if s.startswith("}", self.pos):
                self.pos += 1
                return
            if s.startswith("[?(", self.pos):
                self._filter(cur)
                continue
            if s.startswith("..", self.pos):
                if cur and cur[-1][0] == "recur":
                    raise _Fail("invalid multiple recursive descent")
                self.pos += 2
                cur.append(("recur",))
                if self.pos < len(s) and _alnum(s[self.pos]):
                    self._field(cur)
                continue
            if self.pos >= len(s) or s[self.pos] in "\r\n":
                raise _Fail("unclosed action")
            c = s[self.pos]
            self.pos += 1
            if c in " @$":  # @ and $ both mean "the current object": nothing to do
                continue
            if c == "[":
                self._array(cur)
            elif c in "\"'":
                self._quote(cur, c)
            elif c == ".":
                self._field(cur)
            elif c in "+-" or c.isdecimal():
                self.pos -= 1
                self._number(cur)
            elif _alnum(c):
                self.pos -= 1
                self._identifier(cur)
            else:
                shown = f" '{c}'" if c.isprintable() else ""
                raise _Fail(f"unrecognized character in action: U+{ord(c):04X}{shown}")

    def _field(self, cur: list) -> None:
        s, start = self.s, self.pos
        while self.pos < len(s) and s[self.pos] not in _TERMINATORS:
            self.pos += 2 if s[self.pos] == "\\" else 1  # `\.` keeps the dot in the name
        self.pos = min(self.pos, len(s))
        name = s[start:self.pos]
        cur.append(("wild",) if name == "*" else ("field", name.replace("\\", "")))

    def _number(self, cur: list) -> None:
        s, start = self.s, self.pos
        self.pos += s[self.pos] in "+-"
        while self.pos < len(s) and (s[self.pos] == "." or s[self.pos].isdecimal()):
            self.pos += 1
        text = s[start:self.pos]
        for kind, conv in (("int", int), ("float", float)):
            try:
                cur.append((kind, conv(text)))
                return
            except ValueError:
                pass
        raise _Fail(f"cannot parse number {text}")

    def _identifier(self, cur: list) -> None:
        s, start = self.s, self.pos
        while self.pos < len(s) and s[self.pos] not in _TERMINATORS:
            self.pos += 1
        word = s[start:self.pos]
        cur.append(("bool", word == "true") if word in ("true", "false") else ("ident", word))

    def _array(self, cur: list) -> None:
        s, start = self.s, self.pos
        while self.pos < len(s) and s[self.pos] not in "]\n":
            self.pos += 1
        if self.pos >= len(s) or s[self.pos] == "\n":
            raise _Fail("unterminated array")
        text = s[start:self.pos]
        self.pos += 1
        if text == "*":
            text = ":"
        parts = text.split(",")
        if len(parts) > 1:
            cur.append(("union", [_parse_action(f"[{p.strip(' ')}]") for p in parts]))
            return
        if m := _DICT_KEY.fullmatch(text):
            cur.extend(_parse_action("." + m[1]))  # so 'a.b' is a path, as in kubectl
            return
        m = _SLICE.fullmatch(text)
        if not m:
            raise _Fail(f"invalid array index {text}")
        params: list = []
        for i, part in enumerate(g or "" for g in m.groups()):
            if i and part:
                part = part[1:]  # drop the ':'
                if not part:
                    params.append([0, False, False])
                    continue
            if part:
                try:
                    params.append([int(part), True, False])
                except ValueError:
                    raise _Fail(f"array index {part} is not a number") from None
            elif i == 1:  # `[n]` is the slice n:n+1
                params.append([params[0][0] + 1, True, True])
            else:
                params.append([0, False, False])
        cur.append(("array", params))

    def _filter(self, cur: list) -> None:
        s = self.s
        self.pos += 3
        start, begin, end, pair = self.pos, False, False, ""
        while True:  # find the ')' that is not inside the (single) quoted operand
            if self.pos >= len(s) or s[self.pos] == "\n":
                raise _Fail("unterminated filter")
            c = s[self.pos]
            self.pos += 1
            if c in "\"'":
                if not begin:
                    begin, pair = True, c
                elif c == pair and s[self.pos - 2] != "\\":
                    end = True
            elif c == ")" and begin == end:
                break
        if not s.startswith("]", self.pos):
            raise _Fail("unclosed array expect ]")
        self.pos += 1
        text = s[start:self.pos - 2]
        if m := _FILTER.fullmatch(text):
            cur.append(("filter", _parse_action(m[1]), _parse_action(m[3]), m[2]))
        else:
            cur.append(("filter", _parse_action(text), [], "exists"))

    def _quote(self, cur: list, q: str) -> None:
        s, start = self.s, self.pos - 1
        while True:
            if self.pos >= len(s) or s[self.pos] == "\n":
                raise _Fail("unterminated quoted string")
            self.pos += 1
            if s[self.pos - 1] == q and s[self.pos - 2] != "\\":
                break
        raw = s[start:self.pos]
        try:
            cur.append(("text", _unquote(raw)))
        except ValueError:
            raise _Fail(f"unquote string {raw} error invalid syntax") from None


def _unquote(raw: str) -> str:
    # Go's strconv.Unquote, for either quote character.
    q, body, out, i = raw[0], raw[1:-1], [], 0
    while i < len(body):
        c, e = body[i], body[i + 1:i + 2]
        if c == q:
            raise ValueError(raw)
        if c != "\\":
            out.append(c)
            i += 1
        elif e in _ESCAPES or e == q:
            out.append(_ESCAPES.get(e, q))
            i += 2
        elif e and e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 2:i + 2 + width]
            code = int(digits, 16) if re.fullmatch(f"[0-9a-fA-F]{{{width}}}", digits) else -1
            if code < 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise ValueError(raw)
            out.append(chr(code))
            i += 2 + width
        elif re.fullmatch("[0-7]{3}", body[i + 1:i + 4]) and int(body[i + 1:i + 4], 8) < 256:
            out.append(chr(int(body[i + 1:i + 4], 8)))
            i += 4
        else:
            raise ValueError(raw)
    return "".join(out)


# --- evaluation --------------------------------------------------------------


class _Exec:
    def __init__(self, root: list, allow_missing: bool):
        self.root, self.allow_missing = root, allow_missing
        # range/end bookkeeping, as client-go keeps it
        self.begin = self.in_range = self.end = 0
        self.last_end: int | None = None

    def find(self, start: int, data: object) -> list[list]:
        """Results of root[start:] against `data`, one list per action."""
        out, nodes, i = [], self.root, start
        while i < len(nodes):
            results = self.walk([data], nodes[i])
            if 0 < self.end <= self.in_range:  # an {end}: this range body is done
                self.end -= 1
                self.last_end = i
                break
            if self.begin > 0:  # a {range ...}: run the body once per value
                self.begin -= 1
                self.in_range += 1
                for value in results:
                    out += self.find(i + 1, value)
                if not results:
                    self.find(i + 1, None)  # only to find its {end}
                self.in_range -= 1
                # Resume after the {end}. With no {end} kubectl carries on right
                # after the {range}, against the outer object: so does this.
                if self.last_end is not None and self.last_end > i:
                    i = self.last_end
            else:
                out.append(results)
            i += 1
        return out

    def walk(self, values: list, node: tuple) -> list:
        kind = node[0]
        if kind == "list":
            for child in node[1]:
                values = self.walk(values, child)
            return values
        if kind == "text":
            return [node[1]]
        if kind in ("int", "float", "bool"):
            return [node[1]] * len(values)
        return getattr(self, "_" + kind)(values, node)

    def _field(self, values: list, node: tuple) -> list:
        if not values:
            return []
        name = node[1]
        out = [v[name] for v in values if isinstance(v, dict) and name in v]
        if not out and not self.allow_missing:
            raise _Fail(f"{name} is not found")
        return out

    def _ident(self, values: list, node: tuple) -> list:
        if node[1] == "range":
            self.begin += 1
            return values
        if node[1] == "end":
            if self.in_range > 0:
                self.end += 1
                return []
            raise _Fail("not in range, nothing to end")
        raise _Fail(f"unrecognized identifier {node[1]}", values)

    def _array(self, values: list, node: tuple) -> list:
        out: list = []
        for v in values:
            if v is None:
                continue
            if not isinstance(v, (list, tuple)):
                raise _Fail(f"{_go_type(v)} is not array or slice", values)
            (lo, lo_known, _), (hi, hi_known, hi_derived), (step, step_known, _) = node[1]
            n = len(v)
            lo = lo + n if lo_known and lo < 0 else lo if lo_known else 0
            hi = hi if hi_known else n
            if hi < 0 or (hi == 0 and hi_derived):  # `[-1]` is -1:0, i.e. n-1:n
                hi += n
            if lo == hi:
                return out  # client-go stops here, skipping any later values
            if not 0 <= lo < n:
                raise _Fail(f"array index out of bounds: index {lo}, length {n}", values)
            if not 0 <= hi <= n:
                raise _Fail(f"array index out of bounds: index {hi - 1}, length {n}", values)
            if lo > hi:
                raise _Fail(f"starting index {lo} is greater than ending index {hi}", values)
            if step_known and step <= 0:
                raise _Fail("step must be > 0", values)
            out += v[lo:hi:step if step_known else 1]
        return out

    def _wild(self, values: list, node: tuple) -> list:
        return [child for v in values for child in _children(v)]

    def _recur(self, values: list, node: tuple) -> list:
        out = []
        for v in values:
            if kids := _children(v):  # only values with children are listed
                out.append(v)
                out += self._recur(kids, node)
        return out

    def _union(self, values: list, node: tuple) -> list:
        out = []
        for branch in node[1]:
            try:
                out += self.walk(values, ("list", branch))
            except _Fail as e:
                raise _Fail(str(e), values) from None
        return out

    def _filter(self, values: list, node: tuple) -> list:
        _, left, right, op = node
        out = []
        for v in values:
            if not isinstance(v, (list, tuple)):
                raise _Fail(f"{_go_v(v)} is not array or slice and cannot be filtered", values)
            for item in v:
                if op == "exists":
                    try:
                        found = self.walk([item], ("list", left))
                    except _Fail as e:
                        # client-go ignores the error but not what came with it:
                        # `[?(@.a[5])]` keeps items whose `a` is too short.
                        found = e.partial
                    if found:
                        out.append(item)
                    continue
                # A missing operand is no match (not an error); `and` skips the right one.
                a = self._operand(item, left, values)
                b = a and self._operand(item, right, values)
                if b and _compare(op, a[0], b[0]):
                    out.append(item)
        return out

    def _operand(self, item: object, side: list, values: list) -> list:
        got = self.walk([item], ("list", side))
        if len(got) > 1:
            raise _Fail("can only compare one element at a time", values)
        return got


def _children(v: object) -> list:
    if isinstance(v, dict):
        return list(v.values())
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, str):
        return list(v.encode())  # Go indexes a string's bytes
    return []


def _kind(v: object) -> str:
    for kind, types in (("bool", bool), ("int", int), ("float", float), ("string", str)):
        if isinstance(v, types):
            return kind
    raise _Fail("invalid type for comparison")


def _compare(op: str, a: object, b: object) -> bool:
    if op not in ("==", "!=", "<", ">", "<=", ">="):
        raise _Fail(f"unrecognized filter operator {op}")
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        raise _Fail("incompatible types for comparison")
    if ka == "bool" and op not in ("==", "!="):
        raise _Fail("invalid type for comparison")
    return {"==": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


# --- printing, as Go does it ---------------------------------------------------

_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                            "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _print(v: object) -> str:
    return _json(v) if isinstance(v, (dict, list, tuple)) else _text(v)


def _text(v: object) -> str:
    """fmt.Print of a scalar."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _go_float(v, for_json=False)
    return str(v)


def _json(v: object) -> str:
    """encoding/json.Marshal: compact, map keys sorted."""
    if isinstance(v, dict):
        return "{" + ",".join(f"{_json(str(k))}:{_json(v[k])}" for k in sorted(v, key=str)) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(map(_json, v)) + "]"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).translate(_HTML_SAFE)
    if isinstance(v, float):
        return _go_float(v, for_json=True)
    return _text(v)


def _json_indent(v: object, indent: str) -> str:
    """encoding/json.MarshalIndent with four spaces: keys sorted, empty containers on one line."""
    inner = indent + "    "
    if isinstance(v, dict) and v:
        body = ",\n".join(f"{inner}{_json(str(k))}: {_json_indent(v[k], inner)}" for k in sorted(v, key=str))
        return "{\n" + body + "\n" + indent + "}"
    if isinstance(v, (list, tuple)) and v:
        return "[\n" + ",\n".join(inner + _json_indent(x, inner) for x in v) + "\n" + indent + "]"
    return _json(v)


def _go_float(f: float, for_json: bool) -> str:
    if not math.isfinite(f):
        return "NaN" if f != f else "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    sign = "-" if f < 0 else ""
    t = Decimal(repr(abs(f))).normalize().as_tuple()  # repr: shortest round-trip digits
    digits = "".join(map(str, t.digits))
    exp = len(digits) + int(t.exponent) - 1  # f = d.ddd x 10**exp
    if for_json:
        use_e = not -7 < exp < 21  # 'e' below 1e-6 and from 1e21 on
    else:
        use_e = not -5 < exp < 6  # %v is %g with the shortest digits
    if use_e:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        width = 1 if for_json else 2
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):0{width}d}"
    point = exp + 1
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _go_type(v: object) -> str:
    for name, types in (("map[string]interface {}", dict), ("string", str), ("bool", bool),
                        ("int64", int), ("float64", float)):
        if isinstance(v, types):
            return name
    return type(v).__name__


def _go_v(v: object) -> str:
    """fmt's %v, for error messages."""
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_go_v(v[k])}" for k in sorted(v, key=str)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(map(_go_v, v)) + "]"
    return "<nil>" if v is None else _text(v)
