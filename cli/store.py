"""`migrate`: copy the store's events into another store, then check the copy."""

from __future__ import annotations

import click

from imagetrail.cli.history import print_verdicts, walk_chains
from imagetrail.engine.domain.errors import UsageError


@click.command()
@click.option("--to", "target_url", required=True, metavar="URL",
              help="The store to copy into, e.g. kafka://HOST:PORT/imagetrail.{namespace} (a topic per namespace).")
@click.pass_obj
def migrate(s, target_url):
    """Copy every event into the store at --to, keeping ids, versions, content and order; run it
    again to finish an interrupted copy.

    The source's hash chain is checked first, the target's after: each event's content hash is
    kept, its position is the target's."""
    from imagetrail.engine.adapters.migration import copy_events
    from imagetrail.engine.adapters.store_urls import parse_store
    from imagetrail.engine.service.application import ImageTrail
    from imagetrail.cli.session import resolver

    source = s.app
    target_store = parse_store(s.settings.with_flags(store=target_url))
    if target_store.url == source.store.url:
        raise UsageError("--to names the store being copied: give another store URL")
    broken = [topic or "the log" for topic, verdict in walk_chains(source) if not verdict.ok]
    if broken:
        raise UsageError(f"the source's hash chain is broken ({', '.join(broken)}): run `imagetrail verify` "
                         "for where; nothing was copied")
    target_store.prepare(create=True)
    target = ImageTrail(target_store, resolver(s.settings, lazy=True), internal_registry=s.settings.internal_registry)
    report = copy_events(source.recorder, target.recorder, partitioned=target_store.partitioned)
    click.echo(f"copied {report.copied} events in {report.writes} writes to {target_store.url} "
               f"({report.already_there} were there already)")
    verdicts = walk_chains(target)
    in_target = sum(v.count for _, v in verdicts)
    if not print_verdicts(verdicts):
        raise SystemExit(1)
    if in_target != report.events:
        raise UsageError(f"the target holds {in_target} events, the source {report.events}: the target was "
                         "not empty before the first copy; use a new store")
