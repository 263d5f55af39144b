"""`rollback`: move tags back to where they were, with every trigger reaction, or only show the plan."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from imagetrail.engine.domain import cluster_commands
from imagetrail.engine.domain.errors import UsageError
from imagetrail.cli.names import istag_name
from imagetrail.cli.params import Whole
from imagetrail.cli.render import not_applied_warning
from imagetrail.engine.domain.parsing import INT32_MAX
from imagetrail.engine.domain.references import one_line, quote


@click.command()
@click.argument("target", required=False)
@click.option("--to-position", help="Restore what the tag had at this log position.")
@click.option("--to-time", help="Restore what the tag had at this time (RFC 3339, or a duration ago: 2h).")
@click.option("--steps", type=Whole(1, INT32_MAX), help="Restore the image the tag had N changes ago.")
@click.option("--to-revision", type=Whole(1, INT32_MAX),
              help="Restore the tag's revision K: its K-th change, oldest first (REV in imagetrail history).")
@click.option("--all", "all_tags", is_flag=True, help="Every tag of the namespace (with --to-time or --to-position).")
@click.option("--restore-spec", is_flag=True,
              help="Restore the tag's spec as it was (e.g. the alias), not the digest; it resolves anew.")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--apply", "apply_", is_flag=True,
              help="Also run it on the cluster with the oc (or kubectl) on PATH, after checking the cluster is "
                   "where imagetrail thinks it is; every command run is recorded.")
@click.option("--reason", default="", help="Why: recorded on the events, shown by history and log.")
@click.option("-o", "--output", type=click.Choice(["json", "oc", "patch"]),
              help="json: the plan as one JSON document (tags, scheduled imports, each Deployment's fate); "
                   "oc: the oc commands that apply it to a cluster, one a line; patch: the same as "
                   "kubectl patch commands.")
@click.pass_obj
def rollback(s, target, to_position, to_time, steps, to_revision, all_tags, restore_spec, dry_run, apply_, reason,
             output):
    """Move IS:TAG (or --all tags of the namespace) back to an image it had before, by new
    events: history is never rewritten.

    The tag is pinned to that exact digest, so scheduled import and alias following stop
    and automation cannot move it forward again. Deployments that follow the tag roll back
    in the same atomic write. The plan comes first; --dry-run prints only the plan.
    """
    from dataclasses import asdict

    from imagetrail.engine.domain.parsing import parse_int, parse_moment
    from imagetrail.engine.service.rollback import Rollback, Target

    if sum(x is not None for x in (to_position, to_time, steps, to_revision)) != 1:
        raise UsageError("give exactly one of --to-position, --to-time, --steps or --to-revision")
    if all_tags == bool(target):
        raise UsageError("give IS:TAG, or --all for every tag of the namespace")
    if all_tags and (steps is not None or to_revision is not None):
        raise UsageError("--all needs --to-time or --to-position: --steps and --to-revision count one tag's changes")
    service, position = None, None
    if to_position is not None or to_time is not None:  # the position first: its errors come first
        service = Rollback(s.app, s.history)
        number = None if to_position is None else parse_int(to_position, "--to-position", minimum=1, maximum=10**30)
        moment = None if to_time is None else parse_moment(to_time, "--to-time", datetime.now(timezone.utc))
        position = service.position(Target(s.namespace, position=number, moment=moment,
                                           moment_as_typed=to_time or ""))
    if restore_spec:
        if output in ("oc", "patch"):
            raise UsageError(f"-o {output} prints a rollback to a digest; --restore-spec is not supported with it")
        if all_tags or steps is not None or to_revision is not None:
            raise UsageError("--restore-spec takes one IS:TAG and --to-time or --to-position")
        if ":" not in target:
            raise UsageError("--restore-spec needs IS:TAG")
    elif not all_tags and (":" not in target or "/" in target):
        raise UsageError(f'{quote(target)} must be IS:TAG')
    stream, tag = istag_name(s.namespace, target) if target else ("", "")
    want = Target(s.namespace, stream, tag, all_tags=all_tags, position=position, steps=steps, revision=to_revision,
                  restore_spec=restore_spec)
    service = service or Rollback(s.app, s.history)  # the projections' history, wired in here
    if apply_:
        return _apply(s, want, target, reason, dry_run, restore_spec, output)
    result = (service.plan if dry_run else service.execute)(want, actor=s.actor, reason=reason)
    if restore_spec:
        return _print_restored_spec(target, result, output)
    if output in ("oc", "patch"):
        for change in cluster_commands.for_rollback(result.plan, _specs(s, result.plan)):
            click.echo(change.oc_line() if output == "oc" else change.patch_line())
    elif output:
        _print_json(result.plan, result.position, dry_run, targets=[asdict(t) for t in result.targets],
                    skipped=result.skipped)
    else:
        label = target or f"every tag of {s.namespace}"
        click.echo(f"Plan for {label} → position {result.position}:")
        for line in plan_lines(result.plan):
            click.echo(f"  {line}")
        for move in result.moves:
            where = f"{move.stream}:{move.tag}"
            if move.moved:
                verb = "would roll" if dry_run else "rolled"
                click.echo(f"Tag {where} {verb} back to {move.pull_spec} (position {move.position}).")
            else:
                click.echo(f"Tag {where} already points to {move.pull_spec}; nothing to do.")
        for name in result.skipped:
            click.echo(f"Tag {name} had no image then; left as it is.")
        if dry_run:
            click.echo("(dry run: nothing was written)")
    for skipped in result.not_applied:
        click.echo(not_applied_warning(skipped), err=True)


def _apply(s, want, target, reason, dry_run, restore_spec, output) -> None:
    """rollback --apply: the plan, run on the cluster after a drift check, then recorded."""
    from imagetrail.engine.adapters.cluster_cli import ClusterCli
    from imagetrail.engine.service.cluster_apply import apply_rollback

    if dry_run or restore_spec or output:
        raise UsageError("--apply runs the rollback on the cluster: it takes no --dry-run, --restore-spec or -o "
                         "(use --dry-run -o oc to see the commands)")
    done = apply_rollback(s.writer, s.history, want, ClusterCli.found(), actor=s.actor, reason=reason)
    click.echo(f"Plan for {target or f'every tag of {s.namespace}'} → position {done.plan.position}:")
    for line in plan_lines(done.plan.plan):
        click.echo(f"  {line}")
    for applied in done.applied:
        click.echo(f"Ran on the cluster as {done.cluster_user}: {applied.command}")
    for move in done.recorded.moves if done.recorded else []:
        if move.moved:
            click.echo(f"Tag {move.stream}:{move.tag} rolled back to {move.pull_spec} (position {move.position}).")


def _specs(s, plan) -> dict:
    """Each rolled-back tag's spec as imagetrail has it: the policies its pin on the cluster keeps."""
    specs = {}
    for t in plan.tags if plan else ():
        state = s.reader.get("imagestream", t.namespace, t.stream)
        specs[(t.namespace, t.stream, t.tag)] = state.spec_tags.get(t.tag) if state else None
    return specs


def _print_json(plan, position: int, dry_run: bool, **more) -> None:
    document = {"position": position, "dry_run": dry_run, **(plan.to_dict() if plan else {}), **more}
    click.echo(json.dumps(document, indent=2))


def plan_lines(plan) -> list[str]:
    """The plan as text: tag moves, scheduled imports switched off, then each Deployment's fate."""
    lines = [] if plan and (plan.tags or plan.scheduled_imports_off) else ["nothing to change"]
    if not plan:
        return lines
    for t in plan.tags:
        how = "follows as an alias" if t.change == "followed" else t.change
        lines.append(f"tag {t.stream}:{t.tag} ({how}): {t.from_pull_spec or '<none>'} → {t.to_pull_spec}")
    for o in plan.scheduled_imports_off:
        lines.append(f"scheduled import of {o.stream}:{o.tag} is switched off "
                     f"(re-enable: imagetrail tag --scheduled {o.source} {o.stream}:{o.tag})")
    by_deployment: dict[tuple[str, str], list] = {}
    for fate in plan.deployments:
        by_deployment.setdefault((fate.namespace, fate.deployment), []).append(fate)
    for (_, name), fates in by_deployment.items():
        moved = [f for f in fates if f.fate in ("rolls-out", "template-only")]
        rest = [f for f in fates if f not in moved]
        if moved:
            images = ", ".join(f"{f.container}={f.image_after}" for f in moved)
            chains = sorted({_follows(f.trigger) for f in moved if f.trigger and len(f.trigger.via) > 1})
            through = f"; its trigger follows {', '.join(chains)}" if chains else ""
            if moved[0].fate == "rolls-out":
                lines.append(f"deployment/{name}: rolls out revision {moved[0].revision} ({images}){through}")
            elif moved[0].reason == "DeploymentPaused":
                lines.append(f"deployment/{name}: template only ({images}); the Deployment is paused "
                             f"and rolls out on resume{through}")
            else:
                lines.append(f"deployment/{name}: template only ({images}); it matches the revision that runs, "
                             f"so nothing rolls out{through}")
        for f in rest:
            who = f"deployment/{name}" + (f" container {f.container}" if len(fates) > 1 and f.container else "")
            lines.append(f"{who}: unchanged ({_why(f)})")
    return lines


def _follows(trigger) -> str:
    """The tag a trigger follows, with the alias chain down to the rolled-back tag."""
    return " → ".join(trigger.via) if trigger.via else trigger.istag


def _why(f) -> str:
    if f.reason == "TriggerManual":
        return f"its trigger on {_follows(f.trigger)} is manual"
    if f.reason == "TriggerInvalid":
        return f"its image trigger on {_follows(f.trigger)} is not applied: {f.message}"
    if f.reason == "TriggerFollowsOtherTag":
        return f"its trigger follows {f.trigger.istag}, not {f.tag}; it keeps running {f.image_before}"
    if f.reason == "NoTrigger":
        return f"no trigger follows {f.tag}; it keeps running {f.image_before}"
    return "it already runs that image"


def _print_restored_spec(target: str, result, output: str | None) -> None:
    if output:
        _print_json(result.plan, result.position, result.dry_run)
    else:
        click.echo(f"Plan for {target} → its spec at position {result.position}:")
        for line in plan_lines(result.plan):
            click.echo(f"  {line}")
        spec = result.spec
        source = f"{spec.source_kind} {spec.source_name}" if spec.source_kind is not None else "no source"
        verb = "would be" if result.dry_run else "is"
        click.echo(f"Tag {spec.stream}:{spec.tag} {verb} set back to {source} (as at position {spec.position}); "
                   f"it resolves now to {spec.resolves_to or 'nothing yet'}.")
        if result.dry_run:
            click.echo("(dry run: nothing was written)")
    for failure in result.failures:
        click.echo(f"error: tag {failure.tag} failed: {one_line(failure.message)}", err=True)
