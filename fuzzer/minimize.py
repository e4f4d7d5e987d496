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
from collections.abc import Callable, Sequence
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


def minimize_scenario(
    choices: list[Any],
    rule_spans: list[tuple[int, int]],
    replay: Callable[[list[Any]], tuple[bool, list[Any], list[tuple[int, int]]]],
    *,
    max_replays: int = 300,
    max_seconds: float = 10.0,
) -> list[Any]:
    """Delete whole rules (one to three adjacent at a time) while the failure stays.

    Each task's scheduling plan is drawn inside the rule that spawned it, so a
    rule's choices can be cut out whole and what remains still means the same
    thing.  Hypothesis deletes one rule at a time; an operation that only
    matters together with its neighbour (a waiter and the cancel aimed at it)
    needs both cut at once, which this pass tries.  ``replay(choices)`` returns
    whether the same failure happened, and the choices and rule spans the run
    actually used.
    """
    deadline = time.perf_counter() + max_seconds
    replays = 0
    current, spans = list(choices), list(rule_spans)
    improved = True
    while improved and replays < max_replays and time.perf_counter() < deadline:
        improved = False
        for width in (1, 2, 3):
            for first in reversed(range(len(spans) - width + 1)):
                start, end = spans[first][0], spans[first + width - 1][1]
                replays += 1
                failed, used, used_spans = replay(current[:start] + current[end:])
                if failed and len(used_spans) < len(spans):
                    current, spans, improved = used, used_spans, True
                    break
                if replays >= max_replays or time.perf_counter() >= deadline:
                    return current
            if improved:
                break
    return current
