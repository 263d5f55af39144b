"""Audit reads: `history` of a tag or a Deployment, the filtered event `log`, and `verify` of the hash chain."""


from __future__ import annotations

import click

from imagetrail.cli import printers
from imagetrail.engine.domain.errors import UsageError
from imagetrail.cli.names import deployment_name, istag_name, stream_name
from imagetrail.cli.params import Whole
from imagetrail.engine.domain.parsing import parse_moment, timestamp
from imagetrail.engine.domain.references import quote

def parse_time(value: str, flag: str) -> str:
    """RFC 3339, or relative to now ("2h", "30m", "1d"), as the audit index stores it."""
    return timestamp(parse_moment(value, flag))


def short(image: str | None) -> str:
    return image[:19] if image else "<none>"


def when(timestamp: str) -> str:
    return timestamp[:19] + "Z"


@click.command()
@click.argument("resource")
@printers.output_options
@click.option("--limit", type=Whole(1), help="Only the newest N changes.")
@click.pass_obj
def history(s, resource, output: printers.Output, limit):
    """Every change of IS:TAG, or every image change of deployment/NAME, newest first."""
    if resource.startswith(("deployment/", "deploy/", "deployments/")):
        name = deployment_name(resource.split("/", 1)[1])
        if s.view.get("deployment", s.namespace, name) is None:
            raise UsageError(f'deployments.apps {quote(name)} not found')
        changes = s.view.deployment_history(s.namespace, name, limit)

        def deployment_rows() -> list[list[str]]:
            table = [["POSITION", "TIME", "CONTAINER", "FROM", "TO", "CAUSE", "ACTOR", "COMMAND"]]
            for r in changes:
                cause, t = r.cause.kind, r.cause.tag_change
                if t:
                    cause = (f"trigger {r.cause.image_stream.split('/', 1)[1]}:{r.cause.tag} ← {t.change} "
                             f"@{t.position} by {t.actor}")
                table.append([str(r.position), when(r.timestamp), r.container, r.previous_image or "<none>",
                              r.image, cause, r.actor, r.correlation_id[:8]])
            return table

        _print(output, changes, deployment_rows)
        return
    if ":" not in resource or "/" in resource:
        raise UsageError(f'{quote(resource)} is neither IS:TAG nor deployment/NAME')
    stream, tag = istag_name(s.namespace, resource)
    if s.view.get("imagestream", s.namespace, stream) is None:
        raise UsageError(f'imagestreams.image.openshift.io {quote(stream)} not found')
    moves = s.view.tag_changes(s.namespace, stream, tag, limit)

    def tag_rows() -> list[list[str]]:
        table = [["REV", "POSITION", "TIME", "ACTOR", "CHANGE", "FROM", "TO", "DEPLOYMENTS", "COMMAND"]]
        for r in moves:
            table.append([str(r.revision), str(r.position), when(r.timestamp), r.actor, r.change,
                          short(r.from_.image if r.from_ else None), short(r.to.image if r.to else None),
                          ",".join(r.deployments) or "-", r.correlation_id[:8]])
        return table

    _print(output, moves, tag_rows)


def _print(output: printers.Output, records: list, rows) -> None:
    """A table by default; -o json|yaml is one kubectl `kind: List` of the documented records
    (projections/records.py), as `get` prints several objects; -o name is event/POSITION."""
    click.echo(printers.emit(output, [r.document() for r in records], False, plain=rows, resource="event",
                             name=lambda d: str(d["position"])), nl=False)


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
@printers.output_options
@click.pass_obj
def log_(s, since, until, actor, streams, tag, deployments, kinds, all_namespaces, limit, output: printers.Output):
    """The event log, newest first, filtered."""
    objects = [f"is/{stream_name(s.namespace, n)}" for n in streams]
    objects += [f"deployment/{deployment_name(n)}" for n in deployments]
    tag_name = None
    if tag:
        if ":" not in tag:
            raise UsageError(f'--tag {quote(tag)} must be IS:TAG')
        stream, tag_name = istag_name(s.namespace, tag)
        objects.append(f"is/{stream}")
    entries = s.view.log(namespace=None if all_namespaces else s.namespace,
                         since=parse_time(since, "--since") if since else None,
                         until=parse_time(until, "--until") if until else None,
                         actor=actor, objects=objects, tag=tag_name, kinds=list(kinds), limit=limit)
    rows = lambda: [["POSITION", "TIME", "ACTOR", "NAMESPACE", "KIND", "OBJECT", "SUMMARY"]] + [
        [str(r.position), when(r.timestamp), r.actor, r.namespace, r.kind, r.object, r.summary] for r in entries]
    _print(output, entries, rows)


def walk_chains(app) -> list[tuple[str, object]]:
    """Every hash chain of the store, walked: ("", verdict) for a store with one chain, or
    (topic, verdict) for each namespace's topic of a sharded Kafka store."""
    from imagetrail.engine.adapters.chain import verify as walk

    recorder = app.recorder
    if not hasattr(recorder, "chained_records"):
        raise UsageError("verify needs a persistent store: sqlite:///PATH.db or kafka://HOST:PORT/TOPIC")
    if app.store.partitioned:
        return [(topic, walk(records)) for topic, records in recorder.chains()]
    return [("", walk(recorder.chained_records()))]


def print_verdicts(verdicts) -> bool:
    """`verify`'s lines; True when every chain holds."""
    for topic, verdict in verdicts:
        if verdict.ok:  # the topic last, so `ok: N events, head H` reads the same on every store
            click.echo(f"ok: {verdict.count} events, head {verdict.head}" + (f" ({topic})" if topic else ""))
        else:
            click.echo(f"error: {topic or 'the log'} is broken at position {verdict.position}: {verdict.problem} "
                       f"({verdict.count} events before it verify)", err=True)
    return all(v.ok for _, v in verdicts)


@click.command()
@click.pass_obj
def verify(s):
    """Check the log's hash chain: ok with the count and head hash, or where and why it breaks."""
    if not print_verdicts(walk_chains(s.app)):
        raise SystemExit(1)
