"""Section 4: cost per example as the number of client operations grows.

(a) The limiter machine on the correct limiter with ``steps_per_example`` of
10, 100 and 1000: a few examples each, timed one by one, with the operations
(client operations and limiter calls) and scheduler steps each example really
ran.  Hypothesis ends a state machine example early once its choice sequence
nears its 8 KiB cap, so the longest examples run fewer rules than asked; the
per-step columns are what shows the growth.

(b) A program of exactly N acquires on the correct limiter (four client tasks)
under ``run_program`` with uniformly random decisions (no Hypothesis, so no cap).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from bench.markdown import DASH, number, table
from bench.programs import RandomDecisions, limiter_program
from bench.session import Session
from fuzzer.program import run_program
from fuzzer.runner import FuzzConfig, fuzz_machine
from targets.limiter_machine import LimiterMachine, limiter_machine

TITLE = "## 4. Scaling with the number of operations"
HEADER = (
    "steps asked",
    "examples",
    "operations per example, mean",
    "scheduler steps per example, mean",
    "ms per example, mean",
    "µs per scheduler step",
    "µs per operation",
)
PROGRAM_HEADER = (
    "acquires",
    "runs",
    "scheduler steps",
    "ms per run, median",
    "µs per scheduler step",
    "µs per acquire",
)


@dataclass
class ExampleCost:
    """Per example: wall seconds, operations, scheduler steps."""

    seconds: list[float] = field(default_factory=list)
    operations: list[int] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)


def run(session: Session) -> str:
    """Measure and render section 4."""
    config = session.config
    sizes = list(zip(config.scaling_sizes, config.scaling_examples, strict=True))
    machine_rows = [_machine_row(size, examples) for size, examples in sizes]
    program_rows = [_program_row(size, max(examples, 3)) for size, examples in sizes]
    return "\n\n".join(
        [
            TITLE,
            _intro(),
            "### (a) The limiter machine, `FuzzConfig(steps_per_example=N)`",
            table(HEADER, machine_rows),
            "### (b) A program of N acquires under `run_program`",
            table(PROGRAM_HEADER, program_rows),
            "Linear growth shows as a flat cost per step and per operation down each table.",
        ]
    )


def _intro() -> str:
    return (
        "Correct limiter. (a) times each example from the machine's construction to the end "
        "of its teardown; operations are the spawns and calls it made (client operations "
        "and limiter calls), steps the scheduler steps it ran; the cost per step and per "
        "operation is total time over total count (Hypothesis's first examples are its "
        "smallest, so means per example understate the size asked). (b) runs N `acquire(1)` calls "
        "spread over four tasks (capacity and refill 4, so the queue stays short), with "
        "seeded random decisions."
    )


def timed_machine(cost: ExampleCost) -> type[LimiterMachine]:
    """The correct limiter's machine, recording each example's cost into ``cost``."""
    base = limiter_machine(frozenset())

    class Timed(base):  # type: ignore[valid-type, misc]
        def __init__(self) -> None:
            self._started = time.perf_counter()
            super().__init__()

        def teardown(self) -> None:
            try:
                super().teardown()
            finally:
                entries = self.world.trace.entries
                cost.seconds.append(time.perf_counter() - self._started)
                cost.operations.append(sum(1 for e in entries if e.kind in ("spawn", "call")))
                cost.steps.append(self.world.scheduler.step_count)

    Timed.__name__ = Timed.__qualname__ = base.__name__
    return Timed


def _machine_row(size: int, examples: int) -> list[str]:
    """Means per example; per-step and per-operation costs are ratios of the totals."""
    cost = ExampleCost()
    config = FuzzConfig(max_examples=examples, seed=0, steps_per_example=size, shrink=False)
    fuzz_machine(timed_machine(cost), config)
    seconds, steps, operations = sum(cost.seconds), sum(cost.steps), sum(cost.operations)
    count = len(cost.seconds)
    return [
        str(size),
        str(count),
        f"{operations / count:.0f}",
        f"{steps / count:.0f}",
        f"{seconds / count * 1000:.1f}",
        _per(seconds, steps),
        _per(seconds, operations),
    ]


def _per(seconds: float, count: float) -> str:
    return f"{seconds / count * 1e6:.0f}" if count else DASH


def _program_row(size: int, runs: int) -> list[str]:
    times: list[float] = []
    steps: list[int] = []
    for run_seed in range(runs):
        started = time.perf_counter()
        result = run_program(limiter_program(size), RandomDecisions(run_seed))
        times.append(time.perf_counter() - started)
        result.raise_failure()
        steps.append(sum(1 for entry in result.trace.entries if entry.kind == "step"))
    seconds = statistics.median(times)
    step_count = statistics.median(steps)
    return [
        str(size),
        str(runs),
        number(step_count),
        f"{seconds * 1000:.2f}",
        _per(seconds, step_count),
        _per(seconds, size),
    ]
