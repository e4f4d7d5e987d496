"""Section 6: what a second worker process buys (``--workers 2`` against one).

Each measurement is made with one worker and with two, through
``fuzzer.parallel.fuzz_target`` as ``python -m fuzzer run --workers N`` calls
it: one worker fuzzes in this process; two are two spawned processes that share
nothing (the example database is ``none``).

(a) Throughput: examples per second on the correct limiter (no bug, so no run
stops early), the same wall budget for both.  Every worker uses one strategy
(``uniform``), so the ratio measures parallelism, not the different per-example
costs of different strategies.

(b) Time to find the slowest bug (``SLOWEST_BUG``): wall seconds to the first
failure, no shrinking, over several seeds, the same budget cap for both.  Here
both use the default strategy, ``portfolio``, as a user gets it: one process
draws a strategy per example, while two workers each explore with their own
(``fuzzer.parallel.WORKER_STRATEGIES``: uniform and pos).  So (b) measures
what ``--workers 2`` promises, parallelism and diversity together.

Why it is fair:

- wall time runs from the call to ``fuzz_target`` until it returns, so the
  two-worker figures pay for starting two interpreters, importing the fuzzer in
  each and collecting their results; examples per second are per second of that
  wall time;
- one mode at a time, alternating (1, 2, 1, 2, ...), and never beside another
  benchmark job, whatever ``--jobs`` says: two workers need both cores of a
  2-core machine;
- the core count and load average are printed at the start and the end: a
  loaded machine takes cores from the two workers and lowers the ratio.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from bench.config import DEFAULT_STRATEGY, BenchConfig
from bench.markdown import DASH, censored_median, median_max, number, ratio, seconds, table
from bench.session import Session
from fuzzer.parallel import fuzz_target
from fuzzer.registry import get_target
from fuzzer.runner import FuzzConfig, FuzzResult

TITLE = "## 6. Worker processes: one against two"
THROUGHPUT_HEADER = (
    "workers",
    "strategy per worker",
    "examples, median",
    "wall seconds, median",
    "examples/s of wall time, median",
    "examples/s per worker, median",
    "vs. 1 worker",
)
FIND_HEADER = (
    "workers",
    "strategy per worker",
    "found",
    "wall seconds to 1st failure, median over all seeds",
    "wall seconds, median (max) over finding seeds",
    "examples in all workers, median",
    "wall seconds searched per find",
)

TARGET = "limiter"
THROUGHPUT_STRATEGY = "uniform"
FIND_STRATEGY = DEFAULT_STRATEGY
SLOWEST_BUG = "B09"
"""The bug found least often in docs/benchmarks.md's full run: B09 was found in 1 of
40 runs (10 s each: only the portfolio, on one seed of ten), B07 in 4 of 40, every
other bug in more.  The slowest bug is where a faster search matters most."""
QUICK_BUG = "B10"
"""For ``--quick``: found within a fraction of a second by every strategy."""
MODES = (1, 2)
"""Worker counts compared, in the order each round runs them."""


@dataclass(frozen=True)
class Plan:
    """Budgets of this section (full run or ``--quick``)."""

    throughput_seconds: float  # wall budget of each throughput run
    rounds: int  # throughput runs per mode; the median is reported
    bug: str
    seeds: int  # seeds 0 .. seeds - 1 for the time to find ``bug``
    find_budget: float  # wall seconds before a search is given up

    def find_seeds(self) -> range:
        return range(self.seeds)


FULL = Plan(throughput_seconds=20.0, rounds=3, bug=SLOWEST_BUG, seeds=5, find_budget=60.0)
QUICK = Plan(throughput_seconds=2.0, rounds=1, bug=QUICK_BUG, seeds=1, find_budget=10.0)


def plan_for(config: BenchConfig) -> Plan:
    """The quick plan, or the full one with at most ``--seeds`` seeds."""
    if config.quick:
        return QUICK
    return replace(FULL, seeds=min(FULL.seeds, config.seeds))


@dataclass(frozen=True)
class Run:
    """One call of ``fuzz_target`` and the wall seconds it took."""

    workers: int
    seed: int
    wall: float
    result: FuzzResult

    @property
    def rate(self) -> float:
        """Examples per second of wall time, all workers together."""
        return self.result.examples / self.wall

    def worker_rates(self) -> list[float]:
        """Examples per second of wall time, worker by worker."""
        if not self.result.workers:
            return [self.rate]
        return [w.examples / self.wall for w in self.result.workers]

    def strategies(self, default: str) -> str:
        """The strategy of each worker, comma-separated."""
        if not self.result.workers:
            return default
        return ", ".join(w.strategy for w in self.result.workers)

    @property
    def found(self) -> bool:
        """A failure was found (its wall seconds are then known)."""
        return self.result.first_failure_seconds is not None and bool(self.result.failures)

    @property
    def seconds_to_failure(self) -> float | None:
        return self.result.first_failure_seconds if self.found else None

    @property
    def searched(self) -> float:
        """Wall seconds spent searching: to the failure, or the whole run."""
        found = self.seconds_to_failure
        return self.wall if found is None else found


def run(session: Session) -> str:
    """Measure and render section 6 (sequentially: ``--jobs`` does not apply)."""
    plan = plan_for(session.config)
    before = machine_state()
    print(f"[bench] workers: machine at the start: {before}", file=sys.stderr, flush=True)
    throughput = _throughput_runs(plan)
    find = _find_runs(plan)
    after = machine_state()
    print(f"\n[bench] workers: machine at the end: {after}", file=sys.stderr, flush=True)
    return "\n\n".join(
        [
            TITLE,
            _intro(plan),
            f"Machine at the start: {before}. At the end: {after}.",
            f"### (a) Throughput on the correct limiter, {plan.throughput_seconds:g} s per run",
            table(THROUGHPUT_HEADER, _throughput_rows(throughput)),
            _throughput_note(throughput),
            f"### (b) Time to find {plan.bug}, no shrinking, up to {plan.find_budget:g} s per run",
            table(FIND_HEADER, _find_rows(find)),
            _find_note(find),
        ]
    )


def machine_state() -> str:
    """Cores (and how many this process may use) and the load average."""
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    try:
        load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except (AttributeError, OSError):
        return f"{cores} cores ({usable} usable), load average unknown"
    return f"{cores} cores ({usable} usable), load average {load} (1 / 5 / 15 min)"


def _intro(plan: Plan) -> str:
    rounds = (
        f"{plan.rounds} runs per mode, alternating 1, 2, 1, 2, ..., medians shown"
        if plan.rounds > 1
        else "one run per mode"
    )
    seeds = f"seeds 0-{plan.seeds - 1}" if plan.seeds > 1 else "seed 0"
    return (
        "`fuzz_target` with 1 worker (the fuzzer in this process) and with 2 (two spawned "
        "processes, worker `i` seeded `seed + i * 1,000,000`), as `python -m fuzzer run "
        "--workers N` runs it, with no example database. Wall seconds run from the call until "
        "it returns, so the 2-worker figures include starting both processes. Measurements run "
        "one at a time, whatever `--jobs` says. "
        f"(a) {rounds}; every worker explores with `{THROUGHPUT_STRATEGY}` so that only the "
        "number of processes differs. "
        f"(b) {seeds}, each searched with 1 worker then 2, strategy `{FIND_STRATEGY}` (the "
        "default: 1 worker draws a strategy per example, 2 workers each keep their own)."
    )


# -- measuring -----------------------------------------------------------------------


def fuzz(bugs: list[str], workers: int, config: FuzzConfig) -> Run:
    """Fuzz the limiter with ``bugs`` on, timing the whole call."""
    target = get_target(TARGET)
    parameters = target.parameters(bugs)
    started = time.perf_counter()
    result = fuzz_target(target, parameters, config, workers=workers, database="none")
    wall = time.perf_counter() - started
    print(".", end="", file=sys.stderr, flush=True)
    return Run(workers, config.seed or 0, wall, result)


def _throughput_runs(plan: Plan) -> dict[int, list[Run]]:
    runs: dict[int, list[Run]] = {workers: [] for workers in MODES}
    for round_ in range(plan.rounds):
        config = FuzzConfig(
            max_examples=10**9,
            budget_seconds=plan.throughput_seconds,
            shrink_grace_seconds=1.0,
            seed=round_,
            strategy=THROUGHPUT_STRATEGY,
            shrink=False,
        )
        for workers in MODES:
            runs[workers].append(fuzz([], workers, config))
    return runs


def _find_runs(plan: Plan) -> dict[int, list[Run]]:
    runs: dict[int, list[Run]] = {workers: [] for workers in MODES}
    for seed in plan.find_seeds():
        config = FuzzConfig(
            max_examples=10**9,
            budget_seconds=plan.find_budget,
            shrink_grace_seconds=1.0,  # only the final replay of the failure
            seed=seed,
            strategy=FIND_STRATEGY,
            shrink=False,
        )
        for workers in MODES:
            runs[workers].append(fuzz([plan.bug], workers, config))
    return runs


# -- rendering -----------------------------------------------------------------------


def _median(runs: list[Run], value: Callable[[Run], float]) -> float:
    return statistics.median(value(r) for r in runs)


def _worker_medians(runs: list[Run]) -> list[float]:
    """Each worker's median examples/s over the runs."""
    per_run = [r.worker_rates() for r in runs]
    return [statistics.median(rates[i] for rates in per_run) for i in range(len(per_run[0]))]


def _throughput_rows(runs: dict[int, list[Run]]) -> list[list[str]]:
    base = _median(runs[1], lambda r: r.rate)
    rows = []
    for workers, mode_runs in runs.items():
        rate = _median(mode_runs, lambda r: r.rate)
        rows.append(
            [
                str(workers),
                mode_runs[0].strategies(THROUGHPUT_STRATEGY),
                number(_median(mode_runs, lambda r: r.result.examples)),
                seconds(_median(mode_runs, lambda r: r.wall), 2),
                number(rate, 1),
                ", ".join(number(w, 1) for w in _worker_medians(mode_runs)),
                ratio(rate, base),
            ]
        )
    return rows


def _throughput_note(runs: dict[int, list[Run]]) -> str:
    one, two = runs[1], runs[2]
    ratios = [ratio(b.rate, a.rate) for a, b in zip(one, two, strict=True)]
    median = ratio(_median(two, lambda r: r.rate), _median(one, lambda r: r.rate))
    each = f" (run by run: {', '.join(ratios)})" if len(ratios) > 1 else ""
    return (
        f"Throughput of 2 workers / 1 worker: **{median}**{each}; 2.00x would be perfect "
        "scaling, all of it on 2 cores. The per-worker rates are each worker's examples "
        "over the same wall time."
    )


def _find_rows(runs: dict[int, list[Run]]) -> list[list[str]]:
    rows = []
    for workers, mode_runs in runs.items():
        found = [r.seconds_to_failure for r in mode_runs]
        finding = [s for s in found if s is not None]
        rows.append(
            [
                str(workers),
                mode_runs[0].strategies(FIND_STRATEGY),
                f"{len(finding)}/{len(mode_runs)}",
                seconds(censored_median(found), 2),
                median_max(finding, 2),
                number(_median(mode_runs, lambda r: r.result.examples)),
                seconds(_per_find(mode_runs), 2),
            ]
        )
    return rows


def _per_find(runs: list[Run]) -> float | None:
    """Wall seconds searched in all runs over the failures found (None if none)."""
    finds = sum(1 for r in runs if r.found)
    return sum(r.searched for r in runs) / finds if finds else None


def _find_note(runs: dict[int, list[Run]]) -> str:
    one, two = runs[1], runs[2]
    median_one = censored_median([r.seconds_to_failure for r in one])
    median_two = censored_median([r.seconds_to_failure for r in two])
    per_seed = "; ".join(
        f"seed {a.seed}: {_seconds_or_not(a)} / {_seconds_or_not(b)}"
        for a, b in zip(one, two, strict=True)
    )
    return (
        f"Speed-up, 1 worker / 2 workers: **{ratio(median_one, median_two)}** by the median "
        f"seconds to the first failure, {ratio(_per_find(one), _per_find(two))} by the seconds "
        "searched per find (above 1: 2 workers find it sooner). The median over all seeds "
        "counts a seed that found nothing as infinite, so it is shown only when more than half "
        "the seeds found the bug; seconds searched per find divides all the time searched "
        "(to the failure, or the whole budget) by the number found, and is defined as soon as "
        "one seed finds it. Examples count every worker's, to the end of the run. "
        f"Seconds to the first failure, 1 worker / 2 workers: {per_seed}."
    )


def _seconds_or_not(run: Run) -> str:
    found = run.seconds_to_failure
    return f"{found:.2f}" if found is not None else f"{DASH} ({run.wall:.0f} s, not found)"
