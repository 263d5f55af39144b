"""The `imagetrail` command line: oc's verbs and flags over the imagetrail engine.

The verbs live one group to a module (tags, deployments, reads, bootstrap, history,
rollback, events, controller); this module builds the command tree and is the entry
point that turns every error into one `error:` line.
"""

from __future__ import annotations

import sys

import click
from eventsourcing.persistence import PersistenceError

from imagetrail.cli.session import GLOBAL_FLAGS, GLOBAL_SWITCHES, Session, pass_session
from imagetrail.engine.domain.errors import ImagetrailError, strip_error_prefix
from imagetrail.engine.domain.references import ReferenceError, one_line
from imagetrail.engine.settings import Settings
from imagetrail.projections.runner import rebuild


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-n", "--namespace", help="Namespace (default: $IMAGETRAIL_NAMESPACE, else 'default').")
@click.option("--store", help="Event store URL: sqlite:///ABS/PATH.db (default under $XDG_DATA_HOME) "
                              "or memory:// (default: $IMAGETRAIL_STORE).")
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
    settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings.load()
    flags = {"namespace": namespace, "store": store, "actor": actor, "mirror": mirror, "offline": offline or None}
    ctx.obj = Session(settings.with_flags(**flags), namespace_given=namespace is not None)
    ctx.obj.namespace  # a bad -n or $IMAGETRAIL_NAMESPACE is refused whatever the command


@cli.group()
def create() -> None:
    """Create an image stream tag or a Deployment."""


@cli.group("set")
def set_() -> None:
    """Set image lookup, triggers or images."""


@cli.group()
def rollout() -> None:
    """Pause, resume or inspect Deployment rollouts."""


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
@pass_session
def demo(s: Session, keep):
    """Run the lecture's image-trigger workflow on a scratch store, printing each step."""
    from imagetrail.cli.demo import run_demo

    raise SystemExit(run_demo(keep=keep, settings=s.settings))


from imagetrail.cli import bootstrap, controller, deployments, events, history, reads, rollback, tags  # noqa: E402

create.add_command(tags.create_istag, "istag")
create.add_command(deployments.create_deployment, "deployment")
set_.add_command(tags.set_image_lookup, "image-lookup")
set_.add_command(deployments.set_triggers, "triggers")
set_.add_command(deployments.set_image, "image")
for name, command in (("pause", deployments.rollout_pause), ("resume", deployments.rollout_resume),
                      ("undo", deployments.rollout_undo), ("history", deployments.rollout_history)):
    rollout.add_command(command, name)
for command in (tags.import_image, tags.tag, reads.get, reads.describe, deployments.doctor, bootstrap.apply,
                bootstrap.import_, history.history, history.log_, history.verify, rollback.rollback,
                events.events, events.schema, controller.controller):
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


def main(argv: list[str] | None = None, settings: Settings | None = None) -> None:
    """One command: the settings are read now (or given, by the demo), the flags override them."""
    args = hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
    try:
        settings = settings or Settings.load()
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
    except PersistenceError as e:  # the store: unreachable broker, unsafe topic, …
        fail(str(e), 1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # never a traceback for users; opt in when debugging
        if settings is not None and settings.debug:
            raise
        fail(f"unexpected {type(e).__name__}: {e} (IMAGETRAIL_DEBUG=1 shows the traceback)", 1)

