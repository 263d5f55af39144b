"""Event consumers' commands: `events tail` (CloudEvents JSON lines) and `schema`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from pydantic import BaseModel

from imagetrail.engine.domain.aggregate import DomainEvent
from imagetrail.engine.domain.cloudevents import cloudevent, event_type
from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.errors import UsageError
from imagetrail.cli.params import Seconds
from imagetrail.engine.domain.parsing import is_integer, parse_int
from imagetrail.engine.domain.references import quote
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.watchers import StreamWatchers
from imagetrail.projections.pump import pump

AGGREGATES = (ImageStream, Deployment, StreamWatchers)


def event_classes() -> dict[str, type[BaseModel]]:
    found = {}
    for aggregate in AGGREGATES:
        for name, value in sorted(vars(aggregate).items()):
            if isinstance(value, type) and issubclass(value, DomainEvent) and name not in ("Event", "Snapshot"):
                found[event_type(value)] = value
    return found


def known_types(name: str) -> list[str]:
    """The event types NAME stands for (full, Aggregate.Event or Event); an error naming the
    known ones if none."""
    classes = event_classes()
    match = [t for t in classes if t == name or t.rsplit(".", 1)[-1] == name or t.endswith("." + name)]
    if not match:
        raise UsageError(f'unknown event type {quote(name)}; known: {", ".join(sorted(classes))}')
    return match


@click.group()
def events() -> None:
    """Read the event stream, for other tools."""


@events.command("tail")
@click.option("--from", "start", default="beginning", show_default=True,
              help="beginning, end, or a position (inclusive).")
@click.option("-f", "--follow", is_flag=True, help="Keep waiting for new events (Ctrl-C stops).")
@click.option("--type", "types", multiple=True,
              help="Only these event types (e.g. TagMoved or dev.imagetrail.ImageStream.TagMoved).")
@click.option("--poll", type=Seconds(0.05, 3600), default=0.5, show_default=True,
              help="With --follow, the longest wait before looking again; new events arrive sooner "
                   "(pushed by Kafka, seen within 50 ms on SQLite).")
@click.pass_obj
def tail(s, start, follow, types, poll):
    """Print events as CloudEvents 1.0 JSON, one a line, in log order."""
    app = s.app
    if start == "beginning":
        position = 0
    elif start == "end":
        position = app.recorder.max_notification_id() or 0
    elif is_integer(start):
        position = parse_int(start, "--from", minimum=1) - 1
    else:
        raise UsageError(f'invalid --from {quote(start)}: use beginning, end or a position')
    wanted = {t for name in types for t in known_types(name)}
    source = app.source
    try:
        for page in pump(app, position, follow=follow, poll=poll):
            for at, event in page:
                kind = event_type(type(event))
                if not wanted or kind in wanted or kind.rsplit(".", 1)[-1] in wanted:
                    click.echo(json.dumps(cloudevent(at, event, source)))
    except KeyboardInterrupt:
        return


@events.command("notify")
@click.option("--file", "file_", help="Append one line per tag move and rollout to this file.")
@click.option("--webhook", help="POST each line as JSON {text, id} to this URL (Idempotency-Key header).")
@click.option("--state", "state_path", help="Where the consumer keeps its position "
              "(default: next to the file, or under $XDG_STATE_HOME/imagetrail).")
@click.option("-f", "--follow", is_flag=True, help="Keep running and deliver new events as they come.")
@click.option("--poll", type=Seconds(0.05, 3600), default=0.5, show_default=True,
              help="With --follow, the longest wait before looking again; new events arrive sooner.")
@click.option("--pace", type=Seconds(0, 3600), default=0.0, help="Seconds between deliveries (rate limits).")
@click.pass_obj
def notify(s, file_, webhook, state_path, follow, poll, pace):
    """Run the change notifier: resumes where it stopped, never doubles a line."""
    from imagetrail.projections.consumers import ChangeNotifier

    if not (file_ or webhook):
        raise UsageError("give --file PATH or --webhook URL")
    if state_path is None:
        base = Path(file_).parent if file_ else s.settings.state_home / "imagetrail"
        state_path = str(base / ".imagetrail-notifier.db")
    notifier = ChangeNotifier(state_path, file=file_, webhook=webhook)
    try:
        notifier.run(s.app, follow=follow, poll=poll, pace=pace)
    except KeyboardInterrupt:
        return


@click.command()
@click.argument("types", nargs=-1)
def schema(types):
    """Print the JSON Schema of every event type and read model (or of TYPES): the contract for consumers.

    Events are as stored (snake_case); the read models (history, log, doctor) as printed (camelCase)."""
    classes, models = event_classes(), read_models()
    chosen = {}
    for name in types or [*classes, *models]:
        if name in models:
            chosen[name] = {"version": 1, "schema": models[name].model_json_schema(by_alias=True, mode="serialization")}
            continue
        try:
            found = known_types(name)
        except UsageError as e:
            raise UsageError(f"{e}; read models: {', '.join(models)}") from None
        for t in found:
            chosen[t] = {"version": getattr(classes[t], "class_version", 1),
                         "schema": classes[t].model_json_schema(by_alias=False)}  # as stored
    click.echo(json.dumps(chosen, indent=2))


def read_models() -> dict[str, type[BaseModel]]:
    """What history, log and doctor print, by name (projections/records.py, engine/domain/doctor.py)."""
    from imagetrail.engine.domain.doctor import DoctorReport
    from imagetrail.projections.records import MODELS

    return {**MODELS, "DoctorReport": DoctorReport}
