"""Exploration strategies: Hypothesis strategies over the one decision encoding.

Each strategy draws an exploration *policy* (its random parameters come from
Hypothesis, like any other data) and returns a decision source that draws every
task's plan through :class:`~fuzzer.decisions.HypothesisDecisions`: a priority
and the steps after which the task yields.  A policy only biases the
probabilities of those draws; the encoding is the same for all, so whichever
strategy finds a failure, the shrinker minimises it the same way and the report
replays it the same way.

- ``uniform``: every task is likely to be preempted, at random points, with
  random priorities: close to a uniform random walk over interleavings.
- ``pct``: PCT (Burckhardt et al., ASPLOS 2010): distinct random priorities (the
  highest-priority runnable task runs) and ``depth - 1`` priority-change points
  in all, each a preemption of a randomly chosen task at a random step.  Finds a
  bug of depth ``d`` with probability at least ``1 / (n * k^(d-1))``.
- ``pos``: partial-order sampling (Yuan, Yang and Gu, CAV 2018), basic form:
  random priorities, and every task yields after most of its steps, so the
  highest-priority runnable task is chosen afresh at almost every step.
  Without read/write sets every pair of steps is treated as racing, which is
  POS's conservative base case.
- ``preemption_bounded``: at most ``bound`` preemptions in the whole run
  (CHESS-style iterative context bounding); most bugs need one or two.
- ``hypothesis``: no bias at all; Hypothesis's own distribution.
- ``portfolio`` (the default): one of the above, drawn per example.
"""

from __future__ import annotations

import random

from hypothesis import strategies as st

from fuzzer.decisions import (
    MAX_PRIORITY,
    Candidate,
    HypothesisDecisions,
    PlanBias,
    SchedulePolicy,
    TaskPlan,
)

_SEEDS = st.integers(0, 2**16 - 1)


class UniformPolicy(SchedulePolicy):
    """Preempt often, anywhere, and let random priorities pick who runs next."""

    name = "uniform"

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._random = random.Random(seed)

    def plan_bias(self, candidate: Candidate) -> PlanBias:
        return PlanBias(
            priority=self._random.randint(0, MAX_PRIORITY),
            preemptions=self._random.randint(0, 3),
            gap=self._random.randint(0, 3),
            strength=0.6,
        )

    def __repr__(self) -> str:
        return f"UniformPolicy(seed={self.seed})"


class PCTPolicy(SchedulePolicy):
    """Probabilistic concurrency testing: random priorities, ``depth - 1`` changes."""

    name = "pct"

    def __init__(self, seed: int, depth: int = 3, expected_tasks: int = 6) -> None:
        self.seed, self.depth = seed, depth
        self._random = random.Random(seed)
        self._changes_left = max(depth - 1, 0)
        self._tasks_left = expected_tasks

    def plan_bias(self, candidate: Candidate) -> PlanBias:
        change = self._changes_left > 0 and self._random.random() < min(
            1.0, self._changes_left / max(self._tasks_left, 1)
        )
        self._tasks_left = max(self._tasks_left - 1, 1)
        return PlanBias(
            priority=self._random.randint(1, MAX_PRIORITY),
            preemptions=1 if change else 0,
            gap=self._random.randint(0, 6),
            strength=0.9,
        )

    def planned(self, candidate: Candidate, plan: TaskPlan) -> None:
        self._changes_left = max(self._changes_left - len(plan.preempt_after), 0)

    def __repr__(self) -> str:
        return f"PCTPolicy(seed={self.seed}, depth={self.depth})"


class POSPolicy(SchedulePolicy):
    """Basic partial-order sampling: random priorities, a fresh choice almost every step."""

    name = "pos"

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._random = random.Random(seed)

    def plan_bias(self, candidate: Candidate) -> PlanBias:
        return PlanBias(
            priority=self._random.randint(0, MAX_PRIORITY), preemptions=3, gap=0, strength=0.7
        )

    def __repr__(self) -> str:
        return f"POSPolicy(seed={self.seed})"


class PreemptionBoundedPolicy(SchedulePolicy):
    """At most ``bound`` preemptions in the whole run, each at a random step."""

    name = "preemption_bounded"

    def __init__(self, seed: int, bound: int = 2) -> None:
        self.seed, self.bound = seed, bound
        self._random = random.Random(seed)
        self.preemptions = 0

    def plan_bias(self, candidate: Candidate) -> PlanBias:
        left = self.bound - self.preemptions
        wanted = 1 if left > 0 and self._random.random() < 0.4 else 0
        return PlanBias(preemptions=wanted, gap=self._random.randint(0, 4), strength=0.95)

    def planned(self, candidate: Candidate, plan: TaskPlan) -> None:
        self.preemptions += len(plan.preempt_after)

    def __repr__(self) -> str:
        return f"PreemptionBoundedPolicy(seed={self.seed}, bound={self.bound})"


POLICIES: dict[str, st.SearchStrategy[SchedulePolicy]] = {
    "hypothesis": st.builds(SchedulePolicy),
    "uniform": st.builds(UniformPolicy, seed=_SEEDS),
    "pct": st.builds(PCTPolicy, seed=_SEEDS, depth=st.integers(1, 4)),
    "pos": st.builds(POSPolicy, seed=_SEEDS),
    "preemption_bounded": st.builds(PreemptionBoundedPolicy, seed=_SEEDS, bound=st.integers(1, 3)),
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
    return policies(name).map(lambda policy: HypothesisDecisions(policy))
