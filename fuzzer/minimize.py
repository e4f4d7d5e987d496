"""A schedule-specific shrink pass that runs after Hypothesis's own.

Hypothesis orders test cases shortlex by their choice sequence: fewer choices
first.  A schedule with two surprises can need fewer decision points than one
with a single surprise (a task that exits early leaves fewer tasks to choose
between), so Hypothesis may stop at a schedule that is short but not the least
surprising.  This pass finishes the job in our own terms: it tries to reset
each non-default decision to the default, keeping every change after which the
same failure still happens, until no single reset works.  The result is
1-minimal: no one surprise can be removed.
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


def minimize_scenario(
    scenario: Scenario,
    replay: Callable[[list[Any]], Scenario | None],
    default_plan: Sequence[Any],
    *,
    max_replays: int = 300,
    max_seconds: float = 10.0,
) -> Scenario:
    """Cut rules and reset task plans while the same failure still happens.

    Hypothesis shrinks one choice at a time and keeps any change after which the
    test still fails.  A schedule is fragile under such moves: level one task's
    priority and the interleaving changes, the failure goes, and Hypothesis
    keeps the extra rules and surprises that made its schedule work; or an
    operation only matters together with its neighbour (a waiter and the cancel
    aimed at it), which one-at-a-time deletion cannot remove.  This pass tries
    bigger moves in scenario terms, simplest result first:

    - every task's plan reset to the default at once (the schedule with no
      surprises), then one task's plan at a time;
    - whole rules cut out, one to three adjacent at a time.

    Plans are drawn inside the rule that spawned their task, so a rule's choices
    can be cut out whole and what remains means the same thing.  A move is kept
    when ``replay(choices)`` (the run on those choices, or ``None`` if it did not
    fail the same way) costs less (:meth:`Scenario.cost`); the pass repeats until
    no move helps, so the result is 1-minimal under these moves.
    """
    deadline = time.perf_counter() + max_seconds
    replays = 0
    current = scenario
    improved = True
    while improved and replays < max_replays and time.perf_counter() < deadline:
        improved = False
        for candidate in _moves(current, default_plan):
            replays += 1
            result = replay(candidate)
            if result is not None and result.cost() < current.cost():
                current, improved = result, True
                break
            if replays >= max_replays or time.perf_counter() >= deadline:
                break
    return current


def _moves(scenario: Scenario, default_plan: Sequence[Any]) -> Iterator[list[Any]]:
    """Candidate choice sequences, the most promising first."""
    choices, default = scenario.choices, list(default_plan)
    surprising = [span for span in scenario.plan_spans if choices[span[0] : span[1]] != default]
    if scenario.surprises and surprising:
        yield _with_plans_reset(choices, surprising, default)
    for width in (1, 2, 3):
        spans = scenario.rule_spans
        for first in reversed(range(len(spans) - width + 1)):
            start, end = spans[first][0], spans[first + width - 1][1]
            yield choices[:start] + choices[end:]
    if len(surprising) > 1:
        for span in reversed(surprising):
            yield _with_plans_reset(choices, [span], default)


def _with_plans_reset(
    choices: list[Any], spans: list[tuple[int, int]], default: list[Any]
) -> list[Any]:
    """``choices`` with each span (sorted, disjoint) replaced by the default plan."""
    result, at = [], 0
    for start, end in sorted(spans):
        result += choices[at:start] + default
        at = end
    return result + choices[at:]
