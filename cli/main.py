"""The `imagetrail` command line: oc's verbs and flags over the imagetrail engine.

This module only parses arguments and prints; the engine decides everything.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import datetime, timezone
from functools import cached_property

import click

from imagetrail.cli import printers
from imagetrail.cli.describe import describe_imagestream
from eventsourcing.persistence import PersistenceError

from imagetrail.cli.names import deployment_name, istag_name, namespace_name, stream_name
from imagetrail.cli.params import Whole
from imagetrail.engine.application import ImageTrail, Outcome
from imagetrail.engine.decoding import decode
from imagetrail.engine.errors import ImagetrailError, NotFound, UsageError, strip_error_prefix
from imagetrail.engine.parsing import INT32_MAX
from imagetrail.engine.references import ReferenceError, one_line, quote
from imagetrail.engine.resolver import Resolver
from imagetrail.engine.stores import parse_store
from imagetrail.projections import documents
from imagetrail.projections.runner import catch_up, rebuild
from imagetrail.projections.views import CurrentStateView, open_view

# kubectl-style global flags, accepted before or after the verb
GLOBAL_FLAGS = {"-n": "--namespace", "--namespace": "--namespace", "--store": "--store",
                "--as": "--as", "--mirror": "--mirror"}
GLOBAL_SWITCHES = {"--offline"}


class Session:
    """What every command needs: the namespace, the actor and the (lazily opened) engine."""

    def __init__(self, namespace: str | None, store: str | None, actor: str | None, mirror: str | None,
                 offline: bool = False):
        # kubectl enforces the namespace on objects from files only when --namespace was given on the
        # command line (clientcmd's Namespace() "overridden"); the context's namespace, like
        # IMAGETRAIL_NAMESPACE here, is only the default for objects that carry none
        self.namespace_given = namespace is not None
        self._namespace = namespace
        self.store_url = store
        self.actor = actor
        self.mirror = mirror
        self.offline = offline
        self._app: ImageTrail | None = None

    @cached_property
    def namespace(self) -> str:
        """-n, else $IMAGETRAIL_NAMESPACE, else default; checked when a command first uses it."""
        return namespace_name(self._namespace or os.environ.get("IMAGETRAIL_NAMESPACE") or "default")

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
            store = parse_store(self.store_url)
            created = store.prepare(create=create)
            try:
                self._app = ImageTrail(store, Resolver.from_file(self.mirror, live=not self.offline))
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

    def log_position(self, value: str, flag: str, *, by_time: bool | None = None) -> int:
        """A log position typed by the user, or the last position at a time (RFC 3339 or 2h):
        within the log as it stands, never past its head nor in the future."""
        from imagetrail.engine.parsing import is_integer, parse_int, parse_moment, timestamp

        view = self.view
        head = self.app.recorder.max_notification_id() or 0
        if by_time is False or (by_time is None and is_integer(value)):
            position = parse_int(value, flag, minimum=1, maximum=10**30)
            if position > head:
                raise UsageError(f"position {position} is past the head of the log ({head})")
            return position
        now = datetime.now(timezone.utc)
        moment = parse_moment(value, flag, now)
        if moment > now:
            raise UsageError(f"time {timestamp(moment)} is in the future (now {timestamp(now)}): "
                             f"the log ends at position {head}")
        position = view.position_at(timestamp(moment))
        if position is None:
            raise UsageError(f"nothing was recorded at or before {quote(value)}")
        return position

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


def report(outcome: Outcome) -> None:
    for line in outcome.lines:
        click.echo(line)
    for line in outcome.rollouts + outcome.notices:
        click.echo(f"info: {line}", err=True)
    for line in outcome.warnings:
        click.echo(f"Warning: {line}", err=True)
    for failure in outcome.failures:
        click.echo(f"error: tag {failure.tag} failed: {one_line(failure.message)}", err=True)
    if outcome.failures:
        raise SystemExit(1)


DEPLOYMENT_KINDS = ("deployment", "deployments", "deploy", "deployments.apps", "deployment.apps")


def split_resource(text: str, kinds: tuple[str, ...] = DEPLOYMENT_KINDS) -> str:
    """deployment/NAME -> NAME, a valid object name."""
    kind, sep, name = text.partition("/")
    if not sep or kind not in kinds or not name:
        raise UsageError(f"{quote(text)} is not a Deployment: use deployment/NAME")
    return deployment_name(name)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-n", "--namespace", help="Namespace (default: $IMAGETRAIL_NAMESPACE, else 'default').")
@click.option("--store", help="Event store URL: sqlite:///ABS/PATH.db (default under $XDG_DATA_HOME) "
                              "or memory:// (default: $IMAGETRAIL_STORE).")
@click.option("--as", "actor", help="Actor recorded on the events (default: $IMAGETRAIL_ACTOR, else the OS user).")
@click.option("--mirror", help="Registry snapshot JSON (pull spec → digest) for resolving tags "
                               "(default: $IMAGETRAIL_MIRROR). Tags it lacks are looked up in the registry.")
@click.option("--offline", is_flag=True, envvar="IMAGETRAIL_OFFLINE",
              help="Never contact a registry: resolve only pinned digests and the --mirror file.")
@click.version_option(package_name="imagetrail")
@click.pass_context
def cli(ctx: click.Context, namespace, store, actor, mirror, offline) -> None:
    """imagetrail: oc's image stream and trigger workflow, recorded as events.

    Type the commands you would type with `oc`, with `imagetrail` instead: every tag
    move, alias, import and trigger change becomes an event you can audit and roll back.
    """
    ctx.obj = Session(namespace, store, actor, mirror, offline)
    ctx.obj.namespace  # a bad -n or $IMAGETRAIL_NAMESPACE is refused whatever the command


# -- create ---------------------------------------------------------------------------------

@cli.group()
def create() -> None:
    """Create an image stream tag or a Deployment."""


@create.command("istag")
@click.argument("name")
@click.option("--from-image", help="Pull spec of a container image to import (e.g. quay.io/org/repo:tag).")
@click.option("--from", "from_", help="Image stream tag ([ns/]is:tag, an alias) or image ([ns/]is@id) to use.")
@click.option("--scheduled", is_flag=True, help="Re-import the image periodically.")
@click.option("--insecure", is_flag=True, help="Allow HTTP or unverified HTTPS for the import.")
@click.option("--reference", is_flag=True, help="Point at the image without importing it.")
@click.option("--reference-policy", default="source", show_default=True, help="source or local.")
@click.option("-A", "--annotation", "annotations", multiple=True, help="Tag annotation KEY=VALUE.")
@pass_session
def create_istag(s: Session, name, from_image, from_, scheduled, insecure, reference, reference_policy, annotations):
    """Create an image stream tag NAME (stream:tag); never overwrites an existing one."""
    parsed = {}
    for a in annotations:
        key, sep, value = a.partition("=")
        if not sep or not key:
            raise UsageError(f"invalid annotation {quote(a)}: use KEY=VALUE")
        parsed[key] = value
    report(s.writer.create_istag(s.namespace, name, from_image=from_image, from_=from_, scheduled=scheduled,
                              insecure=insecure, reference=reference, reference_policy=reference_policy,
                              annotations=parsed or None, actor=s.actor))


@create.command("deployment")
@click.argument("name")
@click.option("--image", "images", multiple=True, required=True, help="Container image; repeat for more containers.")
@click.option("--replicas", type=Whole(0, INT32_MAX), default=1, show_default=True)
@pass_session
def create_deployment(s: Session, name, images, replicas):
    """Create a Deployment. A short `stream:tag` image resolves to its digest when the
    image stream in this namespace has local lookup enabled (`set image-lookup`)."""
    report(s.writer.create_deployment(s.namespace, name, list(images), replicas=replicas, actor=s.actor))


# -- import-image and tag ---------------------------------------------------------------------------

@cli.command("import-image")
@click.argument("target")
@click.option("--from", "from_", help="Pull spec to import from (default: TARGET itself).")
@click.option("--confirm", is_flag=True, help="Create the image stream if it does not exist.")
@click.option("--scheduled", is_flag=True, help="Re-import the tag periodically.")
@click.option("--insecure", is_flag=True)
@click.option("--reference-policy", default="source", show_default=True)
@click.option("--import-mode", default="Legacy", show_default=True, help="Legacy or PreserveOriginal.")
@pass_session
def import_image(s: Session, target, from_, confirm, scheduled, insecure, reference_policy, import_mode):
    """Import the image of TARGET (stream[:tag], tag defaults to latest) from its registry."""
    outcome = s.writer.import_image(s.namespace, target, from_=from_, confirm=confirm, scheduled=scheduled,
                                 insecure=insecure, reference_policy=reference_policy,
                                 import_mode=import_mode, actor=s.actor)
    stream = s.view.get("imagestream", s.namespace, target.partition(":")[0])
    if stream is not None:
        outcome.lines += ["", describe_imagestream(documents.imagestream(stream), _now()).rstrip("\n")]
    report(outcome)


@cli.command()
@click.argument("args", nargs=-1, required=True)
@click.option("--alias", is_flag=True, help="DEST tracks SOURCE (same image stream only).")
@click.option("--reference", is_flag=True, help="Point at SOURCE without importing it.")
@click.option("--scheduled", is_flag=True, help="Re-import a container image periodically.")
@click.option("--insecure", is_flag=True)
@click.option("--reference-policy", default="source", show_default=True, help="source or local.")
@click.option("--import-mode", default="Legacy", show_default=True)
@click.option("--source", "source_kind", help="istag, isimage or docker (default: guessed from SOURCE).")
@click.option("-d", "--delete", is_flag=True, help="Delete the given tags.")
@pass_session
def tag(s: Session, args, alias, reference, scheduled, insecure, reference_policy, import_mode, source_kind, delete):
    """Point DEST tags at SOURCE:  imagetrail tag SOURCE DEST [DEST…]  |  imagetrail tag -d DEST…

    SOURCE is a pull spec with a registry (imported), `is:tag` (copied by digest, or
    tracked with --alias) or `is@sha256:…`. A bare `name:tag` is an image stream tag
    in the current namespace, never Docker Hub.
    """
    if delete:
        if alias:
            raise UsageError("--alias and --delete may not be both specified")
        if source_kind:
            raise UsageError("cannot specify a source kind when deleting")
        if scheduled or insecure:
            raise UsageError("cannot set flags for importing images when deleting a tag")
        report(s.writer.delete_tags(s.namespace, list(args), actor=s.actor))
        return
    if len(args) < 2:
        raise UsageError("you must specify a source and at least one destination: imagetrail tag SOURCE DEST [DEST…]")
    report(s.writer.tag(s.namespace, args[0], list(args[1:]), alias=alias, reference=reference, scheduled=scheduled,
                     insecure=insecure, reference_policy=reference_policy, import_mode=import_mode,
                     source_kind=source_kind, actor=s.actor))


# -- set --------------------------------------------------------------------------------------------

@cli.group("set")
def set_() -> None:
    """Set image lookup, triggers or images."""


@set_.command("image-lookup")
@click.argument("names", nargs=-1)
@click.option("--enabled", type=click.BOOL, default=True, show_default=True)
@pass_session
def set_image_lookup(s: Session, names, enabled):
    """Let Deployments in this namespace use image stream NAMES by short name."""
    if not names:
        rows = [["NAME", "LOCAL"]] + [[st.name, str(st.lookup_local).lower()]
                                      for st in s.view.list("imagestream", s.namespace)]
        click.echo(printers.table(rows), nl=False)
        return
    report(s.writer.set_image_lookup(s.namespace, list(names), enabled=enabled, actor=s.actor))


@set_.command("triggers")
@click.argument("resource")
@click.option("--from-image", help="Image stream tag (is:tag) to follow.")
@click.option("-c", "--containers", multiple=True, help="Containers the trigger updates (comma-separated).")
@click.option("--auto", is_flag=True, help="Enable triggers (and resume the Deployment).")
@click.option("--manual", is_flag=True, help="Pause triggers (and pause the Deployment).")
@click.option("--remove", is_flag=True, help="Remove the --from-image trigger.")
@click.option("--remove-all", is_flag=True, help="Remove all triggers (and pause the Deployment).")
@at_option
@pass_session
def set_triggers(s: Session, resource, from_image, containers, auto, manual, remove, remove_all):
    """List or change the image triggers of a Deployment."""
    name = split_resource(resource)
    if not (from_image or containers or auto or manual or remove or remove_all):
        click.echo(_triggers_table(s, name), nl=False)
        return
    if s.at is not None:
        raise UsageError("--at only reads the past: drop it to change triggers")
    report(s.writer.set_triggers(s.namespace, name, from_image=from_image, containers=list(containers), auto=auto,
                              manual=manual, remove=remove, remove_all=remove_all, actor=s.actor))


def _triggers_table(s: Session, name: str) -> str:
    from imagetrail.engine.triggerset import TriggerDefinition
    state = _get_deployment(s, name)
    definition = TriggerDefinition.of(state)
    rows = [["NAME", "TYPE", "VALUE", "AUTO"], [f"deployments/{name}", "config", "", str(definition.config).lower()]]
    for t in definition.images:
        source = f"{t.namespace}/{t.source}" if t.namespace else t.source
        rows.append([f"deployments/{name}", "image", f"{source} ({', '.join(t.names)})", str(t.auto).lower()])
    return printers.table(rows, padding=2)


@set_.command("image")
@click.argument("resource")
@click.argument("images", nargs=-1, required=True)
@pass_session
def set_image(s: Session, resource, images):
    """Set container images: imagetrail set image deployment/NAME CONTAINER=IMAGE…"""
    name = split_resource(resource)
    parsed = {}
    for item in images:
        container, sep, image = item.partition("=")
        if not sep or not container or not image:
            raise UsageError(f"invalid image argument {quote(item)}: use CONTAINER=IMAGE")
        parsed[container] = image
    report(s.writer.set_image(s.namespace, name, parsed, actor=s.actor))


# -- get and describe -----------------------------------------------------------------------------

RESOURCES = {
    "is": "imagestream", "imagestream": "imagestream", "imagestreams": "imagestream",
    "istag": "istag", "imagestreamtag": "istag", "imagestreamtags": "istag",
    "deployment": "deployment", "deployments": "deployment", "deploy": "deployment",
    "deployment.apps": "deployment", "deployments.apps": "deployment",
}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _get_stream(s: Session, name: str):
    state = s.reader.get("imagestream", s.namespace, stream_name(s.namespace, name))
    if state is None:
        raise NotFound(f"imagestreams.image.openshift.io {quote(name)} not found")
    return state


def _get_deployment(s: Session, name: str):
    state = s.reader.get("deployment", s.namespace, deployment_name(name))
    if state is None:
        raise NotFound(f"deployments.apps {quote(name)} not found")
    return state


@cli.command()
@click.argument("resource")
@click.argument("name", required=False)
@printers.output_options
@at_option
@pass_session
def get(s: Session, resource, name, output: printers.Output):
    """Show image streams (is), image stream tags (istag) or Deployments."""
    if "/" in resource and name is None:
        resource, name = resource.split("/", 1)
    kind = RESOURCES.get(resource.lower())
    if kind is None:
        raise UsageError(f"the server doesn't have a resource type {quote(resource)} (use is, istag or deployment)")
    now = s.now
    if kind == "imagestream":
        states = [_get_stream(s, name)] if name else s.reader.list("imagestream", s.namespace)
        docs = [documents.imagestream(st) for st in states]
        plain = lambda: [["NAME", "IMAGE REPOSITORY", "TAGS", "UPDATED"]] + [
            [st.name, st.repository, ",".join(_tag_names(st)), _updated(st, now)] for st in states]
        text = printers.emit(output, docs, bool(name), plain=plain, resource="imagestream.image.openshift.io")
    elif kind == "istag":
        docs = _istags(s, name)
        plain = lambda: [["NAME", "IMAGE REFERENCE", "UPDATED"]] + [
            [d["metadata"]["name"], d["image"]["dockerImageReference"],
             printers.ago(datetime.fromisoformat(d["metadata"]["creationTimestamp"]), now)] for d in docs]
        text = printers.emit(output, docs, bool(name), plain=plain, resource="imagestreamtag.image.openshift.io")
    else:
        states = [_get_deployment(s, name)] if name else s.reader.list("deployment", s.namespace)
        docs = [documents.deployment(st) for st in states]

        def rows(wide: bool) -> list[list[str]]:
            head = ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
            head += ["CONTAINERS", "IMAGES", "SELECTOR"] if wide else []
            body = []
            for st in states:
                row = [st.name, f"{st.replicas}/{st.replicas}", str(st.replicas), str(st.replicas),
                       printers.age(st.created, now)]
                if wide:
                    row += [",".join(c.name for c in st.containers), ",".join(c.image for c in st.containers),
                            ",".join(f"{k}={v}" for k, v in (st.labels or {"app": st.name}).items())]
                body.append(row)
            return [head] + body

        text = printers.emit(output, docs, bool(name), plain=lambda: rows(False), wide=lambda: rows(True),
                             resource="deployment.apps")
    if not docs and not name and output.format in ("", "wide"):  # kubectl: human-readable printers only
        click.echo(f"No resources found in {s.namespace} namespace.", err=True)
        return
    click.echo(text, nl=False)


def _istags(s: Session, name: str | None) -> list[dict]:
    if name:
        if ":" not in name:
            raise UsageError("ImageStreamTags must be retrieved with <name>:<tag>")
        stream, tag = istag_name(s.namespace, name)
        state = s.reader.get("imagestream", s.namespace, stream)
        doc = documents.imagestreamtag(state, tag) if state else None
        if doc is None:
            raise NotFound(f"imagestreamtags.image.openshift.io {quote(name)} not found")
        return [doc]
    found = []
    for state in s.reader.list("imagestream", s.namespace):
        for tag in sorted(state.status_tags):
            doc = documents.imagestreamtag(state, tag)
            if doc:
                found.append(doc)
    return found


def _tag_names(state) -> list[str]:
    from imagetrail.cli.describe import prioritize_tags
    return prioritize_tags([t for t in state.status_tags if state.status_tags[t].items])


def _updated(state, now: datetime) -> str:
    heads = [h.items[0].created for h in state.status_tags.values() if h.items]
    return printers.ago(max(heads), now) if heads else ""


@cli.command()
@click.argument("resource")
@click.argument("name", required=False)
@at_option
@pass_session
def describe(s: Session, resource, name):
    """Describe an image stream, as `oc describe is NAME` prints it."""
    if "/" in resource and name is None:
        resource, name = resource.split("/", 1)
    if RESOURCES.get(resource.lower()) != "imagestream":
        raise UsageError("describe supports image streams: imagetrail describe is NAME")
    names = [name] if name else [st.name for st in s.reader.list("imagestream", s.namespace)]
    texts = [describe_imagestream(documents.imagestream(_get_stream(s, n)), s.now) for n in names]
    click.echo("\n\n".join(t.rstrip("\n") for t in texts))


# -- rollout ---------------------------------------------------------------------------------------

@cli.group()
def rollout() -> None:
    """Pause, resume or inspect Deployment rollouts."""


@rollout.command("pause")
@click.argument("resource")
@pass_session
def rollout_pause(s: Session, resource):
    """Pause rollouts; the template still follows triggers, the rollout waits for resume."""
    report(s.writer.pause(s.namespace, split_resource(resource), actor=s.actor))


@rollout.command("resume")
@click.argument("resource")
@pass_session
def rollout_resume(s: Session, resource):
    """Resume rollouts: one rollout to the current template if it changed while paused."""
    report(s.writer.resume(s.namespace, split_resource(resource), actor=s.actor))


@rollout.command("undo")
@click.argument("resource")
@click.option("--to-revision", type=Whole(1, INT32_MAX), help="The revision to go back to (default: the previous).")
@click.option("--reason", default="", help="Why: recorded on the events.")
@pass_session
def rollout_undo(s: Session, resource, to_revision, reason):
    """Set a Deployment's template back to an earlier revision (refused for containers that follow a tag)."""
    report(s.writer.undo_rollout(s.namespace, split_resource(resource), to_revision=to_revision, actor=s.actor,
                              reason=reason))


@rollout.command("history")
@click.argument("resource")
@at_option
@pass_session
def rollout_history(s: Session, resource):
    """List a Deployment's revisions with their images and what caused each."""
    name = split_resource(resource)
    state = _get_deployment(s, name)
    rows = [["REVISION", "IMAGES", "CHANGE-CAUSE"]] + [
        [str(r.number), ",".join(f"{c}={i}" for c, i in r.images.items()), r.change_cause or "<none>"]
        for r in state.revisions]
    click.echo(f"deployment.apps/{name} \n" + printers.table(rows, padding=2), nl=False)


# -- doctor ---------------------------------------------------------------------------------------

@cli.command()
@click.argument("resource")
@click.option("-o", "--output", type=click.Choice(["json"]), help="json: every check as an object.")
@pass_session
def doctor(s: Session, resource, output):
    """Check why a Deployment does or does not follow its image stream tags.

    Each check passes or fails with the command that fixes it; the exit status is 0 only
    when all pass.
    """
    from imagetrail.engine.doctor import examine

    name = split_resource(resource)
    checks = examine(_get_deployment(s, name), lambda ns, stream: s.view.get("imagestream", ns, stream))
    if output:
        click.echo(json.dumps({"deployment": name, "ok": all(c.ok for c in checks),
                               "checks": [c.as_dict() for c in checks]}, indent=2))
    else:
        for c in checks:
            where = f"[{c.container}] " if c.container else ""
            click.echo(f"{'PASS' if c.ok else 'FAIL'}  {where}{c.name}: {c.detail}")
            if c.fix:
                click.echo(f"      fix: {c.fix}")
    if not all(c.ok for c in checks):
        raise SystemExit(1)


# -- apply ---------------------------------------------------------------------------------------

@cli.command()
@click.option("-f", "--filename", "filename", required=True, help="YAML or JSON file of objects; - for stdin.")
@pass_session
def apply(s: Session, filename):
    """Create or update ImageStreams and Deployments from real API objects (kind: List too)."""
    objects = _read_documents(filename)  # a bad file is refused before a store is opened or created
    report(s.writer.apply(s.namespace, objects, actor=s.actor, enforce_namespace=s.namespace_given))


def _read_documents(filename: str) -> list:
    try:
        if filename == "-":
            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        else:
            with open(filename, "rb") as f:
                data = f.read()
    except OSError as e:
        raise UsageError(f"cannot read {filename}: {e.strerror}") from None
    return decode(data, "standard input" if filename == "-" else filename)


@cli.command("import")
@click.option("-f", "--filename", "filename", required=True,
              help="What oc get is|deploy -o yaml|json printed (kind: List too); - for stdin.")
@pass_session
def import_(s: Session, filename):
    """Record a cluster's existing ImageStreams (spec and whole history) and Deployments."""
    objects = _read_documents(filename)
    report(s.writer.import_cluster(s.namespace, objects, source=filename, actor=s.actor,
                                   enforce_namespace=s.namespace_given))


# -- projections -----------------------------------------------------------------------------------

@cli.group()
def projections() -> None:
    """Maintain the read-side projections."""


@projections.command("rebuild")
@pass_session
def projections_rebuild(s: Session):
    """Replay the whole log into fresh projections."""
    from rich.progress import Progress

    view = s._view
    total = s.app.recorder.max_notification_id() or 0
    with Progress(transient=True) as progress:
        task = progress.add_task("rebuilding projections", total=total or 1)
        count = rebuild(s.app, view, lambda done, _: progress.update(task, completed=done))
    click.echo(f"projections rebuilt from {count} events")


@cli.command()
@click.option("--keep", is_flag=True, help="Keep the scratch store and print its URL.")
def demo(keep):
    """Run the lecture's image-trigger workflow on a scratch store, printing each step."""
    from imagetrail.cli.demo import run_demo

    raise SystemExit(run_demo(keep=keep))


from imagetrail.cli import audit, controller, events  # noqa: E402  (commands registered on the group below)

for command in (audit.history, audit.log_, audit.rollback, audit.verify, events.events, events.schema,
                controller.controller):
    cli.add_command(command)


# -- entry point -----------------------------------------------------------------------------------

def hoist_global_flags(argv: list[str]) -> list[str]:
    """Move global flags given after the verb in front of it, as kubectl accepts them anywhere."""
    front, rest, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg in GLOBAL_SWITCHES:
            front.append(arg)
            i += 1
            continue
        name, eq, value = arg.partition("=")
        if name in GLOBAL_FLAGS and (eq or i + 1 < len(argv)):
            front += [GLOBAL_FLAGS[name], value if eq else argv[i + 1]]
            i += 1 if eq else 2
            continue
        rest.append(arg)
        i += 1
    return front + rest


def fail(message: str, code: int) -> None:
    """The last word on every error: "error: " once, then the message on a single line."""
    click.echo(f"error: {one_line(strip_error_prefix(message))}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    args = hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
    try:
        cli.main(args, prog_name="imagetrail", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.UsageError as e:  # one line, like every other error, with where to look
        where = e.ctx.command_path if e.ctx else "imagetrail"
        fail(f"{e.format_message()} (see '{where} --help')", e.exit_code)
    except click.ClickException as e:
        fail(e.format_message(), e.exit_code)
    except click.Abort:
        sys.exit(1)
    except ImagetrailError as e:
        fail(str(e), e.exit_code)
    except ReferenceError as e:  # a name the engine's rules refused (engine.references)
        fail(str(e), 1)
    except PersistenceError as e:  # the store: unreachable broker, unsafe topic, …
        fail(str(e), 1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # never a traceback for users; opt in when debugging
        if os.environ.get("IMAGETRAIL_DEBUG"):
            raise
        fail(f"unexpected {type(e).__name__}: {e} (IMAGETRAIL_DEBUG=1 shows the traceback)", 1)
