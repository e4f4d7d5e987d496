"""The limiter machine's operations under Hypothesis, run by a plain ``trio.run``.

The fair counterpart of ``fuzz_machine(limiter_machine())`` for section 3b: a
Hypothesis state machine with the same rules, drawing the same arguments from
the same strategies, the same number of steps per example; but its rules only
write the operations down, and the example's end runs them in one ordinary
``trio.run`` (``MockClock`` with autojump, so time costs nothing) with the same
oracle checked after every task step.  What it lacks is exactly the control: no
decision drawn per scheduling point, no stepping of the run loop from outside.

Rule by rule: spawning clients, synchronous calls and ``stats()`` are the same;
``run_steps(n)`` becomes ``n`` checkpoints of the driver, ``run_until_quiet``
``wait_all_tasks_blocked``, ``advance(s)`` a sleep of ``s`` (the clock jumps),
``advance_to_next_deadline`` a sleep until trio's next deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar, cast

import trio
import trio.testing
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from bench.harness import Clients, OracleInstrument, make_limiter
from strategies import limiter_ops as ops
from targets.limiter_oracle import LimiterModel

Operation = tuple[Any, ...]


class PlanMachine(RuleBasedStateMachine):
    """`LimiterMachine`'s rules, recorded as a plan and run uncontrolled at the end."""

    examples: ClassVar[int] = 0
    violations: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        type(self).examples += 1
        draw = current_build_context().data.draw
        capacity = draw(ops.capacities)
        refill = min(draw(ops.refill_amounts), capacity)
        interval = draw(ops.intervals)
        self.model = LimiterModel(capacity, refill, interval, draw(st.integers(0, capacity)))
        self.plan: list[Operation] = []

    @rule(cost=ops.costs, timeout=ops.timeouts, behaviour=ops.behaviours)
    def acquire(self, cost: int, timeout: float | None, behaviour: str) -> None:
        self.plan.append(("spawn", cost, timeout, behaviour, "task"))

    @rule(cost=st.one_of(ops.bad_costs, st.integers(5, 6)))
    def acquire_bad_cost(self, cost: object) -> None:
        self.plan.append(("spawn", cost, None, "none", "task"))

    @rule(cost=ops.costs)
    def acquire_in_cancelled_scope(self, cost: int) -> None:
        self.plan.append(("spawn", min(cost, self.model.capacity), None, "none", "cancelled-scope"))

    @rule(cost=ops.costs)
    def try_acquire(self, cost: int) -> None:
        self.plan.append(("try", min(cost, self.model.capacity)))

    @rule(which=st.integers(0, 7))
    def cancel_waiter(self, which: int) -> None:
        self.plan.append(("cancel", which))

    @rule(racing=st.booleans())
    def start(self, racing: bool) -> None:
        self.plan.append(("start", 2 if racing else 1))

    @rule()
    def stop(self) -> None:
        self.plan.append(("stop",))

    @rule()
    def read_stats(self) -> None:
        self.plan.append(("stats",))

    @rule(steps=st.integers(1, 4))
    def run_steps(self, steps: int) -> None:
        self.plan.append(("steps", steps))

    @rule()
    def run_until_quiet(self) -> None:
        self.plan.append(("quiet",))

    @rule(seconds=ops.time_steps)
    def advance(self, seconds: float) -> None:
        self.plan.append(("advance", seconds))

    @rule()
    def advance_to_next_deadline(self) -> None:
        self.plan.append(("next_deadline",))

    def teardown(self) -> None:
        """Run the plan in a plain trio run; count (do not raise) a violation."""
        if run_plan(self.model, self.plan) is not None:
            type(self).violations += 1


def run_plan(model: LimiterModel, plan: list[Operation]) -> str | None:
    """Run ``plan`` on the correct limiter; the first violation's text, if any."""
    instrument = OracleInstrument()
    clock = trio.testing.MockClock(autojump_threshold=0)
    trio.run(_execute, model, plan, instrument, clock=clock, instruments=[instrument])
    return None if instrument.violation is None else str(instrument.violation)


async def _execute(
    model: LimiterModel, plan: list[Operation], instrument: OracleInstrument
) -> None:
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            clients = Clients(model, make_limiter(model, None, nursery))
            instrument.watch(clients, scope)
            for operation in plan:
                await _perform(clients, nursery, operation)
            clients.stop()
            await trio.testing.wait_all_tasks_blocked()
            instrument.check_final()
            instrument.unwatch()
            nursery.cancel_scope.cancel()


async def _perform(clients: Clients, nursery: trio.Nursery, operation: Operation) -> None:
    """One recorded operation (see the module docstring for the mapping)."""
    kind, *args = operation
    if kind == "spawn":
        nursery.start_soon(clients.acquire, clients.new(*args))
    elif kind == "start":
        for _ in range(args[0]):
            nursery.start_soon(clients.start)
    elif kind in _SYNC:
        _SYNC[kind](clients, *args)
    else:
        await _let_time_pass(kind, *args)


def _cancel(clients: Clients, which: int) -> None:
    waiting = clients.waiting()
    if waiting:
        clients.cancel(waiting[which % len(waiting)])


def _stats(clients: Clients) -> None:
    clients.limiter.stats()


_SYNC: dict[str, Callable[..., None]] = {
    "try": Clients.try_acquire,
    "cancel": _cancel,
    "stop": Clients.stop,
    "stats": _stats,
}


async def _let_time_pass(kind: str, *args: Any) -> None:
    """Steps, quiet, and moves of (mock) time, as the machine's scheduler rules."""
    if kind == "steps":
        for _ in range(args[0]):
            await trio.lowlevel.checkpoint()
    elif kind == "quiet":
        await trio.testing.wait_all_tasks_blocked()
    elif kind == "advance":
        await trio.sleep(args[0])
    else:
        await trio.testing.wait_all_tasks_blocked()
        delay = trio.lowlevel.current_statistics().seconds_to_next_deadline
        if delay < 100:
            await trio.sleep(max(delay, 0.0))


def run_uncontrolled(examples: int, seed: int, steps: int) -> tuple[int, float, int]:
    """Run ``examples`` examples; (examples run, wall seconds, examples with a violation)."""
    PlanMachine.examples = PlanMachine.violations = 0
    test_settings = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )

    def factory() -> PlanMachine:
        return PlanMachine()

    # A factory carrying a seed, as `fuzzer.runner` passes its machines.
    factory._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    started = time.perf_counter()
    run_state_machine_as_test(cast(Any, factory), settings=test_settings)
    return PlanMachine.examples, time.perf_counter() - started, PlanMachine.violations
