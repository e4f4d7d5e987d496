"""The real fuzzer on the real limiter: every seeded bug is found, shrunk, and
the correct limiter stays silent.  Fixed seeds and no example database, so the
suite is deterministic; the budgets only bound a slow machine, they are not
what the assertions depend on."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from bench.measure import scenario_size
from fuzzer.cli import replay_and_compare
from fuzzer.registry import get_target
from fuzzer.render_html import render_html
from fuzzer.render_text import render_text_to_str
from fuzzer.report import load_report, report_from_run, write_report
from fuzzer.runner import FuzzConfig, FuzzResult, fuzz_machine
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


@functools.cache
def first_failure(bug: str) -> FuzzResult:
    """The first failure found for ``bug`` (unshrunk), trying seeds in order."""
    for seed in seeds_for(bug):
        config = FuzzConfig(max_examples=1500, budget_seconds=60, seed=seed, shrink=False)
        result = fuzz_machine(limiter_machine(frozenset({bug})), config)
        if result.failures:
            return result
    raise AssertionError(f"{bug} not found with seeds {seeds_for(bug)}")


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_seeded_bug_is_found_and_breaks_the_invariant_the_spec_names(bug: str) -> None:
    failure = first_failure(bug).failures[0].run.failure
    assert failure is not None
    assert invariant_id(failure.title) in BUGS[bug].invariants, failure.message


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_bug_gives_a_report_that_renders_and_replays_only_on_the_buggy_code(
    bug: str, tmp_path: Path
) -> None:
    result = first_failure(bug)
    report = report_from_run(
        result.failures[0].run,
        target="limiter",
        seed=result.seed,
        strategy="portfolio",
        examples_to_failure=result.first_failure_examples,
        seconds_to_failure=result.first_failure_seconds,
    )
    loaded = load_report(write_report(report, tmp_path))
    assert loaded.failure.title in render_text_to_str(loaded)
    assert 'id="violation"' in render_html(loaded)
    target = get_target("limiter")
    seeded, verdict = replay_and_compare(loaded, target, {"bugs": [bug]})
    assert seeded, verdict
    correct, verdict = replay_and_compare(loaded, target, {"bugs": []})
    assert not correct, verdict


def test_the_correct_limiter_shows_no_failure() -> None:
    result = fuzz_machine(
        limiter_machine(frozenset()), FuzzConfig(max_examples=1500, seed=7, shrink=False)
    )
    assert result.examples >= 1500
    assert not result.failures, result.failures[0].run.failure


@pytest.mark.parametrize("bug", ["B01", "B03", "B04", "B06", "B10", "B11"])
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
        FuzzConfig(max_examples=1500, seed=1, keep_going=True, shrink_grace_seconds=60),
    )
    signatures = {f.run.failure.signature() for f in result.failures if f.run.failure}
    titles = sorted({s[1] for s in signatures})
    assert len(signatures) >= 5, titles
