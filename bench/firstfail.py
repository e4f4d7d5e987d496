"""Examples and seconds to the first *genuine* failure, for every benchmark table.

This is :func:`bench.measure.find_bug` counted independently.  The runner once
counted an example as failing as soon as its world recorded a failure, and
Hypothesis's own control-flow exceptions were recorded too: when an example ran
out of choice data mid-step, ``StopTest`` (an overrun, which Hypothesis
discards) or ``Frozen`` was noted as "the first failure", tens of examples too
early on some seeds.  The runner now ignores discarded examples; this module
keeps its own count (a subclass of the limiter machine notes, at the end of
every example, whether its failure is one Hypothesis reports), so the tables
do not depend on that fix, and the two counts can be compared.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field

import hypothesis.errors

from bench.measure import Measurement, measurement
from fuzzer.failures import FailureInfo
from fuzzer.runner import FuzzConfig, FuzzResult, fuzz_machine
from targets.limiter_machine import LimiterMachine, limiter_machine

CONTROL_FLOW = frozenset(
    name
    for name, cls in inspect.getmembers(hypothesis.errors, inspect.isclass)
    if issubclass(cls, BaseException)
)
"""Names of Hypothesis's exceptions: recorded by the world, never reported as bugs."""


def is_genuine(failure: FailureInfo | None) -> bool:
    """A failure Hypothesis reports, as opposed to an overrun or a rejected example."""
    return failure is not None and failure.title not in CONTROL_FLOW


@dataclass
class FirstFailure:
    """Counts examples (as the runner does) and keeps the first genuine failure."""

    started: float = field(default_factory=time.perf_counter)
    examples: int = 0
    spurious: int = 0
    found_at: int | None = None
    seconds: float | None = None

    def note(self, failure: FailureInfo | None) -> None:
        """Called at the end of every example with its world's failure (or None)."""
        if failure is None:
            return
        if not is_genuine(failure):
            self.spurious += 1
        elif self.found_at is None:
            self.found_at = self.examples
            self.seconds = time.perf_counter() - self.started


def watched_machine(bugs: frozenset[str], tracker: FirstFailure) -> type[LimiterMachine]:
    """The limiter machine for ``bugs``, reporting every example's end to ``tracker``."""
    base = limiter_machine(bugs)

    class Watched(base):  # type: ignore[valid-type, misc]
        def __init__(self) -> None:
            tracker.examples += 1
            super().__init__()

        def teardown(self) -> None:
            try:
                super().teardown()
            finally:
                tracker.note(self.world.failure)

    Watched.__name__ = Watched.__qualname__ = base.__name__
    return Watched


def first_failure(
    bug: str,
    strategy: str,
    seed: int,
    *,
    max_examples: int = 20_000,
    budget: float = 30.0,
    shrink: bool = False,
    shrink_grace: float | None = None,
) -> Measurement:
    """Fuzz the limiter with ``bug`` alone until its first genuine failure (or the budget).

    Without shrinking the run ends at the first failure; the grace period only
    covers the final replay.  With shrinking, a failure found within ``budget``
    may be shrunk for ``shrink_grace`` seconds more (default: the budget again,
    as in :func:`bench.measure.find_bug`).
    """
    tracker = FirstFailure()
    machine = watched_machine(frozenset({bug}) if bug != "correct" else frozenset(), tracker)
    config = FuzzConfig(
        max_examples=max_examples,
        budget_seconds=budget,
        shrink_grace_seconds=_grace(budget, shrink, shrink_grace),
        seed=seed,
        strategy=strategy,
        shrink=shrink,
    )
    tracker.started = time.perf_counter()
    result = fuzz_machine(machine, config)
    return _measurement(bug, strategy, seed, result, tracker, shrink=shrink)


def _grace(budget: float, shrink: bool, shrink_grace: float | None) -> float:
    """Seconds allowed past the budget: to shrink, or (1 s) for the final replay."""
    if not shrink:
        return 1.0
    return budget if shrink_grace is None else shrink_grace


def _measurement(
    bug: str,
    strategy: str,
    seed: int,
    result: FuzzResult,
    tracker: FirstFailure,
    *,
    shrink: bool,
) -> Measurement:
    """The table row for one run: found or not, and the corrected counts."""
    return measurement(
        bug, strategy, seed, result, tracker.found_at, tracker.seconds, shrink=shrink
    )


__all__ = ["CONTROL_FLOW", "FirstFailure", "first_failure", "is_genuine"]
