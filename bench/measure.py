"""One measurement: fuzz the seeded limiter with one bug on, until the first failure.

Used by every benchmark table.  ``examples`` and ``seconds`` count up to the
first failing example, before shrinking; ``size`` is the shrunk scenario when
``shrink`` is on.
"""

from __future__ import annotations

from dataclasses import dataclass

from fuzzer.machine import FinalRun
from fuzzer.runner import FuzzConfig, FuzzResult, fuzz_machine
from targets.limiter_machine import limiter_machine

END_OF_RUN = "[end of run]"


@dataclass(frozen=True)
class ScenarioSize:
    """A shrunk scenario's size in the terms of the spec's triggers."""

    operations: int
    time_advances: int
    decisions: int
    scheduler_steps: int

    @property
    def total(self) -> int:
        return self.operations + self.time_advances + self.decisions


@dataclass(frozen=True)
class Measurement:
    bug: str
    strategy: str
    seed: int
    found: bool
    examples: int | None
    seconds: float | None
    invariant: str | None = None
    size: ScenarioSize | None = None


def scenario_size(run: FinalRun) -> ScenarioSize:
    """Operations (not counting the harness's final stop), time moves and surprises.

    Only what happened up to the failing step counts.
    """
    last = run.failure.step if run.failure is not None else None
    entries = [e for e in run.trace.entries if last is None or e.step <= last]
    operations = sum(
        1
        for e in entries
        if e.kind in ("spawn", "call") and not (e.label or "").endswith(END_OF_RUN)
    )
    time_advances = sum(1 for e in entries if e.kind == "time")
    steps = sum(1 for e in entries if e.kind == "step")
    return ScenarioSize(operations, time_advances, sum(1 for d in run.decisions if d), steps)


def find_bug(
    bug: str,
    strategy: str,
    seed: int,
    *,
    max_examples: int = 20_000,
    budget: float = 60.0,
    shrink: bool = False,
    shrink_grace: float | None = None,
) -> Measurement:
    """Fuzz the limiter with ``bug`` alone until its first failure (or the budget).

    The runner counts only failures Hypothesis reports (an example it discards,
    such as an overrun, is none), so its first-failure figures are the table's.
    Without shrinking the run ends at the first failure; the grace period only
    covers the final replay.  With shrinking, a failure found within ``budget``
    may be shrunk for ``shrink_grace`` seconds more (default: the budget again).
    """
    machine = limiter_machine(frozenset({bug}) if bug != "correct" else frozenset())
    config = FuzzConfig(
        max_examples=max_examples,
        budget_seconds=budget,
        shrink_grace_seconds=_grace(budget, shrink, shrink_grace),
        seed=seed,
        strategy=strategy,
        shrink=shrink,
    )
    result = fuzz_machine(machine, config)
    return measurement(
        bug,
        strategy,
        seed,
        result,
        result.first_failure_examples,
        result.first_failure_seconds,
        shrink=shrink,
    )


def _grace(budget: float, shrink: bool, shrink_grace: float | None) -> float:
    """Seconds allowed past the budget: to shrink, or (1 s) for the final replay."""
    if not shrink:
        return 1.0
    return budget if shrink_grace is None else shrink_grace


def measurement(
    bug: str,
    strategy: str,
    seed: int,
    result: FuzzResult,
    examples: int | None,
    seconds: float | None,
    *,
    shrink: bool,
) -> Measurement:
    """The measurement of one fuzzing run, with the first-failure counts given."""
    if not result.failures or examples is None:
        return Measurement(bug, strategy, seed, False, None, None)
    run = result.failures[0].run
    return Measurement(
        bug,
        strategy,
        seed,
        True,
        examples,
        seconds,
        run.failure.title if run.failure else None,
        scenario_size(run) if shrink else None,
    )
