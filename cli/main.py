"""The `imagetrail` command line: oc's verbs and flags over the imagetrail engine.

The verbs live one group to a module (tags, deployments, reads, bootstrap, history,
rollback, events, controller); this module builds the command tree and is the entry
point that turns every error into one `error:` line.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

import click

from imagetrail.engine.domain.errors import ImagetrailError, strip_error_prefix
from imagetrail.engine.domain.references import ReferenceError, one_line

if TYPE_CHECKING:
    from imagetrail.cli.session import Session
    from imagetrail.engine.settings import Settings

# kubectl-style global flags, accepted before or after the verb
GLOBAL_FLAGS = {"-n": "--namespace", "--namespace": "--namespace", "--store": "--store",
                "--as": "--as", "--mirror": "--mirror"}
GLOBAL_SWITCHES = {"--offline"}


class LazyGroup(click.Group):
    """A group whose verbs' modules are imported only when that verb runs: start-up is most of a
    command's time, and `get` need not load the registry client, Kafka, YAML or every verb.

    `lazy` maps a verb to "module:attribute" and its short help (the first paragraph of its
    docstring, checked against the loaded command by tests/unit/test_lazy_commands.py), so
    `--help` lists the verbs, in click's order and wording, without importing them."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name][0].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as e:  # click suggests from the loaded verbs only
            raise click.exceptions.NoSuchCommand(e.command_name, possibilities=self.list_commands(ctx),
                                                 ctx=ctx) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        # an unloaded verb's row comes from a stand-in with its help: click shortens it the same way
        rows = [(name, (self.commands.get(name) or click.Command(name, help=self.lazy[name][1]))
                 .get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy={
    "apply": ("imagetrail.cli.bootstrap:apply",
              "Create or update ImageStreams and Deployments from real API objects (kind: List too)."),
    "controller": ("imagetrail.cli.controller:controller",
                   "Re-import every tag with importPolicy.scheduled, on an interval."),
    "describe": ("imagetrail.cli.reads:describe", "Describe an image stream, as `oc describe is NAME` prints it."),
    "diff": ("imagetrail.cli.bootstrap:diff",
             "Show what the cluster's objects have that imagetrail does not, and the reverse: exit 1 on drift."),
    "doctor": ("imagetrail.cli.deployments:doctor",
               "Check why a Deployment does or does not follow its image stream tags."),
    "events": ("imagetrail.cli.events:events", "Read the event stream, for other tools."),
    "get": ("imagetrail.cli.reads:get", "Show image streams (is), image stream tags (istag) or Deployments."),
    "history": ("imagetrail.cli.history:history",
                "Every change of IS:TAG, or every image change of deployment/NAME, newest first."),
    "import": ("imagetrail.cli.bootstrap:import_",
               "Record a cluster's existing ImageStreams (spec and whole history) and Deployments."),
    "import-image": ("imagetrail.cli.tags:import_image",
                     "Import the image of TARGET (stream[:tag], tag defaults to latest) from its registry."),
    "log": ("imagetrail.cli.history:log_", "The event log, newest first, filtered."),
    "migrate": ("imagetrail.cli.store:migrate",
                "Copy every event into the store at --to, keeping ids, versions, content and order; run it\n"
                "    again to finish an interrupted copy."),
    "rollback": ("imagetrail.cli.rollback:rollback",
                 "Move IS:TAG (or --all tags of the namespace) back to an image it had before, by new\n"
                 "    events: history is never rewritten."),
    "schema": ("imagetrail.cli.events:schema", "Print the JSON Schema of every event type and read model "
               "(or of TYPES): the contract for consumers."),
    "tag": ("imagetrail.cli.tags:tag",
            "Point DEST tags at SOURCE:  imagetrail tag SOURCE DEST [DEST…]  |  imagetrail tag -d DEST…"),
    "watch": ("imagetrail.cli.bootstrap:watch",
              "Record each change a cluster's watch stream shows, as the cluster made it; runs until the\n"
              "    stream ends."),
    "verify": ("imagetrail.cli.history:verify",
               "Check the log's hash chain: ok with the count and head hash, or where and why it breaks."),
}, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-n", "--namespace", help="Namespace (default: $IMAGETRAIL_NAMESPACE, else 'default').")
@click.option("--store", help="Event store URL: sqlite:///ABS/PATH.db (default under $XDG_DATA_HOME), "
                              "kafka://HOST:PORT[,HOST:PORT]/TOPIC (a topic per namespace when TOPIC holds "
                              "{namespace}) or memory:// (default: $IMAGETRAIL_STORE).")
@click.option("--as", "actor", help="Actor recorded on the events (default: $IMAGETRAIL_ACTOR, else the OS user).")
@click.option("--mirror", help="Registry snapshot JSON (pull spec → digest) for resolving tags "
                               "(default: $IMAGETRAIL_MIRROR). Tags it lacks are looked up in the registry.")
@click.option("--offline", is_flag=True,  # IMAGETRAIL_OFFLINE: engine/settings.py
              help="Never contact a registry: resolve only pinned digests and the --mirror file.")
@click.version_option(package_name="imagetrail")
@click.pass_context
def cli(ctx: click.Context, namespace, store, actor, mirror, offline) -> None:
    """imagetrail: oc's image stream and trigger workflow, recorded as events.

    Type the commands you would type with `oc`, with `imagetrail` instead: every tag
    move, alias, import and trigger change becomes an event you can audit and roll back.
    """
    from imagetrail.cli.session import Session
    from imagetrail.engine.settings import Settings

    settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings.load()
    flags = {"namespace": namespace, "store": store, "actor": actor, "mirror": mirror, "offline": offline or None}
    ctx.obj = Session(settings.with_flags(**flags), namespace_given=namespace is not None)
    ctx.obj.namespace  # a bad -n or $IMAGETRAIL_NAMESPACE is refused whatever the command


@cli.group(cls=LazyGroup, lazy={
    "deployment": ("imagetrail.cli.deployments:create_deployment",
                   "Create a Deployment. A short `stream:tag` image resolves to its digest when the\n"
                   "    image stream in this namespace has local lookup enabled (`set image-lookup`)."),
    "istag": ("imagetrail.cli.tags:create_istag",
              "Create an image stream tag NAME (stream:tag); never overwrites an existing one."),
})
def create() -> None:
    """Create an image stream tag or a Deployment."""


@cli.group("set", cls=LazyGroup, lazy={
    "image": ("imagetrail.cli.deployments:set_image",
              "Set container images: imagetrail set image deployment/NAME CONTAINER=IMAGE…"),
    "image-lookup": ("imagetrail.cli.tags:set_image_lookup",
                     "Let Deployments in this namespace use image stream NAMES by short name."),
    "triggers": ("imagetrail.cli.deployments:set_triggers", "List or change the image triggers of a Deployment."),
})
def set_() -> None:
    """Set image lookup, triggers or images."""


@cli.group(cls=LazyGroup, lazy={
    "history": ("imagetrail.cli.deployments:rollout_history",
                "List a Deployment's revisions with their images and what caused each."),
    "pause": ("imagetrail.cli.deployments:rollout_pause",
              "Pause rollouts; the template still follows triggers, the rollout waits for resume."),
    "resume": ("imagetrail.cli.deployments:rollout_resume",
               "Resume rollouts: one rollout to the current template if it changed while paused."),
    "undo": ("imagetrail.cli.deployments:rollout_undo", "Set a Deployment's template back to an earlier "
             "revision (refused for containers that follow a tag)."),
})
def rollout() -> None:
    """Pause, resume or inspect Deployment rollouts."""


# -- projections -----------------------------------------------------------------------------------

@cli.group()
def projections() -> None:
    """Maintain the read-side projections."""


@projections.command("rebuild")
@click.pass_obj
def projections_rebuild(s: Session):
    """Replay the whole log into fresh projections."""
    from rich.progress import Progress

    from imagetrail.projections.runner import rebuild

    view = s._view
    total = s.app.recorder.max_notification_id() or 0
    with Progress(transient=True) as progress:
        task = progress.add_task("rebuilding projections", total=total or 1)
        count = rebuild(s.app, view, lambda done, _: progress.update(task, completed=done))
    click.echo(f"projections rebuilt from {count} events")


@cli.command()
@click.option("--keep", is_flag=True, help="Keep the scratch store and print its URL.")
@click.pass_obj
def demo(s: Session, keep):
    """Run the lecture's image-trigger workflow on a scratch store, printing each step."""
    from imagetrail.cli.demo import run_demo

    raise SystemExit(run_demo(keep=keep, settings=s.settings))


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


def debugging(settings: Settings | None) -> bool:
    from imagetrail.engine.settings import Settings

    try:
        return bool((settings or Settings.load()).debug)
    except ImagetrailError:  # a bad setting, already reported unless it is the error itself
        return False


def main(argv: list[str] | None = None, settings: Settings | None = None) -> None:
    """One command: the settings are read now (or given, by the demo), the flags override them."""
    args = hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
    try:  # the settings are loaded by the group, so that `--help` need not import pydantic
        cli.main(args, prog_name="imagetrail", standalone_mode=False, obj=settings)
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
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # never a traceback for users; opt in when debugging
        from eventsourcing.persistence import PersistenceError  # here: importing it costs every start-up

        if isinstance(e, PersistenceError):  # the store: unreachable broker, unsafe topic, …
            fail(str(e), 1)
        if debugging(settings):
            raise
        fail(f"unexpected {type(e).__name__}: {e} (IMAGETRAIL_DEBUG=1 shows the traceback)", 1)

