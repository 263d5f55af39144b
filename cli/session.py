"""What every command shares: the session (namespace, actor, store), reading objects, reporting outcomes."""

from __future__ import annotations

import sqlite3
import sys
from datetime import datetime, timezone
from functools import cached_property

from typing import TYPE_CHECKING

import click

from imagetrail.cli.names import deployment_name, namespace_name, stream_name
from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.domain.errors import NotFound, UsageError
from imagetrail.engine.domain.references import quote
from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.settings import Settings
from imagetrail.projections.runner import catch_up
from imagetrail.projections.views import CurrentStateView, open_view

if TYPE_CHECKING:
    from imagetrail.engine.adapters.registry.client import RegistryClient
    from imagetrail.engine.adapters.registry.credentials import CredentialStore


def credential_store(settings: Settings) -> CredentialStore:
    from imagetrail.engine.adapters.registry.credentials import CredentialStore

    return CredentialStore.search(auth_file=settings.registry_auth_file, runtime_dir=settings.xdg_runtime_dir,
                                  docker_config=settings.docker_config)


def registry_client(settings: Settings) -> RegistryClient:
    from imagetrail.engine.adapters.registry.client import RegistryClient

    return RegistryClient.configured(credential_store(settings), timeout=settings.registry_timeout,
                                     retries=settings.registry_retries, backoff=settings.registry_backoff,
                                     platform=settings.import_platform)


def resolver(settings: Settings, *, lazy: bool = False) -> Resolver:
    """The --mirror snapshot, backed by the live registry unless --offline. A write configures the
    client now, so bad registry settings are refused before anything is written; a read (`lazy`)
    imports and configures it only if it ever resolves a tag live."""
    if settings.offline:
        return Resolver.from_file(settings.mirror, None)
    return Resolver.from_file(settings.mirror, LiveRegistry(settings) if lazy else registry_client(settings))


class LiveRegistry:
    """The registry client, imported and configured at the first live lookup."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client: RegistryClient | None = None

    def resolve(self, ref, **options) -> str:
        if self._client is None:
            self._client = registry_client(self.settings)
        return self._client.resolve(ref, **options)


class Session:
    """What every command needs: the settings, the namespace, the actor and the (lazily opened) engine."""

    def __init__(self, settings: Settings, *, namespace_given: bool = False):
        self.settings = settings
        # kubectl enforces the namespace on objects from files only when --namespace was given on the
        # command line (clientcmd's Namespace() "overridden"); the context's namespace, like
        # IMAGETRAIL_NAMESPACE here, is only the default for objects that carry none
        self.namespace_given = namespace_given
        self.actor = settings.actor  # None: the OS user
        self._app: ImageTrail | None = None

    @cached_property
    def namespace(self) -> str:
        """-n, else $IMAGETRAIL_NAMESPACE, else default; checked when a command first uses it."""
        return namespace_name(self.settings.namespace or "default")

    @property
    def app(self) -> ImageTrail:
        """The engine, for reading: a store that does not exist yet is an error, not created."""
        return self._open(create=False)

    @property
    def writer(self) -> ImageTrail:
        """The engine, for a command that writes: the store is created on first use."""
        self.namespace  # a bad namespace is refused before a store is created for it
        return self._open(create=True)

    def _open(self, *, create: bool) -> ImageTrail:
        if self._app is None:
            store = parse_store(self.settings)
            created = store.prepare(create=create)
            try:
                self._app = ImageTrail(store, resolver(self.settings, lazy=not create),
                                       internal_registry=self.settings.internal_registry)
            except sqlite3.DatabaseError as e:  # --store names a file that is no SQLite database
                raise UsageError(f"invalid store {quote(store.url)}: {e}") from None
            finally:
                if created:
                    self._discard_unless_written(store, created)
        return self._app

    def _discard_unless_written(self, store, created) -> None:
        """Only a write creates a store: if the command that created it fails (or writes nothing),
        the empty store goes when the command ends."""
        def discard() -> None:
            if self._app is None or not self._app.recorder.max_notification_id():
                store.discard(created)
        ctx = click.get_current_context(silent=True)
        if ctx is not None:
            ctx.find_root().call_on_close(discard)

    @cached_property
    def _view(self) -> CurrentStateView:
        return open_view(self.app.views_path, self.app.source)

    @property
    def view(self) -> CurrentStateView:
        """The current-state projection, brought up to date with the log first."""
        catch_up(self.app, self._view)
        return self._view

    at: str | None = None  # --at POSITION|TIME on read commands

    @cached_property
    def reader(self):
        """Where read commands get objects: the current state, or the state `--at` a past point."""
        if self.at is None:
            return self.view
        from imagetrail.projections.asof import AsOf

        return AsOf(self.app, self.view, self.log_position(self.at, "--at"))

    @cached_property
    def history(self):
        """The past as the rollback use cases read it: the projections, caught up with the log."""
        from imagetrail.projections.history_reader import ProjectionHistory

        return ProjectionHistory(self.app, lambda: self.view)

    def log_position(self, value: str, flag: str) -> int:
        """A log position typed by the user, or the last position at a time (RFC 3339 or 2h):
        within the log as it stands, never past its head nor in the future."""
        from imagetrail.engine.domain.parsing import is_integer, parse_int, parse_moment
        from imagetrail.engine.service.rollback import log_position

        history = self.history
        self.view  # caught up before the head is read, as the answer's position is
        if is_integer(value):
            return log_position(history, position=parse_int(value, flag, minimum=1, maximum=10**30))
        now = datetime.now(timezone.utc)
        return log_position(history, moment=parse_moment(value, flag, now), as_typed=value, now=now)

    @property
    def now(self) -> datetime:
        """The moment ages are measured from: now, or the --at moment."""
        moment = getattr(self.reader, "moment", None) if self.at else None
        return moment or datetime.now(timezone.utc)


def at_option(command):
    """--at POSITION|TIME: answer as the state was then."""
    def remember(ctx: click.Context, _param, value):
        if value is not None:
            ctx.find_object(Session).at = value
        return value
    return click.option("--at", expose_value=False, callback=remember, is_eager=True,
                        help="Show the state as it was at a log position or a time (RFC 3339, or 2h ago).")(command)


pass_session = click.make_pass_decorator(Session)


DEPLOYMENT_KINDS = ("deployment", "deployments", "deploy", "deployments.apps", "deployment.apps")


def split_resource(text: str, kinds: tuple[str, ...] = DEPLOYMENT_KINDS) -> str:
    """deployment/NAME -> NAME, a valid object name."""
    kind, sep, name = text.partition("/")
    if not sep or kind not in kinds or not name:
        raise UsageError(f"{quote(text)} is not a Deployment: use deployment/NAME")
    return deployment_name(name)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def get_stream(s: Session, name: str):
    state = s.reader.get("imagestream", s.namespace, stream_name(s.namespace, name))
    if state is None:
        raise NotFound(f"imagestreams.image.openshift.io {quote(name)} not found")
    return state


def get_deployment(s: Session, name: str):
    state = s.reader.get("deployment", s.namespace, deployment_name(name))
    if state is None:
        raise NotFound(f"deployments.apps {quote(name)} not found")
    return state


def read_documents(filename: str) -> list:
    from imagetrail.engine.adapters.decoding import decode  # YAML: only for the commands that read files

    try:
        if filename == "-":
            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        else:
            with open(filename, "rb") as f:
                data = f.read()
    except OSError as e:
        raise UsageError(f"cannot read {filename}: {e.strerror}") from None
    return decode(data, "standard input" if filename == "-" else filename)
