"""Audit commands: `history` of a tag or a Deployment, and the filtered event `log`."""

from __future__ import annotations

import json

import click

from imagetrail.cli import printers
from imagetrail.engine.errors import UsageError
from imagetrail.cli.names import deployment_name, istag_name, stream_name
from imagetrail.cli.params import Whole
from imagetrail.engine.parsing import INT32_MAX, parse_moment, timestamp
from imagetrail.engine.references import one_line, quote

def parse_time(value: str, flag: str) -> str:
    """RFC 3339, or relative to now ("2h", "30m", "1d"), as the audit index stores it."""
    return timestamp(parse_moment(value, flag))


def short(image: str | None) -> str:
    return image[:19] if image else "<none>"


def when(timestamp: str) -> str:
    return timestamp[:19] + "Z"


@click.command()
@click.argument("resource")
@click.option("-o", "--output", type=click.Choice(["json"]), help="json: the full rows, one JSON document.")
@click.option("--limit", type=Whole(1), help="Only the newest N changes.")
@click.pass_obj
def history(s, resource, output, limit):
    """Every change of IS:TAG, or every image change of deployment/NAME, newest first."""
    if resource.startswith(("deployment/", "deploy/", "deployments/")):
        name = deployment_name(resource.split("/", 1)[1])
        if s.view.get("deployment", s.namespace, name) is None:
            raise UsageError(f'deployments.apps {quote(name)} not found')
        rows = s.view.deployment_history(s.namespace, name, limit)
        if output:
            click.echo(json.dumps(rows, indent=2))
            return
        table = [["POSITION", "TIME", "CONTAINER", "FROM", "TO", "CAUSE", "ACTOR", "COMMAND"]]
        for r in rows:
            cause = r["cause"]
            if r["tag_event"]:
                t = r["tag_event"]
                cause = f"trigger {r['cause_stream'].split('/', 1)[1]}:{r['cause_tag']} ← {t['change']} @{t['position']} by {t['actor']}"
            table.append([str(r["position"]), when(r["timestamp"]), r["container"], r["old_image"] or "<none>",
                          r["new_image"], cause, r["actor"], r["correlation_id"][:8]])
        click.echo(printers.table(table), nl=False)
        return
    if ":" not in resource or "/" in resource:
        raise UsageError(f'{quote(resource)} is neither IS:TAG nor deployment/NAME')
    stream, tag = istag_name(s.namespace, resource)
    if s.view.get("imagestream", s.namespace, stream) is None:
        raise UsageError(f'imagestreams.image.openshift.io {quote(stream)} not found')
    rows = s.view.tag_history(s.namespace, stream, tag, limit)
    if output:
        click.echo(json.dumps(rows, indent=2))
        return
    table = [["REV", "POSITION", "TIME", "ACTOR", "CHANGE", "FROM", "TO", "DEPLOYMENTS", "COMMAND"]]
    for r in rows:
        table.append([str(r["revision"]), str(r["position"]), when(r["timestamp"]), r["actor"], r["change"],
                      short(r["old_image"]),
                      short(r["new_image"]), ",".join(r["deployments"]) or "-", r["correlation_id"][:8]])
    click.echo(printers.table(table), nl=False)


@click.command("log")
@click.option("--since", help="Only events at or after: RFC 3339 or a duration ago (30m, 2h, 1d).")
@click.option("--until", help="Only events at or before: RFC 3339 or a duration ago.")
@click.option("--actor", help="Only events by this actor.")
@click.option("--stream", "streams", multiple=True, help="Only events of this image stream.")
@click.option("--tag", help="Only events of this IS:TAG.")
@click.option("--deployment", "deployments", multiple=True, help="Only events of this Deployment.")
@click.option("--kind", "kinds", multiple=True,
              help="Only this kind (e.g. tag, import, alias-set, rollback, deployment.rolled-out).")
@click.option("-A", "--all-namespaces", is_flag=True, help="Every namespace, not just the current one.")
@click.option("--limit", type=Whole(1), default=100, show_default=True)
@click.option("-o", "--output", type=click.Choice(["json"]), help="json: one JSON object a line.")
@click.pass_obj
def log_(s, since, until, actor, streams, tag, deployments, kinds, all_namespaces, limit, output):
    """The event log, newest first, filtered."""
    objects = [f"is/{stream_name(s.namespace, n)}" for n in streams]
    objects += [f"deployment/{deployment_name(n)}" for n in deployments]
    tag_name = None
    if tag:
        if ":" not in tag:
            raise UsageError(f'--tag {quote(tag)} must be IS:TAG')
        stream, tag_name = istag_name(s.namespace, tag)
        objects.append(f"is/{stream}")
    rows = s.view.log(namespace=None if all_namespaces else s.namespace,
                      since=parse_time(since, "--since") if since else None,
                      until=parse_time(until, "--until") if until else None,
                      actor=actor, objects=objects, tag=tag_name, kinds=list(kinds), limit=limit)
    if output:
        for r in rows:
            click.echo(json.dumps(r))
        return
    table = [["POSITION", "TIME", "ACTOR", "NAMESPACE", "KIND", "OBJECT", "SUMMARY"]]
    table += [[str(r["position"]), when(r["timestamp"]), r["actor"], r["namespace"], r["kind"], r["object"],
               r["summary"]] for r in rows]
    click.echo(printers.table(table), nl=False)


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
@click.option("--reason", default="", help="Why: recorded on the events, shown by history and log.")
@click.pass_obj
def rollback(s, target, to_position, to_time, steps, to_revision, all_tags, restore_spec, dry_run, reason):
    """Move IS:TAG (or --all tags of the namespace) back to an image it had before, by new
    events: history is never rewritten.

    The tag is pinned to that exact digest, so scheduled import and alias following stop
    and automation cannot move it forward again. Deployments that follow the tag roll back
    in the same atomic write. The plan comes first; --dry-run prints only the plan.
    """
    from imagetrail.engine.application import RollbackTarget

    if sum(x is not None for x in (to_position, to_time, steps, to_revision)) != 1:
        raise UsageError("give exactly one of --to-position, --to-time, --steps or --to-revision")
    if all_tags == bool(target):
        raise UsageError("give IS:TAG, or --all for every tag of the namespace")
    if all_tags and (steps is not None or to_revision is not None):
        raise UsageError("--all needs --to-time or --to-position: --steps and --to-revision count one tag's changes")
    position = None
    if to_position is not None:
        position = s.log_position(to_position, "--to-position", by_time=False)
    if to_time is not None:
        position = s.log_position(to_time, "--to-time", by_time=True)
    if restore_spec:
        if all_tags or steps is not None or to_revision is not None:
            raise UsageError("--restore-spec takes one IS:TAG and --to-time or --to-position")
        return _restore_spec(s, target, position, dry_run, reason)
    if all_tags:
        tags = [(st.name, tag) for st in s.view.list("imagestream", s.namespace) for tag in sorted(st.status_tags)]
    else:
        if ":" not in target or "/" in target:
            raise UsageError(f'{quote(target)} must be IS:TAG')
        stream, tag = istag_name(s.namespace, target)
        if s.view.get("imagestream", s.namespace, stream) is None:
            raise UsageError(f"imagestreams.image.openshift.io {quote(stream)} not found")
        tags = [(stream, tag)]
    targets, skipped = [], []
    for stream, tag in tags:
        changes = s.view.tag_history(s.namespace, stream, tag)
        if to_revision is not None:
            if to_revision > len(changes):
                raise UsageError(f"{stream}:{tag} has {len(changes)} revisions (see imagetrail history {stream}:{tag})")
            chosen = changes[len(changes) - to_revision]
            at = chosen["position"]
        elif steps is not None:
            if steps >= len(changes):
                raise UsageError(f"{stream}:{tag} has only {len(changes) - 1} earlier positions "
                                 f"(see imagetrail history {stream}:{tag})")
            chosen, at = changes[steps], changes[steps]["position"]
        else:
            chosen, at = next((c for c in changes if c["position"] <= position), None), position
        if chosen is None or chosen["new_image"] is None:
            if not all_tags:
                raise UsageError(f"{stream}:{tag} had no image at position {at} (see imagetrail history {stream}:{tag})")
            skipped.append(f"{stream}:{tag}")
            continue
        targets.append(RollbackTarget(stream, tag, chosen["new_image"], chosen["new_pull_spec"], at))
    if not targets:
        raise UsageError(f"no tag of namespace {s.namespace} had an image at position {position}")
    outcome = (s.app if dry_run else s.writer).rollback(s.namespace, targets, dry_run=dry_run, actor=s.actor, reason=reason)
    label = target or f"every tag of {s.namespace}"
    click.echo(f"Plan for {label} → position {max(t.position for t in targets)}:")
    for line in (outcome.plan or ["nothing to change"]) + _bystanders(s, targets, outcome.plan):
        click.echo(f"  {line}")
    for line in outcome.lines:
        click.echo(line)
    for name in skipped:
        click.echo(f"Tag {name} had no image then; left as it is.")
    if dry_run:
        click.echo("(dry run: nothing was written)")
    for line in outcome.warnings:
        click.echo(f"Warning: {line}", err=True)


def _bystanders(s, targets, plan: list[str]) -> list[str]:
    """Deployments that run a rolled-back tag's current image without a trigger: nothing moves them."""
    lines = []
    for target in targets:
        state = s.view.get("imagestream", s.namespace, target.stream)
        current = state.resolve(target.tag) if state else None
        for deployment in s.view.list("deployment", s.namespace) if current else []:
            mentioned = any(line.startswith(f"deployment/{deployment.name}:") for line in plan + lines)
            if not mentioned and current in deployment.template_images.values():
                lines.append(f"deployment/{deployment.name}: unchanged (no trigger follows {target.stream}:"
                             f"{target.tag}; it keeps running {current})")
    return lines


def _restore_spec(s, target: str, position: int, dry_run: bool, reason: str) -> None:
    from imagetrail.projections.asof import AsOf

    if not target or ":" not in target:
        raise UsageError("--restore-spec needs IS:TAG")
    stream, tag = istag_name(s.namespace, target)
    past = AsOf(s.app, s.view, position)
    state = past.get("imagestream", s.namespace, stream)
    spec = state.spec_tags.get(tag) if state else None
    if spec is None:
        raise UsageError(f"{target} had no spec at position {position} (see imagetrail history {target})")
    outcome = (s.app if dry_run else s.writer).restore_spec(s.namespace, stream, spec, past.position, dry_run=dry_run, actor=s.actor,
                                 reason=reason)
    click.echo(f"Plan for {target} → its spec at position {past.position}:")
    for line in outcome.plan or ["nothing to change"]:
        click.echo(f"  {line}")
    for line in outcome.lines:
        click.echo(line)
    if dry_run:
        click.echo("(dry run: nothing was written)")
    for failure in outcome.failures:
        click.echo(f"error: tag {failure.tag} failed: {one_line(failure.message)}", err=True)


@click.command()
@click.pass_obj
def verify(s):
    """Check the log's hash chain: ok with the count and head hash, or where and why it breaks."""
    from imagetrail.engine.chain import verify as walk

    recorder = s.app.recorder
    if not hasattr(recorder, "chained_records"):
        raise UsageError("verify needs a persistent store: sqlite:///PATH.db or kafka://HOST:PORT/TOPIC")
    verdict = walk(recorder.chained_records())
    if verdict.ok:
        click.echo(f"ok: {verdict.count} events, head {verdict.head}")
        return
    click.echo(f"error: the log is broken at position {verdict.position}: {verdict.problem} "
               f"({verdict.count} events before it verify)", err=True)
    raise SystemExit(1)
