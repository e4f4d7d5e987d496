"""Where scheduling decisions come from, and how Hypothesis encodes them.

A *decision point* is a moment where more than one task could run next.  Its
candidates are listed in a canonical order whose first entry is the *default*:
the least surprising choice (keep running the task that ran last; failing that,
first come first served).  A decision is the index of the chosen candidate, so
``0`` always means "no surprise", a schedule is a list of small integers, and a
recorded list replays exactly (:class:`RecordedDecisions`).

How Hypothesis draws them (:class:`HypothesisDecisions`) is chosen for
shrinking.  Drawing one index per decision point in the order the points occur
ties every decision to a *position* in the run: delete one operation and every
later decision slides onto a different task, so Hypothesis cannot delete
operations from a failing schedule (the weakness fast-check's scheduler has).
Instead each task carries a *plan*, drawn once, where the task is born (inside
the rule that spawned it, so deleting the rule deletes the plan too):

- ``preempt_after``: the task's own step counts after which it yields to
  another runnable task (a preemption); shrinks to "never";
- ``priority``: who runs first when the default would be first come, first
  served (after a task blocks or exits, or when timers fire together), and who
  takes over after a preemption; shrinks to 0 (all equal: first come, first
  served).

A schedule is then a function of the plans, and a failing schedule shrinks by
deleting operations, dropping preemptions and levelling priorities, each one
choice at a time.  Exploration policies (:mod:`strategies.schedules`) only bias
the probabilities of these draws, never their meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hypothesis.control import current_build_context

MAX_PRIORITY = 7
MAX_PREEMPTIONS = 3  # per task
MAX_GAP = 15  # steps between two preemptions of one task


@dataclass(frozen=True, slots=True)
class Candidate:
    """A runnable task as a decision sees it."""

    index: int  # spawn order among the run's user tasks: stable across replays
    name: str
    steps: int = 0  # steps this task has run so far


@dataclass(frozen=True, slots=True)
class DecisionPoint:
    """More than one task is runnable; ``candidates[0]`` is the default."""

    step: int
    candidates: tuple[Candidate, ...]
    continuing: bool  # candidates[0] ran the previous step and could go on


@dataclass(frozen=True, slots=True)
class PlanBias:
    """How a policy would like a task's plan to be drawn (``None``: no preference).

    Each preference becomes a weight on that value in Hypothesis's draw; the
    other values stay possible, so shrinking and replay are unaffected.
    """

    priority: int | None = None
    preemptions: int | None = None
    gap: int | None = None
    strength: float = 0.8  # probability mass on each preferred value


@dataclass(frozen=True, slots=True)
class TaskPlan:
    priority: int = 0
    preempt_after: frozenset[int] = frozenset()


DEFAULT_PLAN_CHOICES: tuple[int, ...] = (0, 0)
"""The choices :meth:`HypothesisDecisions._draw_plan` reads as the default plan:
priority 0, no preemption."""


class SchedulePolicy:
    """An exploration policy: biases plans, never changes their encoding.

    The base policy is Hypothesis's own distribution, with no preference.
    """

    name = "hypothesis"

    def plan_bias(self, candidate: Candidate) -> PlanBias:
        return PlanBias()

    def planned(self, candidate: Candidate, plan: TaskPlan) -> None:
        """Called with every plan drawn, so stateful policies can keep count."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class DecisionSource(Protocol):
    """Anything that can answer decision points: Hypothesis, or a recording."""

    def introduce(self, candidate: Candidate) -> None:
        """A task was just spawned by the driving code (outside the run loop)."""

    def decide(self, point: DecisionPoint) -> int: ...


class DefaultDecisions:
    """Always the default: the schedule with no surprises."""

    def introduce(self, candidate: Candidate) -> None:
        pass

    def decide(self, point: DecisionPoint) -> int:
        return 0


class RecordedDecisions:
    """Replays a recorded decision list.

    A recorded choice that no longer fits (fewer candidates than when it was
    recorded) or a list that runs out means the run has diverged from the
    recording; the default is used from there on and ``diverged_at`` names the
    first step where that happened.
    """

    def __init__(self, decisions: Sequence[int]) -> None:
        self._decisions = list(decisions)
        self._position = 0
        self.diverged_at: int | None = None

    def introduce(self, candidate: Candidate) -> None:
        pass

    def decide(self, point: DecisionPoint) -> int:
        if self._position >= len(self._decisions):
            self._diverge(point)
            return 0
        choice = self._decisions[self._position]
        self._position += 1
        if not 0 <= choice < len(point.candidates):
            self._diverge(point)
            return 0
        return choice

    @property
    def unused(self) -> int:
        """Recorded decisions the run did not ask for."""
        return len(self._decisions) - self._position

    def _diverge(self, point: DecisionPoint) -> None:
        if self.diverged_at is None:
            self.diverged_at = point.step


@dataclass
class HypothesisDecisions:
    """Draws each task's plan from the running Hypothesis test case.

    The draws go to the same choice sequence as the test's other data (rules,
    arguments), so one shrink pass minimises operations and schedule together.
    Must be used inside a Hypothesis test (``@given`` or a state machine).
    """

    policy: SchedulePolicy = field(default_factory=SchedulePolicy)
    plan_spans: list[tuple[int, int]] = field(default_factory=list, repr=False)
    """Where each plan's draws sit in the choice sequence (start, end), in the
    order drawn: replacing a span with :data:`DEFAULT_PLAN_CHOICES` gives that
    task the default plan and leaves every other choice meaning what it meant."""
    _plans: dict[int, TaskPlan] = field(default_factory=dict, repr=False)
    _data: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._data = current_build_context().data

    def introduce(self, candidate: Candidate) -> None:
        if candidate.index not in self._plans:
            start = len(self._data.choices)
            plan = self._draw_plan(self.policy.plan_bias(candidate))
            self.plan_spans.append((start, len(self._data.choices)))
            self._plans[candidate.index] = plan
            self.policy.planned(candidate, plan)

    def decide(self, point: DecisionPoint) -> int:
        for candidate in point.candidates:
            self.introduce(candidate)
        if point.continuing:
            running = point.candidates[0]
            if running.steps not in self._plans[running.index].preempt_after:
                return 0
            return 1 + self._first_by_priority(point.candidates[1:])
        return self._first_by_priority(point.candidates)

    def _first_by_priority(self, candidates: Sequence[Candidate]) -> int:
        """Highest priority first; equal priorities keep the canonical order."""
        best = 0
        for position, candidate in enumerate(candidates):
            if self._plans[candidate.index].priority > self._plans[candidates[best].index].priority:
                best = position
        return best

    def _draw_plan(self, bias: PlanBias) -> TaskPlan:
        """Priority, number of preemptions, then the gap before each: see
        :data:`DEFAULT_PLAN_CHOICES` for the encoding of the default plan."""
        priority = self._draw(0, MAX_PRIORITY, bias.priority, bias.strength)
        count = self._draw(0, MAX_PREEMPTIONS, bias.preemptions, bias.strength)
        points, at = set(), 0
        for _ in range(count):
            at += 1 + self._draw(0, MAX_GAP, bias.gap, bias.strength)
            points.add(at)
        return TaskPlan(priority, frozenset(points))

    def _draw(self, low: int, high: int, favourite: int | None, strength: float) -> int:
        weights = None
        if favourite is not None and low <= favourite <= high:
            weights = {favourite: round(min(max(strength, 0.01), 0.98), 3)}
        value: int = self._data.draw_integer(low, high, weights=weights)
        return value
