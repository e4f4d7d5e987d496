"""The pytest plugin: profiles, and a failing fuzz test shows its timeline and report."""

from __future__ import annotations

from pathlib import Path

import pytest

MACHINES = (Path(__file__).parent / "counter_machine.py").read_text() + (
    "\nTestRacyCounter = CounterMachine.TestCase\nTestSafeCounter = SafeCounterMachine.TestCase\n"
)


def test_a_failing_fuzz_test_shows_the_timeline_and_the_report_path(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_counter=MACHINES)
    result = pytester.runpytest_subprocess("--fuzz-profile", "dev", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*fuzzer: shrunk failure*",
            "*lost update*",
            "*report: reports*counter-*.json*",
        ]
    )
    reports = list((pytester.path / "reports").glob("*.json"))
    assert len(reports) == 1


def test_the_fuzz_options_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--fuzz-profile*", "*--fuzz-budget*"])


def test_a_budget_ends_a_long_fuzz_test_early(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_counter=MACHINES)
    result = pytester.runpytest_subprocess(
        "--fuzz-profile", "deep", "--fuzz-budget", "2", "-k", "Safe", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
    assert result.duration < 60
