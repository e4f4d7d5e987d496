"""A schedule-specific shrink pass that runs after Hypothesis's own.

Hypothesis orders test cases shortlex by their choice sequence: fewer choices
first.  A schedule with two surprises can need fewer decision points than one
with a single surprise (a task that exits early leaves fewer tasks to choose
between), so Hypothesis may stop at a schedule that is short but not the least
surprising.  This pass finishes the job in our own terms: it tries to reset
each non-default decision to the default, keeping every change after which the
same failure still happens, until no single reset works.  The result is
1-minimal: no one surprise can be removed (:func:`minimize_decisions`, for plain
programs).

For state machines, :func:`minimize_scenario` works on whole rules and task
plans instead: cut rules, reset plans, move a rule, whichever leaves the same
failure in a simpler scenario.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


def minimize_decisions(
    decisions: Sequence[int],
    replay: Callable[[list[int]], tuple[bool, list[int]]],
    *,
    max_replays: int = 500,
) -> list[int]:
    """Reset non-default decisions to ``0`` while ``replay`` still fails.

    ``replay(candidate)`` runs the target with ``candidate`` (decisions past its
    end take the default) and returns whether the same failure happened and the
    decisions the run actually made.  Each accepted candidate is replaced by
    those actual decisions, so the result is always a real, replayable schedule.
    """
    current = list(decisions)
    replays = 0
    changed = True
    while changed and replays < max_replays:
        changed = False
        for position in [i for i, d in enumerate(current) if d != 0]:
            for candidate in _candidates(current, position):
                replays += 1
                failed, actual = replay(candidate)
                if failed and _surprises(actual) < _surprises(current):
                    current = actual
                    changed = True
                    break
            if changed or replays >= max_replays:
                break
    return current


def _candidates(decisions: list[int], position: int) -> list[list[int]]:
    """Reset one decision: keeping what follows, then dropping it (all default)."""
    kept = [*decisions[:position], 0, *decisions[position + 1 :]]
    dropped = decisions[:position]
    return [kept, dropped]


def _surprises(decisions: Sequence[int]) -> tuple[int, int]:
    """Order schedules by number of non-default decisions, then their total."""
    return (sum(1 for d in decisions if d), sum(decisions))


@dataclass(frozen=True)
class Scenario:
    """A state machine run as the scenario pass sees it: its choices, where each
    rule's and each task plan's choices sit, and how many surprises it made."""

    choices: list[Any]
    rule_spans: list[tuple[int, int]]
    plan_spans: list[tuple[int, int]]
    surprises: int
    run: Any = field(default=None, compare=False, repr=False)  # the caller's record of it

    def cost(self) -> tuple[int, int, int]:
        """Smaller is simpler: fewer rules, then fewer surprises, then fewer choices."""
        return (len(self.rule_spans), self.surprises, len(self.choices))


Replay = Callable[[list[Any]], "Scenario | None"]


def minimize_scenario(
    scenario: Scenario,
    replay: Replay,
    default_plan: Sequence[Any],
    *,
    max_replays: int = 300,
    max_seconds: float = 10.0,
) -> Scenario:
    """Cut rules, reset task plans and reorder rules while the same failure happens.

    Hypothesis shrinks one choice at a time and keeps any change after which the
    test still fails.  A schedule is fragile under such moves: level one task's
    priority and the interleaving changes, the failure goes, and Hypothesis
    keeps the extra rules and surprises that made its schedule work; or an
    operation only matters together with its neighbour (a waiter and the cancel
    aimed at it), which one-at-a-time deletion cannot remove.  This pass tries
    bigger moves in scenario terms, simplest result first:

    - every task's plan reset to the default at once (the schedule with no
      surprises);
    - whole rules cut out, one to three adjacent at a time;
    - one task's plan reset at a time;
    - one rule moved to another place, with every plan reset: a surprise that
      made a later operation's task run first is often just that operation,
      done earlier.

    Plans are drawn inside the rule that spawned their task, so a rule's choices
    can be cut out or moved whole and what remains means the same thing.  A move
    is kept when ``replay(choices)`` (the run on those choices, or ``None`` if it
    did not fail the same way) costs less (:meth:`Scenario.cost`); the pass
    repeats until no move helps, so the result is 1-minimal under these moves.
    """
    budget = _ReplayBudget(replay, max_replays, time.perf_counter() + max_seconds)
    current = scenario
    improved = True
    while improved and not budget.spent():
        improved = False
        for candidate in _moves(current, default_plan):
            result = budget.replay(candidate)
            if result is not None and result.cost() < current.cost():
                current, improved = result, True
                break
            if budget.spent():
                break
    return current


class _ReplayBudget:
    """Counts replays against a limit and a deadline; past either, replays fail."""

    def __init__(self, replay: Replay, max_replays: int, deadline: float) -> None:
        self._replay, self._left, self._deadline = replay, max_replays, deadline

    def spent(self) -> bool:
        return self._left <= 0 or time.perf_counter() >= self._deadline

    def replay(self, choices: list[Any]) -> Scenario | None:
        if self.spent():
            return None
        self._left -= 1
        return self._replay(choices)


def _moves(scenario: Scenario, default_plan: Sequence[Any]) -> Iterator[list[Any]]:
    """The choices each move makes of ``scenario``'s, the most promising first."""
    choices, spans, default = scenario.choices, scenario.rule_spans, list(default_plan)
    surprising = _surprising_plans(scenario, default)
    if surprising:
        yield _with_plans_reset(choices, surprising, default)
    for width in (1, 2, 3):
        for first in reversed(range(len(spans) - width + 1)):
            start, end = spans[first][0], spans[first + width - 1][1]
            yield choices[:start] + choices[end:]
    if len(surprising) > 1:
        for span in reversed(surprising):
            yield _with_plans_reset(choices, [span], default)
    if surprising:
        for source in reversed(range(len(spans))):
            for target in range(len(spans)):
                if target != source:
                    yield _with_rule_moved(choices, spans, source, target, surprising, default)


def _surprising_plans(scenario: Scenario, default: list[Any]) -> list[tuple[int, int]]:
    """The plan spans of ``scenario`` that are not the default plan (if any surprise)."""
    if not scenario.surprises:
        return []
    choices = scenario.choices
    return [span for span in scenario.plan_spans if choices[span[0] : span[1]] != default]


def _with_rule_moved(
    choices: list[Any],
    spans: list[tuple[int, int]],
    source: int,
    target: int,
    plans: list[tuple[int, int]],
    default: list[Any],
) -> list[Any]:
    """``choices`` with rule ``source`` moved to place ``target`` among the rules
    (which are contiguous), and every plan span in ``plans`` reset to the default."""
    rules = list(spans)
    rules.insert(target, rules.pop(source))
    order = [(0, spans[0][0]), *rules, (spans[-1][1], len(choices))]
    result: list[Any] = []
    for low, high in order:
        result += _segment(choices, low, high, plans, default)
    return result


def _with_plans_reset(
    choices: list[Any], plans: list[tuple[int, int]], default: list[Any]
) -> list[Any]:
    """``choices`` with each plan span in ``plans`` replaced by the default plan."""
    return _segment(choices, 0, len(choices), plans, default)


def _segment(
    choices: list[Any], low: int, high: int, plans: list[tuple[int, int]], default: list[Any]
) -> list[Any]:
    """``choices[low:high]``, with the plan spans that lie inside it reset."""
    result, at = [], low
    for start, end in sorted(plans):
        if low <= start and end <= high:
            result += choices[at:start] + default
            at = end
    return result + choices[at:high]
