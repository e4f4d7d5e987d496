"""Measurements shared between sections, run once, in parallel worker processes.

Section 1 needs every (bug, strategy, seed); the stress and peer sections reuse
the default strategy's figures.  A :class:`Session` runs each fuzzing run at most
once and keeps the result, so ``--only peer`` runs just what the peer table
needs and a full run measures nothing twice.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from bench.config import DEFAULT_STRATEGY, BenchConfig
from bench.measure import Measurement, find_bug

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Job:
    """One fuzzing run: a bug, a strategy, a seed, and whether to shrink."""

    bug: str
    strategy: str
    seed: int
    shrink: bool
    budget: float
    max_examples: int
    shrink_grace: float | None = None

    def run(self) -> Measurement:
        """Run it (in whichever process calls this)."""
        return find_bug(
            self.bug,
            self.strategy,
            self.seed,
            max_examples=self.max_examples,
            budget=self.budget,
            shrink=self.shrink,
            shrink_grace=self.shrink_grace,
        )


def _run_job(job: Job) -> Measurement:
    return job.run()


@dataclass
class Session:
    """The configuration, the cached measurements, and figures sections pass on."""

    config: BenchConfig
    measurements: dict[tuple[str, str, int, bool], Measurement] = field(default_factory=dict)
    throughput: float | None = None  # limiter-machine examples/s, set by section 3

    def find(self, bugs: Iterable[str], strategies: Iterable[str]) -> list[Measurement]:
        """First-failure measurements (no shrinking) for every bug x strategy x seed."""
        jobs = [
            Job(bug, strategy, seed, False, self.config.budget, self.config.max_examples)
            for strategy in strategies
            for bug in bugs
            for seed in self.config.seed_values()
        ]
        return self._measure(jobs)

    def shrunk(self, bug: str, strategy: str) -> list[Measurement]:
        """Measurements with shrinking, over the first ``shrink_seeds`` finding seeds."""
        return self.shrunk_all([(bug, strategy)])

    def shrunk_all(self, pairs: Iterable[tuple[str, str]]) -> list[Measurement]:
        """:meth:`shrunk` for several (bug, strategy) pairs at once (one pool)."""
        jobs = [
            Job(
                bug,
                strategy,
                seed,
                True,
                self.config.budget,
                self.config.max_examples,
                self.config.shrink_grace,
            )
            for bug, strategy in pairs
            for seed in self.shrink_seeds(bug, strategy)
        ]
        return self._measure(jobs)

    def shrink_seeds(self, bug: str, strategy: str) -> list[int]:
        """The first ``shrink_seeds`` seeds on which ``strategy`` found ``bug``.

        A seeded search finds the same first failure with shrinking on, so every
        shrink run has a failure to shrink and spends its time shrinking it.
        """
        found = [m.seed for m in self.find([bug], [strategy]) if m.found]
        return found[: self.config.shrink_seeds]

    def default_strategy(self, bug: str) -> list[Measurement]:
        """The default strategy's measurements for ``bug`` (run now if missing)."""
        return self.find([bug], [DEFAULT_STRATEGY])

    def best_strategy(self, bug: str) -> str:
        """The measured strategy that found ``bug`` in most seeds, then in fewest examples.

        The default strategy when none was measured on ``bug`` (``--only peer``).
        """
        measured = [s for s in self.config.strategies if self._measured(bug, s)]
        ranked = sorted(measured, key=lambda s: _rank(self.find([bug], [s])))
        return ranked[0] if ranked else DEFAULT_STRATEGY

    def _measured(self, bug: str, strategy: str) -> bool:
        seeds = self.config.seed_values()
        return all((bug, strategy, seed, False) in self.measurements for seed in seeds)

    def _measure(self, jobs: list[Job]) -> list[Measurement]:
        missing = [job for job in jobs if _key(job) not in self.measurements]
        results = parallel_map(_run_job, missing, self.config.jobs)
        for job, result in zip(missing, results, strict=True):
            self.measurements[_key(job)] = result
        return [self.measurements[_key(job)] for job in jobs]


def _key(job: Job) -> tuple[str, str, int, bool]:
    """Measurements are cached by bug, strategy, seed and shrinking."""
    return (job.bug, job.strategy, job.seed, job.shrink)


def _rank(runs: list[Measurement]) -> tuple[int, float]:
    """Sort key: more seeds found first, then the smaller median of examples."""
    examples = [m.examples for m in runs if m.examples is not None]
    return (-len(examples), statistics.median(examples) if examples else float("inf"))


def parallel_map(fn: Callable[[T], R], items: list[T], jobs: int) -> list[R]:
    """``[fn(x) for x in items]`` in ``jobs`` worker processes, order kept.

    With one job (or one item) everything runs in this process.  Progress goes
    to stderr, one dot per item.
    """
    if jobs <= 1 or len(items) <= 1:
        return [_noted(fn(item)) for item in items]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        return [_noted(result) for result in pool.map(fn, items)]


def _noted(result: R) -> R:
    print(".", end="", file=sys.stderr, flush=True)
    return result
