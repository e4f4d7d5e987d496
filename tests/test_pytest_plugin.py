"""The pytest plugin: profiles, and a failing fuzz test shows its timeline and report."""

from __future__ import annotations

import pytest

MACHINES = """
import trio
from hypothesis.stateful import rule

from fuzzer.machine import TrioStateMachine


class CounterMachine(TrioStateMachine):
    def setup_world(self) -> None:
        self.count = 0
        self.expected = 0

    @rule()
    def increment(self) -> None:
        self.expected += 1
        self.world.spawn(self._increment, name="increment")

    async def _increment(self) -> None:
        seen = self.count
        await trio.sleep(0)
        self.count = seen + 1

    def check_final(self) -> None:
        assert self.count == self.expected, f"lost update: {self.count} != {self.expected}"


class SafeCounterMachine(CounterMachine):
    async def _increment(self) -> None:
        await trio.sleep(0)
        self.count += 1


TestRacyCounter = CounterMachine.TestCase
TestSafeCounter = SafeCounterMachine.TestCase
"""


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
            "*report: reports*countermachine*.json*",
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
