"""A user's own fuzz target, as a user would write it: a racy counter.

Tests copy this file into throw-away projects (a pyproject-declared target, a
pytest run with the plugin), so it imports only the public fuzzer API.
"""

import trio
from hypothesis.stateful import rule

from fuzzer.machine import TrioStateMachine
from fuzzer.registry import Target


class CounterMachine(TrioStateMachine):
    """A counter incremented by racing tasks with a read-yield-write."""

    target_name = "counter"

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
    """The same counter without the race."""

    async def _increment(self) -> None:
        await trio.sleep(0)
        self.count += 1


TARGET = Target("counter", "a racy counter", build=lambda parameters: CounterMachine)
