"""What one benchmark run measures and with which budgets (full run or ``--quick``)."""

from __future__ import annotations

from dataclasses import dataclass

from targets.bugs import BUGS

ALL_BUG_IDS: tuple[str, ...] = tuple(sorted(BUGS))
STRATEGIES: tuple[str, ...] = ("uniform", "pct", "preemption_bounded", "pos", "portfolio")
"""The exploration strategies section 1 can compare (``hypothesis`` is their base)."""
FULL_STRATEGIES: tuple[str, ...] = ("uniform", "pct", "pos", "portfolio")
"""The full run's default: ``preemption_bounded`` left out to keep it under 25 minutes
(it found the fewest bugs in a trial full run; the portfolio still draws it)."""
DEFAULT_STRATEGY = "portfolio"
QUICK_BUGS: tuple[str, ...] = ("B03", "B06", "B10")
"""Three bugs every strategy finds within a fraction of a second (for CI)."""


@dataclass(frozen=True)
class BenchConfig:
    """Every knob of a benchmark run; :func:`full_config` and :func:`quick_config` fill it."""

    seeds: int
    bugs: tuple[str, ...]
    strategies: tuple[str, ...]
    budget: float  # seconds per fuzzing run (to the first failure)
    max_examples: int
    shrink_seeds: int  # finding seeds per bug for the shrunk sizes
    shrink_grace: float  # seconds to shrink a failure (found within ``budget``)
    stress_seeds: int
    stress_budget: float  # seconds of stress testing per bug and seed: the fuzzer's budget
    program_examples: int  # overhead (a): examples per round
    machine_examples: int  # overhead (b): examples per round
    rounds: int  # overhead: repetitions, the median is reported
    scaling_sizes: tuple[int, ...]
    scaling_examples: tuple[int, ...]  # examples per size, same order
    jobs: int
    quick: bool = False

    def seed_values(self) -> range:
        """The Hypothesis seeds of section 1: 0 .. seeds - 1."""
        return range(self.seeds)


def full_config(
    seeds: int, jobs: int, budget: float | None, strategies: tuple[str, ...] | None = None
) -> BenchConfig:
    """The documented run: every bug, ``seeds`` seeds, the full strategy list."""
    return BenchConfig(
        seeds=seeds,
        bugs=ALL_BUG_IDS,
        strategies=FULL_STRATEGIES if strategies is None else strategies,
        budget=10.0 if budget is None else budget,
        max_examples=20_000,
        shrink_seeds=min(3, seeds),
        shrink_grace=20.0,
        stress_seeds=min(3, seeds),
        stress_budget=10.0 if budget is None else budget,
        program_examples=1000,
        machine_examples=200,
        rounds=5,
        scaling_sizes=(10, 100, 1000),
        scaling_examples=(30, 10, 4),
        jobs=jobs,
    )


def quick_config(
    seeds: int, jobs: int, budget: float | None, strategies: tuple[str, ...] | None = None
) -> BenchConfig:
    """The CI run: under a minute, three easy bugs, tiny budgets, every table."""
    seeds = min(seeds, 2)
    return BenchConfig(
        seeds=seeds,
        bugs=QUICK_BUGS,
        strategies=STRATEGIES if strategies is None else strategies,
        budget=2.0 if budget is None else budget,
        max_examples=2000,
        shrink_seeds=1,
        shrink_grace=3.0,
        stress_seeds=1,
        stress_budget=2.0 if budget is None else budget,
        program_examples=150,
        machine_examples=30,
        rounds=2,
        scaling_sizes=(10, 100, 1000),
        scaling_examples=(4, 2, 1),
        jobs=jobs,
        quick=True,
    )
