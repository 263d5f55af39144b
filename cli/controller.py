"""`imagetrail controller`: the long-lived scheduled import process."""

from __future__ import annotations

import logging
import signal
import sys
import threading

import click

from imagetrail.engine.service.scheduled_imports import DEFAULT_PER_MINUTE, ScheduledImportController
from imagetrail.cli.params import Whole
from imagetrail.engine.domain.parsing import parse_go_duration


def parse_interval(value: str) -> float:
    """Go-style durations, as oc and the controller config take them: 15m, 1h30m, 90s, 0.5s."""
    return parse_go_duration(value, "--interval")


@click.command()
@click.option("--interval", default="15m", show_default=True,
              help="Time between the starts of two import cycles (a Go duration: 15m, 1h, 90s).")
@click.option("--max-per-minute", type=Whole(1, 1_000_000), default=DEFAULT_PER_MINUTE, show_default=True,
              help="At most this many image stream imports a minute.")
@click.option("--once", is_flag=True, help="Run one cycle and exit (for cron and tests); "
                                           "exit status 1 when an import failed.")
@click.option("-v", "--verbose", is_flag=True, help="Also log each stream whose tags did not move.")
@click.pass_obj
def controller(s, interval, max_per_minute, once, verbose):
    """Re-import every tag with importPolicy.scheduled, on an interval.

    Only a changed digest is written, and it rolls out the Deployments whose triggers
    follow the tag; a failure is recorded as the tag's ImportSuccess=False condition.
    SIGTERM or Ctrl-C stops after the import in progress. Progress goes to stderr.
    """
    seconds = parse_interval(interval)
    s.writer  # scheduled imports write: the store is created if need be
    # our own logger only: the Kafka client's INFO chatter stays out of the progress log
    logger = logging.getLogger("imagetrail")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    try:
        _run(s, interval, seconds, max_per_minute, once)
    finally:
        logger.removeHandler(handler)


def _run(s, interval: str, seconds: float, max_per_minute: int, once: bool) -> None:
    log = logging.getLogger("imagetrail.controller")

    def scheduled_streams() -> list[tuple[str, str]]:
        return [(st.namespace, st.name) for st in s.view.list("imagestream", None) if st.scheduled_tags()]

    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("%s received: stopping after the import in progress", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        log.info("started: interval %s, at most %d imports a minute, store %s", interval, max_per_minute,
                 s.app.store.url)
        report = ScheduledImportController(s.app, scheduled_streams, interval=seconds, per_minute=max_per_minute,
                                           stop=stop).run(once=once)
        log.info("stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if once and report and report.failed:
        raise SystemExit(1)
