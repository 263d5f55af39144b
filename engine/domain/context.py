"""Who is acting, and which command a change belongs to.

Every event records its actor and the correlation id of the command that caused it.
The application opens a command context; events pick the values up when they are made,
so domain methods do not have to thread them through every call.
"""

from __future__ import annotations

import contextlib
import getpass
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field


def default_actor() -> str:
    """The OS user, when the caller names no actor (the CLI passes --as or IMAGETRAIL_ACTOR)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


@dataclass(frozen=True)
class CommandContext:
    actor: str = field(default_factory=default_actor)
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    reason: str = ""
    command: str = ""  # what the user typed, e.g. "imagetrail tag quay.io/… keycloak:20"
    observed: str = ""  # a change seen on a cluster: "<resource>/<namespace>/<name>@<resourceVersion>"


_current: ContextVar[CommandContext | None] = ContextVar("imagetrail_command", default=None)


def current() -> CommandContext:
    ctx = _current.get()
    if ctx is None:
        # Outside a command (tests, scripts): a one-off context per event.
        return CommandContext()
    return ctx


@contextlib.contextmanager
def command(actor: str | None = None, reason: str = "", description: str = "",
            observed: str = "") -> Iterator[CommandContext]:
    outer = _current.get()
    if outer is not None:  # nested commands share the outer command's identity
        yield outer
        return
    ctx = CommandContext(actor=actor or default_actor(), reason=reason, command=description, observed=observed)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
