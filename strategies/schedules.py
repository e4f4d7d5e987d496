"""Exploration strategies: Hypothesis strategies over the one decision encoding.

Each strategy draws an exploration *policy* (its random parameters come from
Hypothesis, like any other data) and returns a decision source that draws every
decision through :class:`~fuzzer.decisions.HypothesisDecisions`.  A policy only
biases the probabilities of the draws; the encoding (``0`` = default, "preempt?"
then "whom") is the same for all, so whichever strategy finds a failure, the
shrinker minimises it the same way and the report replays it the same way.

- ``uniform``: every runnable task equally likely at every decision.
- ``pct``: PCT (Burckhardt et al., ASPLOS 2010): random distinct task priorities,
  always run the highest-priority runnable task, and at ``depth - 1`` random
  steps lower the running task's priority below all others.  Finds any bug of
  depth ``d`` with probability at least ``1 / (n * k^(d-1))``.
- ``pos``: basic partial-order sampling (Yuan, Yang and Gu, CAV 2018): every
  runnable task holds an independent random priority; the highest runs, then the
  task that ran draws a fresh priority.  Without read/write sets every pair of
  steps is treated as racing, which is POS's conservative base case.
- ``preemption_bounded``: rarely preempt, and never more than ``bound`` times
  (CHESS-style iterative context bounding); most bugs need one or two.
- ``hypothesis``: no bias at all; Hypothesis's own distribution.
- ``portfolio`` (the default): one of the above, drawn per example.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import strategies as st

from fuzzer.decisions import Bias, DecisionPoint, HypothesisDecisions, SchedulePolicy

_SEEDS = st.integers(0, 2**16 - 1)


class UniformPolicy(SchedulePolicy):
    """Every runnable task is equally likely to run next."""

    name = "uniform"

    def bias(self, point: DecisionPoint) -> Bias:
        n = len(point.candidates)
        return Bias(p_preempt=(n - 1) / n)


class PCTPolicy(SchedulePolicy):
    """Probabilistic concurrency testing with ``depth - 1`` priority change points."""

    name = "pct"

    def __init__(self, seed: int, depth: int = 3, horizon: int = 200) -> None:
        self.seed, self.depth, self.horizon = seed, depth, horizon
        self._random = random.Random(seed)
        self._priority: dict[int, float] = {}
        self._change_points = sorted(
            self._random.randrange(horizon) for _ in range(max(depth - 1, 0))
        )
        self._lowered = 0.0

    def _priority_of(self, task: int) -> float:
        if task not in self._priority:
            self._priority[task] = 1.0 + self._random.random()
        return self._priority[task]

    def bias(self, point: DecisionPoint) -> Bias:
        ranked = [self._priority_of(c.index) for c in point.candidates]
        best = max(range(len(ranked)), key=ranked.__getitem__)
        if point.continuing:
            return Bias(p_preempt=0.02 if best == 0 else 0.95, favourite=best or None)
        return Bias(favourite=best)

    def observe(self, point: DecisionPoint, choice: int) -> None:
        while self._change_points and self._change_points[0] <= point.step:
            self._change_points.pop(0)
            self._lowered -= 1.0
            self._priority[point.candidates[choice].index] = self._lowered

    def __repr__(self) -> str:
        return f"PCTPolicy(seed={self.seed}, depth={self.depth})"


class POSPolicy(SchedulePolicy):
    """Basic partial-order sampling: fresh random priority after each step."""

    name = "pos"

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._random = random.Random(seed)
        self._priority: dict[int, float] = {}

    def _priority_of(self, task: int) -> float:
        if task not in self._priority:
            self._priority[task] = self._random.random()
        return self._priority[task]

    def bias(self, point: DecisionPoint) -> Bias:
        ranked = [self._priority_of(c.index) for c in point.candidates]
        best = max(range(len(ranked)), key=ranked.__getitem__)
        if point.continuing:
            return Bias(p_preempt=0.05 if best == 0 else 0.95, favourite=best or None)
        return Bias(favourite=best)

    def observe(self, point: DecisionPoint, choice: int) -> None:
        self._priority[point.candidates[choice].index] = self._random.random()

    def __repr__(self) -> str:
        return f"POSPolicy(seed={self.seed})"


class PreemptionBoundedPolicy(SchedulePolicy):
    """Preempt with probability ``p`` until ``bound`` preemptions were made."""

    name = "preemption_bounded"

    def __init__(self, bound: int = 2, p: float = 0.1) -> None:
        self.bound, self.p = bound, p
        self.preemptions = 0

    def bias(self, point: DecisionPoint) -> Bias:
        if not point.continuing:
            return Bias()
        return Bias(p_preempt=self.p if self.preemptions < self.bound else 0.0)

    def observe(self, point: DecisionPoint, choice: int) -> None:
        if point.continuing and choice != 0:
            self.preemptions += 1

    def __repr__(self) -> str:
        return f"PreemptionBoundedPolicy(bound={self.bound})"


POLICIES: dict[str, st.SearchStrategy[SchedulePolicy]] = {
    "hypothesis": st.builds(SchedulePolicy),
    "uniform": st.builds(UniformPolicy),
    "pct": st.builds(PCTPolicy, seed=_SEEDS, depth=st.integers(1, 4)),
    "pos": st.builds(POSPolicy, seed=_SEEDS),
    "preemption_bounded": st.builds(PreemptionBoundedPolicy, bound=st.integers(1, 3)),
}
POLICIES["portfolio"] = st.one_of(*POLICIES.values())

STRATEGY_NAMES = tuple(POLICIES)
DEFAULT_STRATEGY = "portfolio"


def policies(name: str = DEFAULT_STRATEGY) -> st.SearchStrategy[SchedulePolicy]:
    """The policy strategy called ``name`` (see the module docstring)."""
    try:
        return POLICIES[name]
    except KeyError:
        raise ValueError(
            f"unknown exploration strategy {name!r}; choose one of {', '.join(POLICIES)}"
        ) from None


def schedules(name: str = DEFAULT_STRATEGY) -> st.SearchStrategy[HypothesisDecisions]:
    """Decision sources that draw from the running test case, biased by ``name``."""
    make: Callable[[SchedulePolicy], HypothesisDecisions] = HypothesisDecisions
    return policies(name).map(make)
