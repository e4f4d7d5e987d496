"""The real fuzzer on the real limiter: every seeded bug is found, shrunk, and
the correct limiter stays silent.  Fixed seeds and no example database, so the
suite is deterministic; the budgets only bound a slow machine, they are not
what the assertions depend on."""

from __future__ import annotations

import pytest

from bench.measure import find_bug, scenario_size
from fuzzer.runner import FuzzConfig, fuzz_machine
from targets.bugs import BUGS, TRIGGER_SIZES
from targets.limiter_machine import limiter_machine

# Seeds tried in order until the bug is found (the order is fixed, so the test
# is deterministic).  Most bugs fall to seed 0 within a few dozen examples.  The
# hardest, B07 and B09, take a thousand examples or so and some seeds miss them
# within 1500; a search over seeds 0-7 under pytest found them first with seeds
# 4 and 2, which are therefore tried first to keep the suite fast.
FIRST_SEED = {"B07": 4, "B09": 2}


def seeds_for(bug: str) -> list[int]:
    first = FIRST_SEED.get(bug, 0)
    return [first, *(seed for seed in range(8) if seed != first)]


def invariant_id(title: str | None) -> str:
    assert title is not None
    return title.split()[0]


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_seeded_bug_is_found_and_breaks_the_invariant_the_spec_names(bug: str) -> None:
    for seed in seeds_for(bug):
        found = find_bug(bug, "portfolio", seed, max_examples=1500, budget=60)
        if found.found:
            break
    assert found.found, f"{bug} not found with seeds {seeds_for(bug)}"
    assert invariant_id(found.invariant) in BUGS[bug].invariants, found.invariant


def test_the_correct_limiter_shows_no_failure() -> None:
    result = fuzz_machine(
        limiter_machine(frozenset()), FuzzConfig(max_examples=1500, seed=7, shrink=False)
    )
    assert result.examples >= 1500
    assert not result.failures, result.failures[0].run.failure


@pytest.mark.parametrize("bug", ["B03", "B06", "B10"])
def test_a_failure_shrinks_to_at_most_twice_the_spec_trigger(bug: str) -> None:
    result = fuzz_machine(
        limiter_machine(frozenset({bug})),
        FuzzConfig(max_examples=4000, seed=0, shrink_grace_seconds=60),
    )
    assert result.failures
    size = scenario_size(result.failures[0].run)
    assert size.total <= 2 * TRIGGER_SIZES[bug].total, size


def test_with_every_bug_on_one_run_reports_several_distinct_failures() -> None:
    result = fuzz_machine(
        limiter_machine(frozenset(BUGS)),
        FuzzConfig(max_examples=600, seed=1, keep_going=True, shrink_grace_seconds=60),
    )
    signatures = {f.run.failure.signature() for f in result.failures if f.run.failure}
    titles = sorted({s[1] for s in signatures})
    assert len(signatures) >= 5, titles
