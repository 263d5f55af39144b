"""`imagetrail controller`: the long-lived scheduled import process."""

from __future__ import annotations

import logging
import re
import signal
import threading

import click

from imagetrail.engine.controller import DEFAULT_PER_MINUTE, ScheduledImportController
from imagetrail.engine.errors import UsageError

DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?")


def parse_interval(value: str) -> float:
    """Go-style durations, as oc and the controller config take them: 15m, 1h30m, 90s, 0.5s."""
    match = DURATION.fullmatch(value)
    if not value or not match:
        raise UsageError(f'invalid --interval "{value}": use a duration like 15m, 1h, 90s')
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise UsageError(f'invalid --interval "{value}": it must be longer than 0s')
    return total


@click.command()
@click.option("--interval", default="15m", show_default=True,
              help="Time between the starts of two import cycles (a Go duration: 15m, 1h, 90s).")
@click.option("--max-per-minute", type=click.IntRange(min=1), default=DEFAULT_PER_MINUTE, show_default=True,
              help="At most this many image stream imports a minute.")
@click.option("--once", is_flag=True, help="Run one cycle and exit (for cron and tests); "
                                           "exit status 1 when an import failed.")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail too.")
@click.pass_obj
def controller(s, interval, max_per_minute, once, verbose):
    """Re-import every tag with importPolicy.scheduled, on an interval.

    Only a changed digest is written, and it rolls out the Deployments whose triggers
    follow the tag; a failure is recorded as the tag's ImportSuccess=False condition.
    SIGTERM or Ctrl-C stops after the import in progress. Progress goes to stderr.
    """
    seconds = parse_interval(interval)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = s.app

    def scheduled_streams() -> list[tuple[str, str]]:
        return [(st.namespace, st.name) for st in s.view.list("imagestream", None) if st.scheduled_tags()]

    stop = threading.Event()

    def on_signal(signum, _frame):
        logging.getLogger("imagetrail.controller").info(
            "%s received: stopping after the import in progress", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    logging.getLogger("imagetrail.controller").info(
        "started: interval %s, at most %d imports a minute, store %s", interval, max_per_minute,
        app.store.url)
    report = ScheduledImportController(app, scheduled_streams, interval=seconds, per_minute=max_per_minute,
                                       stop=stop).run(once=once)
    logging.getLogger("imagetrail.controller").info("stopped")
    if once and report and report.failed:
        raise SystemExit(1)
