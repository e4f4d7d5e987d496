"""The controlled scheduler on small racy programs of our own (not the limiter).

Each program's bug must be found from Hypothesis, shrunk to exactly the minimal
number of non-default decisions, and replayed from the recorded decisions to the
identical trace, 100 times out of 100.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from fuzzer.decisions import DefaultDecisions, RecordedDecisions
from fuzzer.explore import explore_program
from fuzzer.program import run_program
from fuzzer.world import Budget
from strategies.schedules import STRATEGY_NAMES
from tests import racy_programs as programs

Program = Callable[[], Awaitable[None]]


@pytest.mark.parametrize("program", list(programs.MINIMAL), ids=lambda p: p.__name__)
def test_the_default_schedule_does_not_fail(program: Program) -> None:
    assert run_program(program, DefaultDecisions()).failure is None


@pytest.mark.parametrize("program", list(programs.MINIMAL), ids=lambda p: p.__name__)
def test_bug_is_found_and_shrunk_to_the_minimal_schedule(program: Program) -> None:
    finding = explore_program(program, max_examples=300, seed_value=1)
    assert finding is not None, "the race was not found"
    assert finding.surprises == programs.MINIMAL[program], finding.decisions


@pytest.mark.parametrize("program", list(programs.MINIMAL), ids=lambda p: p.__name__)
def test_replay_reproduces_the_exact_trace_100_times(program: Program) -> None:
    finding = explore_program(program, max_examples=300, seed_value=2)
    assert finding is not None
    expected = finding.trace.to_json()
    for _ in range(100):
        replayed = run_program(program, RecordedDecisions(finding.decisions), detail=True)
        assert replayed.trace.to_json() == expected
        assert replayed.failure == finding.failure


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
def test_every_exploration_strategy_finds_and_shrinks_the_lost_update(strategy: str) -> None:
    finding = explore_program(
        programs.lost_update, strategy=strategy, max_examples=500, seed_value=3
    )
    assert finding is not None, f"{strategy} did not find the lost update"
    assert finding.surprises == 1


def test_a_deadlock_names_every_blocked_task_and_where_it_waits() -> None:
    finding = explore_program(programs.lock_order_deadlock, max_examples=300, seed_value=4)
    assert finding is not None
    failure = finding.failure
    assert failure.kind == "deadlock"
    blocked = {entry["task"].split("#")[0]: entry["at"] for entry in failure.blocked}
    assert set(blocked) >= {"forward", "backward"}
    assert all("racy_programs.py:" in where for where in blocked.values())
    assert finding.surprises == 1


def test_a_task_that_never_yields_is_a_runaway_not_a_hang() -> None:
    budget = Budget(step_seconds=0.05)
    result = run_program(programs.never_yields, DefaultDecisions(), budget=budget)
    assert result.failure is not None
    assert result.failure.kind == "runaway"
    assert "without yielding" in result.failure.message
    assert result.failure.traceback is not None and "racy_programs.py" in result.failure.traceback


def test_a_step_budget_stops_a_busy_loop() -> None:
    async def spin() -> None:
        import trio

        while True:
            await trio.sleep(0)

    result = run_program(spin, DefaultDecisions(), budget=Budget(max_steps=500))
    assert result.failure is not None and result.failure.kind == "runaway"
    assert "step budget" in result.failure.message


def test_a_virtual_time_budget_stops_an_endless_timer() -> None:
    async def tick_forever() -> None:
        import trio

        while True:
            await trio.sleep(1)

    result = run_program(tick_forever, DefaultDecisions(), budget=Budget(max_time=100))
    assert result.failure is not None and result.failure.kind == "runaway"
    assert "virtual time" in result.failure.message


def test_an_exception_in_a_task_is_reported_with_its_traceback() -> None:
    finding = explore_program(programs.raises_on_interleaving, max_examples=300, seed_value=5)
    assert finding is not None
    assert finding.failure.kind == "exception"
    assert finding.failure.title == "ValueError"
    assert "torn read" in finding.failure.message
    assert finding.failure.traceback and "raise ValueError" in finding.failure.traceback
    assert finding.surprises == 1


def test_timers_due_at_the_same_instant_are_ordered_by_a_decision() -> None:
    default = run_program(programs.timers_at_the_same_instant, DefaultDecisions())
    assert default.failure is None  # by default the earlier sleeper wakes first
    finding = explore_program(programs.timers_at_the_same_instant, max_examples=100, seed_value=6)
    assert finding is not None and finding.surprises == 1


def test_an_invariant_checked_after_every_step_catches_a_transient_state() -> None:
    import trio

    state = {"inside": 0}

    async def critical_section() -> None:
        async def worker() -> None:
            state["inside"] += 1
            await trio.sleep(0)
            state["inside"] -= 1

        async with trio.open_nursery() as nursery:
            nursery.start_soon(worker)
            nursery.start_soon(worker)

    def at_most_one_inside() -> None:
        assert state["inside"] <= 1, f"{state['inside']} tasks inside the critical section"

    def fresh() -> Awaitable[None]:
        state["inside"] = 0
        return critical_section()

    finding = explore_program(fresh, checks=at_most_one_inside, max_examples=200, seed_value=7)
    assert finding is not None
    assert finding.failure.kind == "invariant"
    assert "2 tasks inside" in finding.failure.message


def test_divergence_from_a_recording_is_detected() -> None:
    source = RecordedDecisions([5, 5, 5])  # more candidates than the program ever has
    run_program(programs.check_then_act, source)
    assert source.diverged_at is not None


def test_code_that_reads_the_real_clock_is_reported_as_nondeterministic() -> None:
    import time

    from fuzzer.runner import FuzzConfig, fuzz_machine
    from tests.counter_machine import CounterMachine

    class ClockReadingCounter(CounterMachine):
        def snapshot(self) -> dict[str, object]:
            return {"count": self.count, "read_at": time.perf_counter_ns()}

    result = fuzz_machine(ClockReadingCounter, FuzzConfig(max_examples=200, seed=1))
    assert result.failures
    failure = result.failures[0].run.failure
    assert failure is not None and failure.kind == "nondeterminism"
    assert "lost update" in failure.message and "differ from step" in failure.message


def test_a_deterministic_failure_is_not_flagged() -> None:
    from fuzzer.runner import FuzzConfig, fuzz_machine
    from tests.counter_machine import CounterMachine

    result = fuzz_machine(CounterMachine, FuzzConfig(max_examples=200, seed=1))
    failure = result.failures[0].run.failure
    assert failure is not None and failure.kind == "invariant"
