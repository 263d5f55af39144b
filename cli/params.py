"""Click parameter types over engine.parsing: every number a flag takes is read by one parser."""

from __future__ import annotations

import click

from imagetrail.engine.domain.parsing import INT64_MAX, ValueRejected, parse_int, parse_seconds
from imagetrail.engine.domain.references import quote


class Whole(click.ParamType):
    """A whole number in [minimum, maximum], ASCII digits only (click.IntRange takes "٣" and "1_0")."""

    name = "integer"

    def __init__(self, minimum: int = 0, maximum: int = INT64_MAX):
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return parse_int(value, _flag(param), minimum=self.minimum, maximum=self.maximum)
        except ValueRejected as e:
            self.fail(f"{quote(e.value)}: {e.rule}", param, ctx)


class Seconds(click.ParamType):
    """A number of seconds in [minimum, maximum] (click.FloatRange takes "nan", "inf" and "١")."""

    name = "seconds"

    def __init__(self, minimum: float = 0.0, maximum: float = 86400.0):
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        try:
            return parse_seconds(value, _flag(param), minimum=self.minimum, maximum=self.maximum)
        except ValueRejected as e:
            self.fail(f"{quote(e.value)}: {e.rule}", param, ctx)


def _flag(param) -> str:
    return param.opts[0] if param is not None and param.opts else "value"
