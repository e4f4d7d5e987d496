"""Where scheduling decisions come from, and how they are encoded.

A *decision point* is a moment where more than one task could run next.  Its
candidates are listed in a canonical order whose first entry is the *default*:
the least surprising choice (keep running the task that ran last; failing that,
first come first served).  A decision is the index of the chosen candidate, so
``0`` always means "no surprise" and a schedule is a list of small integers.

Encoding for Hypothesis (what makes shrinking mean "fewer preemptions"): one
integer per decision point, the candidate index, drawn with ``draw_integer``.
Hypothesis shrinks each integer toward ``0``, so every shrink step that succeeds
removes a surprise (a preemption, or an out-of-order wake-up) without shifting
any later choice.  A two-draw "preempt? then whom" encoding was tried first: a
``True -> False`` shrink leaves the "whom" draw behind, every later choice is
misread, and shrunk schedules kept one or two needless preemptions.  With a
single candidate nothing is drawn.  Every exploration policy draws through this
same encoding; a policy only changes the probabilities (``weights``), never the
meaning, so shrinking and replay are identical whichever policy found a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hypothesis.control import current_build_context


@dataclass(frozen=True, slots=True)
class Candidate:
    """A runnable task as a decision sees it."""

    index: int  # spawn order among the run's user tasks: stable across replays
    name: str


@dataclass(frozen=True, slots=True)
class DecisionPoint:
    """More than one task is runnable; ``candidates[0]`` is the default."""

    step: int
    candidates: tuple[Candidate, ...]
    continuing: bool  # candidates[0] is the task that ran the previous step


@dataclass(frozen=True, slots=True)
class Bias:
    """How a policy would like the next decision to go.

    ``p_preempt`` is the probability of leaving the continuing task; ``favourite``
    the candidate index the policy prefers (``None``: no preference).
    """

    p_preempt: float = 0.5
    favourite: int | None = None


class SchedulePolicy:
    """An exploration policy: biases decisions, never changes their encoding.

    The default policy is Hypothesis's own: no preference at all.
    """

    name = "hypothesis"

    def bias(self, point: DecisionPoint) -> Bias:
        return Bias()

    def observe(self, point: DecisionPoint, choice: int) -> None:
        """Called after every decision, so stateful policies can update."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class DecisionSource(Protocol):
    """Anything that can answer decision points: Hypothesis, or a recording."""

    def decide(self, point: DecisionPoint) -> int: ...


class DefaultDecisions:
    """Always the default: the schedule with no surprises."""

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


_P_MIN, _P_MAX = 0.002, 0.998
_FAVOURITE_WEIGHT = 0.9


def _quantised(p: float) -> float:
    """Clamp to (0, 1) and round, so Hypothesis never treats a draw as forced."""
    return round(min(max(p, _P_MIN), _P_MAX), 3)


class HypothesisDecisions:
    """Draws every decision from the running Hypothesis test case.

    The draws go to the same choice sequence as the test's other data (rules,
    arguments), so one shrink pass minimises operations and schedule together.
    Must be used inside a Hypothesis test (``@given`` or a state machine).
    """

    def __init__(self, policy: SchedulePolicy | None = None) -> None:
        self.policy = policy or SchedulePolicy()
        self._data = current_build_context().data

    def decide(self, point: DecisionPoint) -> int:
        bias = self.policy.bias(point)
        n = len(point.candidates)
        weights: dict[int, float] = {}
        if point.continuing:
            p_preempt = _quantised(bias.p_preempt)
            weights[0] = 1.0 - p_preempt
            if bias.favourite:
                weights[bias.favourite] = p_preempt * _FAVOURITE_WEIGHT
        elif bias.favourite is not None:
            weights[bias.favourite] = _FAVOURITE_WEIGHT
        choice = self._data.draw_integer(0, n - 1, weights=weights or None)
        self.policy.observe(point, choice)
        return choice

    def __repr__(self) -> str:
        return f"HypothesisDecisions(policy={self.policy!r})"
