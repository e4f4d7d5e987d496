"""Search for a failing schedule of a whole trio program.

:func:`explore_program` runs ``main`` many times under Hypothesis, each time
with scheduling decisions drawn by an exploration strategy, until one run fails;
Hypothesis shrinks it, :mod:`fuzzer.minimize` removes every surprise that is
not needed, and a final detailed run records the trace.  The result is a
:class:`Finding`: the minimal decisions, the trace, the failure, and how long the
search took.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, seed, settings

from fuzzer.decisions import DecisionSource, RecordedDecisions
from fuzzer.failures import FailureInfo
from fuzzer.minimize import minimize_decisions
from fuzzer.program import ProgramResult, run_program
from fuzzer.trace import Trace
from fuzzer.world import Budget
from strategies.schedules import DEFAULT_STRATEGY, schedules


@dataclass(slots=True)
class Finding:
    """A failing schedule, minimised, with the search's cost."""

    decisions: list[int]
    trace: Trace
    failure: FailureInfo
    examples: int  # runs until the first failure
    seconds: float  # wall time until the first failure

    @property
    def surprises(self) -> int:
        """Non-default decisions: the preemptions and reorderings that matter."""
        return sum(1 for d in self.decisions if d)


def explore_program(
    main: Callable[[], Awaitable[object]],
    *,
    strategy: str = DEFAULT_STRATEGY,
    max_examples: int = 1000,
    seed_value: int | None = 0,
    checks: Callable[[], None] | None = None,
    snapshot: Callable[[], dict[str, Any]] | None = None,
    budget: Budget | None = None,
) -> Finding | None:
    """Fuzz the schedules of ``main``; ``None`` if no run failed.

    ``seed_value`` fixes Hypothesis's seed (``None``: random), so a regular test
    suite is deterministic.
    """

    def run(source: DecisionSource, detail: bool = False) -> ProgramResult:
        return run_program(
            main, source, checks=checks, snapshot=snapshot, detail=detail, budget=budget
        )

    counter = _FirstFailure()

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(schedules(strategy))
    def search(source: DecisionSource) -> None:
        result = run(source)
        counter.count(result)
        result.raise_failure()

    if seed_value is not None:
        search = seed(seed_value)(search)
    with contextlib.suppress(Exception):  # the failure is read from the counter
        search()
    if counter.last_failure is None:
        return None
    signature = counter.last_failure.failure
    assert signature is not None

    def replay(candidate: list[int]) -> tuple[bool, list[int]]:
        result = run(RecordedDecisions(candidate))
        same = result.failure is not None and result.failure.signature() == signature.signature()
        return same, result.decisions

    decisions = minimize_decisions(counter.last_failure.decisions, replay)
    final = run(RecordedDecisions(decisions), detail=True)
    assert final.failure is not None, "the minimised schedule no longer fails"
    return Finding(final.decisions, final.trace, final.failure, counter.examples, counter.seconds)


class _FirstFailure:
    """Counts runs up to the first failure, and keeps the latest failing run."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.runs = 0
        self.examples = 0
        self.seconds = 0.0
        self.last_failure: ProgramResult | None = None

    def count(self, result: ProgramResult) -> None:
        self.runs += 1
        if result.failure is None:
            return
        if self.last_failure is None:
            self.examples = self.runs
            self.seconds = time.perf_counter() - self.started
        self.last_failure = result
