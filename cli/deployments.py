"""Deployment commands: `create deployment`, `set triggers`, `set image`, `rollout …`, `doctor`."""

from __future__ import annotations

import click

from imagetrail.cli import printers
from imagetrail.cli.params import Whole
from imagetrail.cli.session import (Session, get_deployment, at_option, pass_session, report, split_resource)
from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.parsing import INT32_MAX
from imagetrail.engine.domain.references import quote


@click.command("deployment")
@click.argument("name")
@click.option("--image", "images", multiple=True, required=True, help="Container image; repeat for more containers.")
@click.option("--replicas", type=Whole(0, INT32_MAX), default=1, show_default=True)
@pass_session
def create_deployment(s: Session, name, images, replicas):
    """Create a Deployment. A short `stream:tag` image resolves to its digest when the
    image stream in this namespace has local lookup enabled (`set image-lookup`)."""
    report(s.writer.create_deployment(s.namespace, name, list(images), replicas=replicas, actor=s.actor))


@click.command("triggers")
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
    from imagetrail.engine.domain.trigger_definition import TriggerDefinition
    state = get_deployment(s, name)
    definition = TriggerDefinition.of(state)
    rows = [["NAME", "TYPE", "VALUE", "AUTO"], [f"deployments/{name}", "config", "", str(definition.config).lower()]]
    for t in definition.images:
        source = f"{t.namespace}/{t.source}" if t.namespace else t.source
        rows.append([f"deployments/{name}", "image", f"{source} ({', '.join(t.names)})", str(t.auto).lower()])
    return printers.table(rows, padding=2)


@click.command("image")
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


@click.command("pause")
@click.argument("resource")
@pass_session
def rollout_pause(s: Session, resource):
    """Pause rollouts; the template still follows triggers, the rollout waits for resume."""
    report(s.writer.pause(s.namespace, split_resource(resource), actor=s.actor))


@click.command("resume")
@click.argument("resource")
@pass_session
def rollout_resume(s: Session, resource):
    """Resume rollouts: one rollout to the current template if it changed while paused."""
    report(s.writer.resume(s.namespace, split_resource(resource), actor=s.actor))


@click.command("undo")
@click.argument("resource")
@click.option("--to-revision", type=Whole(1, INT32_MAX), help="The revision to go back to (default: the previous).")
@click.option("--reason", default="", help="Why: recorded on the events.")
@pass_session
def rollout_undo(s: Session, resource, to_revision, reason):
    """Set a Deployment's template back to an earlier revision (refused for containers that follow a tag)."""
    report(s.writer.undo_rollout(s.namespace, split_resource(resource), to_revision=to_revision, actor=s.actor,
                              reason=reason))


@click.command("history")
@click.argument("resource")
@at_option
@pass_session
def rollout_history(s: Session, resource):
    """List a Deployment's revisions with their images and what caused each."""
    name = split_resource(resource)
    state = get_deployment(s, name)
    rows = [["REVISION", "IMAGES", "CHANGE-CAUSE"]] + [
        [str(r.number), ",".join(f"{c}={i}" for c, i in r.images.items()), r.change_cause or "<none>"]
        for r in state.revisions]
    click.echo(f"deployment.apps/{name} \n" + printers.table(rows, padding=2), nl=False)


@click.command()
@click.argument("resource")
@printers.output_options
@pass_session
def doctor(s: Session, resource, output: printers.Output):
    """Check why a Deployment does or does not follow its image stream tags.

    Each check passes or fails with the command that fixes it; the exit status is 0 only
    when all pass.
    """
    from imagetrail.engine.domain.doctor import DoctorReport, examine

    name = split_resource(resource)
    report = DoctorReport.of(name, examine(get_deployment(s, name),
                                           lambda ns, stream: s.view.get("imagestream", ns, stream)))
    if output.format in ("", "wide"):  # the checks as lines, not a table
        for c in report.checks:
            where = f"[{c.container}] " if c.container else ""
            click.echo(f"{'PASS' if c.ok else 'FAIL'}  {where}{c.name}: {c.detail}")
            if c.fix:
                click.echo(f"      fix: {c.fix}")
    else:
        click.echo(printers.emit(output, [report.model_dump(mode="json")], True, plain=list,
                                 resource="deployment.apps", name=lambda d: d["deployment"]), nl=False)
    if not report.ok:
        raise SystemExit(1)
