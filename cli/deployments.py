"""Deployment commands: `create deployment`, `set triggers`, `set image`, `rollout …`, `doctor`."""

from __future__ import annotations

import click

from imagetrail.cli import printers
from imagetrail.cli.params import Whole
from imagetrail.cli.render import emit
from imagetrail.cli.session import Session, at_option, get_deployment, pass_session, split_resource
from imagetrail.engine.domain.errors import TriggerGovernsContainer, UsageError
from imagetrail.engine.domain.parsing import INT32_MAX
from imagetrail.engine.domain.references import quote
from imagetrail.engine.domain.trigger_definition import TriggerChange, TriggerSourceError
from imagetrail.engine.service.deployments import DeploymentChange, Deployments


@click.command("deployment")
@click.argument("name")
@click.option("--image", "images", multiple=True, required=True, help="Container image; repeat for more containers.")
@click.option("--replicas", type=Whole(0, INT32_MAX), default=1, show_default=True)
@pass_session
def create_deployment(s: Session, name, images, replicas):
    """Create a Deployment. A short `stream:tag` image resolves to its digest when the
    image stream in this namespace has local lookup enabled (`set image-lookup`)."""
    report(Deployments(s.writer).create_deployment(s.namespace, name, list(images), replicas=replicas, actor=s.actor))


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
    deployments = Deployments(s.writer)  # the store opens first, as before the flags were checked here
    change = trigger_change(s.namespace, from_image=from_image, containers=list(containers), auto=auto,
                            manual=manual, remove=remove, remove_all=remove_all)
    report(deployments.set_triggers(s.namespace, name, change, actor=s.actor))


def trigger_change(namespace: str, *, from_image: str | None, containers: list[str], auto: bool, manual: bool,
                   remove: bool, remove_all: bool) -> TriggerChange:
    """oc set triggers' flag rules, with its messages."""
    names = tuple(n for c in containers for n in c.split(",") if n)
    if auto and manual:
        raise UsageError("you must specify at most one of --auto or --manual")
    if remove_all and (remove or auto or manual or from_image or names):
        raise UsageError("--remove-all may not be used with any other flag")
    if remove and not from_image:
        raise UsageError("--remove requires a flag defining a trigger type to be specified")
    if names and not from_image:
        raise UsageError("--containers can only be used with --from-image")
    if not (from_image or auto or manual or remove or remove_all):
        raise UsageError("you must specify one of --from-image, --auto, --manual, --remove or --remove-all")
    stream_tag, source_ns = "", ""
    if from_image:
        try:
            stream_tag, source_ns = TriggerChange.source(namespace, from_image)
        except TriggerSourceError as e:
            raise UsageError(FROM_IMAGE_PROBLEMS[e.problem].format(e.detail)) from None
        if not remove and not names:
            raise UsageError("you must specify --containers when setting --from-image")
    return TriggerChange(stream_tag, source_ns, names, auto, manual, remove, remove_all)


FROM_IMAGE_PROBLEMS = {
    "invalid": "the value of --from-image is not valid: {}",
    "not-on-server": "the value of --from-image must point to an image stream tag on this server",
    "no-tag": "the value of --from-image must include the tag you wish to pull from",
}


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
    report(Deployments(s.writer).set_image(s.namespace, name, parsed, actor=s.actor))


@click.command("pause")
@click.argument("resource")
@pass_session
def rollout_pause(s: Session, resource):
    """Pause rollouts; the template still follows triggers, the rollout waits for resume."""
    report(Deployments(s.writer).pause(s.namespace, split_resource(resource), actor=s.actor))


@click.command("resume")
@click.argument("resource")
@pass_session
def rollout_resume(s: Session, resource):
    """Resume rollouts: one rollout to the current template if it changed while paused."""
    report(Deployments(s.writer).resume(s.namespace, split_resource(resource), actor=s.actor))


@click.command("undo")
@click.argument("resource")
@click.option("--to-revision", type=Whole(1, INT32_MAX), help="The revision to go back to (default: the previous).")
@click.option("--reason", default="", help="Why: recorded on the events.")
@pass_session
def rollout_undo(s: Session, resource, to_revision, reason):
    """Set a Deployment's template back to an earlier revision (refused for containers that follow a tag)."""
    try:
        report(Deployments(s.writer).undo_rollout(s.namespace, split_resource(resource), to_revision=to_revision,
                                                  actor=s.actor, reason=reason))
    except TriggerGovernsContainer as e:  # say how: the tag decides what the container runs
        raise UsageError(f"{e}: imagetrail rollback {e.istag} --steps 1 (or make the trigger manual first)") from None


def report(change: DeploymentChange) -> None:
    """oc's words for what a Deployment command did, then the controllers' reactions."""
    lines = [] if change.action == "unchanged" else [
        f"deployment.apps/{change.name} {ACTIONS.get(change.action, change.action)}"]
    emit(lines, change, warnings=[
        f"container {quote(back.container)} follows image stream tag {back.trigger_source} (automatic trigger), so "
        f"the image was set back to {back.image}. Move the tag instead, or run "
        f"'imagetrail set triggers deployment/{change.name} --manual' first." for back in change.set_back])


ACTIONS = {"skipped rollback": "skipped rollback (current template already matches that revision)"}


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
