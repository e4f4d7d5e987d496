"""The scenario pass run after Hypothesis's shrink: rule cuts and plan resets.

A toy encoding stands in for a state machine: each rule is three choices,
``[rule id, priority, preemptions]``, the last two being the plan of the task
the rule spawns.  The toy "fails" the way fragile schedules do: the failure
needs rule 7, and happens either with every plan at the default, or with a
surprising schedule that needs rule 3 to run with priority 5.  From a
surprising version, cutting rule 3 or levelling one priority (the single
changes Hypothesis's shrinker makes) loses the failure; the pass must reset the
plans together to find the plain one, and then cut rule 3.
"""

from __future__ import annotations

from typing import Any

from fuzzer.decisions import DEFAULT_PLAN_CHOICES
from fuzzer.minimize import Scenario, minimize_scenario


def scenario_of(choices: list[Any]) -> Scenario:
    rules = [choices[i : i + 3] for i in range(0, len(choices), 3)]
    spans = [(i, i + 3) for i in range(0, len(choices), 3)]
    plans = [(i + 1, i + 3) for i in range(0, len(choices), 3)]
    surprises = sum(1 for rule in rules if rule[1:] != list(DEFAULT_PLAN_CHOICES))
    return Scenario(choices, spans, plans, surprises)


def toy_replay(choices: list[Any], *, needs_rule_8: bool = False) -> Scenario | None:
    """The toy's run on ``choices``: a Scenario if it fails the same way, else None.

    With ``needs_rule_8`` the failure also needs rule 8, and only the
    surprising schedule fails.
    """
    rules = [choices[i : i + 3] for i in range(0, len(choices), 3)]
    ids = [rule[0] for rule in rules]
    if 7 not in ids or (needs_rule_8 and 8 not in ids):
        return None
    plain = all(rule[1:] == list(DEFAULT_PLAN_CHOICES) for rule in rules)
    fragile = any(rule[0] == 3 and rule[1] == 5 for rule in rules) and not plain
    if needs_rule_8:
        return scenario_of(choices) if fragile else None
    return scenario_of(choices) if plain or fragile else None


def test_plan_resets_then_cuts_reach_the_plain_minimal_scenario() -> None:
    start = scenario_of([3, 5, 1, 1, 2, 0, 7, 4, 0, 4, 0, 0])
    assert toy_replay(start.choices) is not None
    best = minimize_scenario(start, toy_replay, DEFAULT_PLAN_CHOICES)
    assert best.choices == [7, 0, 0]
    assert best.surprises == 0


def test_one_plan_is_reset_when_resetting_all_loses_the_failure() -> None:
    def replay(choices: list[Any]) -> Scenario | None:
        return toy_replay(choices, needs_rule_8=True)

    start = scenario_of([8, 0, 0, 3, 5, 0, 7, 2, 2])
    assert replay(start.choices) is not None and start.surprises == 2
    best = minimize_scenario(start, replay, DEFAULT_PLAN_CHOICES)
    assert best.choices == [8, 0, 0, 3, 5, 0, 7, 0, 0]  # rule 7's surprise was not needed
    assert best.surprises == 1


def test_a_scenario_nothing_can_simplify_is_returned_unchanged() -> None:
    start = scenario_of([7, 0, 0])
    replays: list[list[Any]] = []

    def counting(choices: list[Any]) -> Scenario | None:
        replays.append(choices)
        return toy_replay(choices)

    assert minimize_scenario(start, counting, DEFAULT_PLAN_CHOICES) == start
    assert replays == [[]]  # the only move: cut the one rule (which loses the failure)


def test_a_surprise_that_runs_a_later_rule_first_becomes_that_rule_done_earlier() -> None:
    def replay(choices: list[Any]) -> Scenario | None:
        """Fails when rule 7's task runs before rule 3's: by place, or because
        rule 7's task has priority 5 (a surprise)."""
        rules = [choices[i : i + 3] for i in range(0, len(choices), 3)]
        ids = [rule[0] for rule in rules]
        if 3 not in ids or 7 not in ids:
            return None
        runs_first = sorted(range(len(rules)), key=lambda i: (-rules[i][1], i))
        order = [ids[i] for i in runs_first]
        return scenario_of(choices) if order.index(7) < order.index(3) else None

    start = scenario_of([3, 0, 0, 7, 5, 0])
    assert replay(start.choices) is not None and start.surprises == 1
    best = minimize_scenario(start, replay, DEFAULT_PLAN_CHOICES)
    assert best.choices == [7, 0, 0, 3, 0, 0]
    assert best.surprises == 0
