"""The scheduled import controller's pacing and shutdown, on a simulated clock."""

from imagetrail.engine.service.scheduled_imports import ScheduledImportController, ScheduledImportResult
from imagetrail.engine.service.tag_processing import TagImport
from imagetrail.engine.service.unit_of_work import ImportFailure, Rollout
from imagetrail.engine.domain.errors import Conflict


class Clock:
    """A clock that moves only when the controller waits, and a stop event that waits on it."""

    def __init__(self):
        self.now = 0.0
        self.waits: list[float] = []
        self.stop_at: float | None = None

    def __call__(self) -> float:
        return self.now

    def is_set(self) -> bool:
        return self.stop_at is not None and self.now >= self.stop_at

    def set(self) -> None:
        self.stop_at = self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(round(seconds, 6))
        if self.stop_at is not None and self.now + seconds >= self.stop_at:
            self.now = max(self.now, self.stop_at)
            return True
        self.now += seconds
        return False


class Importer:
    def __init__(self, clock: Clock, outcomes: dict | None = None):
        self.clock = clock
        self.calls: list[tuple[float, str]] = []
        self.outcomes = outcomes or {}

    def reimport_scheduled(self, namespace: str, name: str) -> ScheduledImportResult:
        self.calls.append((self.clock.now, f"{namespace}/{name}"))
        result = self.outcomes.get(name, ScheduledImportResult())
        if isinstance(result, Exception):
            raise result
        return result


STREAMS = [("demo", "a"), ("demo", "b"), ("demo", "c")]


def test_imports_are_spaced_to_stay_under_the_rate_limit():
    clock = Clock()
    importer = Importer(clock)
    ScheduledImportController(importer, lambda: STREAMS, per_minute=2, stop=clock, clock=clock).run(once=True)
    assert importer.calls == [(0.0, "demo/a"), (30.0, "demo/b"), (60.0, "demo/c")]


def test_cycles_start_an_interval_apart_and_a_stop_ends_the_wait():
    clock = Clock()
    importer = Importer(clock)
    clock.stop_at = 2000.0
    report = ScheduledImportController(importer, lambda: STREAMS[:1], interval=900, per_minute=60,
                                       stop=clock, clock=clock).run()
    assert [t for t, _ in importer.calls] == [0.0, 900.0, 1800.0]
    assert report.number == 3 and clock.now == 2000.0


def test_a_stop_mid_cycle_leaves_the_rest_of_the_cycle_undone():
    clock = Clock()
    importer = Importer(clock)
    clock.stop_at = 45.0
    report = ScheduledImportController(importer, lambda: STREAMS, per_minute=2, stop=clock, clock=clock).run()
    assert [name for _, name in importer.calls] == ["demo/a", "demo/b"]
    assert report.streams == 2


def test_the_report_counts_imports_failures_and_unchanged_streams():
    clock = Clock()
    moved = TagImport("demo", "a", "1", "sha256:new", "sha256:old")
    imported = ScheduledImportResult(imported=[moved], rollouts=[Rollout("web", 2)])
    failed = ScheduledImportResult(failures=[ImportFailure("b", "1", "connection refused")])
    importer = Importer(clock, {"a": imported, "b": failed, "c": Conflict("the object has been modified")})
    report = ScheduledImportController(importer, lambda: STREAMS + [("demo", "d")], per_minute=600,
                                       stop=clock, clock=clock).run(once=True)
    assert report.imported == [moved]
    assert report.rollouts == [Rollout("web", 2)]
    assert report.failed == ["demo/b:1: connection refused", "demo/c: the object has been modified"]
    assert report.unchanged == 1  # d
    assert report.summary().startswith("cycle 1 done in 0.3s: 4 streams, 1 tags imported, 1 streams unchanged, "
                                       "2 failures, 1 rollouts")
