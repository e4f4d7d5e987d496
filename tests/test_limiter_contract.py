"""Contract tests for the correct limiter: every bullet of spec section 1.

All time is virtual (`trio.testing.MockClock` with autojump): a test sleeps to
exact instants, and refill ticks, deadlines and grants are asserted at exact
times. Instants that two events share are avoided unless the test is about the
tie; observations are made half an interval after a tick.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import trio
import trio.testing

from targets.limiter import REFILL_TASK_NAME, TIMER_TASK_NAME, Grant, Stats, TokenBucket

# -------------------------------------------------------------------------- harness


VIRTUAL_TIME_LIMIT = 10_000
"""Virtual seconds after which a test is failed as hung (it would spin forever)."""


def virtual(test: Callable[[trio.Nursery], Awaitable[None]]) -> None:
    """Run `test(nursery)` in virtual time, then cancel whatever is left running."""

    async def main() -> None:
        with trio.fail_after(VIRTUAL_TIME_LIMIT):
            async with trio.open_nursery() as nursery:
                await test(nursery)
                nursery.cancel_scope.cancel()

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def bucket(
    nursery: trio.Nursery,
    capacity: int = 4,
    refill_amount: int = 1,
    refill_interval: float = 1,
    initial_tokens: int | None = 0,
) -> TokenBucket:
    return TokenBucket(
        capacity,
        refill_amount,
        refill_interval,
        nursery=nursery,
        initial_tokens=initial_tokens,
    )


@dataclass
class Client:
    """One acquire running in its own task, and everything its caller saw."""

    cost: int
    also: Callable[[Grant], object] | None = None
    settles: list[Grant] = field(default_factory=list)
    settled_at: list[float] = field(default_factory=list)
    result: Grant | None = None
    returned_at: float | None = None
    tokens_after: int | None = None
    cancelled: bool = False
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)

    def on_settle(self, grant: Grant) -> None:
        self.settles.append(grant)
        self.settled_at.append(trio.current_time())
        if self.also is not None:
            self.also(grant)

    @property
    def reasons(self) -> list[str]:
        return [grant.reason for grant in self.settles]


async def start_acquire(
    nursery: trio.Nursery,
    limiter: TokenBucket,
    cost: int = 1,
    timeout: float | None = None,
    also: Callable[[Grant], object] | None = None,
) -> Client:
    """Spawn `limiter.acquire(...)`; return once every task is blocked again."""
    client = Client(cost, also)

    async def run() -> None:
        with client.scope:
            client.result = await limiter.acquire(cost, timeout, client.on_settle)
            client.returned_at = trio.current_time()
            client.tokens_after = limiter.stats().tokens
            return
        client.cancelled = True

    nursery.start_soon(run)
    await trio.testing.wait_all_tasks_blocked()
    return client


def limiter_tasks(nursery: trio.Nursery) -> list[str]:
    names = (task.name for task in nursery.child_tasks)
    return sorted(name for name in names if name in (REFILL_TASK_NAME, TIMER_TASK_NAME))


GRANTED = "granted"


def never(grant: Grant) -> None:
    """An on_settle that must not be called."""
    pytest.fail(f"on_settle called with {grant}")


# -------------------------------------------------------------------- construction

CONFIG_ERRORS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"capacity": 0}, ValueError, "capacity"),
    ({"capacity": -1}, ValueError, "capacity"),
    ({"capacity": 1.5}, TypeError, "capacity"),
    ({"capacity": True}, TypeError, "capacity"),
    ({"capacity": "4"}, TypeError, "capacity"),
    ({"refill_amount": 0}, ValueError, "refill_amount"),
    ({"refill_amount": 1.0}, TypeError, "refill_amount"),
    ({"refill_interval": 0}, ValueError, "refill_interval"),
    ({"refill_interval": -0.25}, ValueError, "refill_interval"),
    ({"refill_interval": math.nan}, ValueError, "refill_interval"),
    ({"refill_interval": math.inf}, ValueError, "refill_interval"),
    ({"refill_interval": "1"}, TypeError, "refill_interval"),
    ({"refill_interval": True}, TypeError, "refill_interval"),
    ({"initial_tokens": -1}, ValueError, "initial_tokens"),
    ({"initial_tokens": 5}, ValueError, "initial_tokens"),
    ({"initial_tokens": 1.0}, TypeError, "initial_tokens"),
]


@pytest.mark.parametrize(("change", "error", "name"), CONFIG_ERRORS)
def test_constructor_rejects_bad_configuration(
    change: dict[str, Any], error: type[Exception], name: str
) -> None:
    async def test(nursery: trio.Nursery) -> None:
        args: dict[str, Any] = {"capacity": 4, "refill_amount": 1, "refill_interval": 1}
        args |= {"initial_tokens": None} | change
        with pytest.raises(error, match=name):
            TokenBucket(nursery=nursery, **args)

    virtual(test)


def test_constructor_defaults_and_accepted_values() -> None:
    async def test(nursery: trio.Nursery) -> None:
        assert bucket(nursery, capacity=4, initial_tokens=None).stats() == Stats(
            tokens=4, waiting=0, granted=0, refilled=0, ticks=0, timed_out=0, stopped=False
        )
        assert bucket(nursery, initial_tokens=0).stats().tokens == 0
        assert bucket(nursery, refill_interval=0.25).stats().tokens == 0
        assert limiter_tasks(nursery) == []  # nothing runs before start()

    virtual(test)


# ---------------------------------------------------------------------- bad input

BAD_COSTS: list[tuple[object, type[Exception]]] = [
    (0, ValueError),
    (-1, ValueError),
    (1.5, TypeError),
    (True, TypeError),
    ("1", TypeError),
    (None, TypeError),
    (5, ValueError),  # > capacity 4: could never be granted
]
BAD_TIMEOUTS: list[tuple[object, type[Exception]]] = [
    (-1, ValueError),
    (-0.25, ValueError),
    (math.nan, ValueError),
    ("1", TypeError),
    (True, TypeError),
]


async def _assert_rejected_without_change(
    nursery: trio.Nursery,
    attempt: Callable[[TokenBucket], Awaitable[object]],
    error: type[Exception],
    name: str,
) -> None:
    """`attempt` raises `error` naming `name`, and the limiter's state is untouched."""
    limiter = bucket(nursery, capacity=4, initial_tokens=2)
    await limiter.start()
    waiter = await start_acquire(nursery, limiter, cost=3, timeout=10)
    before = (limiter.stats(), len(nursery.child_tasks))
    with pytest.raises(error, match=name):
        await attempt(limiter)
    await trio.testing.wait_all_tasks_blocked()
    assert (limiter.stats(), len(nursery.child_tasks)) == before
    assert waiter.settles == []


@pytest.mark.parametrize(("cost", "error"), BAD_COSTS)
def test_bad_cost_is_rejected_and_changes_nothing(cost: object, error: type[Exception]) -> None:
    async def acquire(limiter: TokenBucket) -> object:
        return await limiter.acquire(cost, on_settle=never)  # type: ignore[arg-type]

    async def try_acquire(limiter: TokenBucket) -> object:
        return limiter.try_acquire(cost)  # type: ignore[arg-type]

    async def submit(limiter: TokenBucket) -> object:
        return limiter.submit(cost, on_settle=never)  # type: ignore[arg-type]

    async def test(nursery: trio.Nursery) -> None:
        for attempt in (acquire, try_acquire, submit):
            await _assert_rejected_without_change(nursery, attempt, error, "cost")

    virtual(test)


@pytest.mark.parametrize(("timeout", "error"), BAD_TIMEOUTS)
def test_bad_timeout_is_rejected_and_changes_nothing(
    timeout: object, error: type[Exception]
) -> None:
    async def acquire(limiter: TokenBucket) -> object:
        return await limiter.acquire(3, timeout)  # type: ignore[arg-type]

    async def submit(limiter: TokenBucket) -> object:
        return limiter.submit(3, timeout, on_settle=never)  # type: ignore[arg-type]

    async def test(nursery: trio.Nursery) -> None:
        for attempt in (acquire, submit):
            await _assert_rejected_without_change(nursery, attempt, error, "timeout")

    virtual(test)


def test_error_messages_name_the_argument_and_the_value() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, capacity=4)
        with pytest.raises(ValueError, match=r"cost must be <= capacity \(4\), got 5"):
            await limiter.acquire(5)
        with pytest.raises(TypeError, match=r"cost must be an int, got True"):
            limiter.try_acquire(True)
        with pytest.raises(ValueError, match=r"timeout must be >= 0 and not NaN, got nan"):
            await limiter.acquire(1, math.nan)

    virtual(test)


# ------------------------------------------------------------- checkpoints, cancel


@pytest.mark.parametrize("situation", ["tokens available", "must wait", "stopped"])
def test_acquire_in_a_cancelled_scope_raises_and_takes_nothing(situation: str) -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, initial_tokens=2 if situation == "tokens available" else 0)
        await limiter.start()
        if situation == "stopped":
            limiter.stop()
        before = limiter.stats()
        told: list[Grant] = []
        with trio.CancelScope() as scope:
            scope.cancel()
            await limiter.acquire(1, timeout=5, on_settle=told.append)
            pytest.fail("acquire returned inside a cancelled scope")
        assert scope.cancelled_caught
        await trio.testing.wait_all_tasks_blocked()
        assert limiter.stats() == before
        assert told == []

    virtual(test)


@pytest.mark.parametrize("situation", ["tokens available", "stopped"])
def test_acquire_without_waiting_is_still_a_checkpoint(situation: str) -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, initial_tokens=2)
        if situation == "stopped":
            limiter.stop()
        with trio.testing.assert_checkpoints():
            await limiter.acquire(1)
        with trio.testing.assert_checkpoints():
            await limiter.start()

    virtual(test)


def test_cancelled_while_waiting_is_withdrawn_and_takes_nothing() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, refill_amount=2)
        await limiter.start()
        first = await start_acquire(nursery, limiter, cost=2, timeout=5)
        second = await start_acquire(nursery, limiter, cost=2)
        assert limiter.stats().waiting == 2
        await trio.sleep_until(0.5)
        first.scope.cancel()
        await trio.testing.wait_all_tasks_blocked()
        assert first.cancelled and first.settles == [] and first.result is None
        assert limiter.stats().waiting == 1
        assert limiter_tasks(nursery) == [REFILL_TASK_NAME]  # first's timer is gone
        await trio.sleep_until(6.5)  # past first's deadline
        assert second.settled_at == [1.0]
        assert limiter.stats() == Stats(
            tokens=4, waiting=0, granted=1, refilled=6, ticks=6, timed_out=0, stopped=False
        )

    virtual(test)


def test_cancel_at_the_tick_instant_wins_and_takes_nothing() -> None:
    """A deadline cancel and a refill at the same instant: trio cancels first."""

    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery)
        await limiter.start()
        with trio.move_on_at(1) as scope:
            await limiter.acquire(1, on_settle=never)
        assert scope.cancelled_caught
        await trio.sleep_until(1.5)
        assert (limiter.stats().tokens, limiter.stats().granted) == (1, 0)

    virtual(test)


def test_a_settled_acquire_is_not_undone_by_a_later_cancel() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery)
        await limiter.start()
        client = Client(1)
        client.also = lambda grant: client.scope.cancel()  # cancel right after the grant

        async def run() -> None:
            with client.scope:
                client.result = await limiter.acquire(1, on_settle=client.on_settle)
                await trio.sleep(0)  # the next checkpoint is where the cancel lands
            client.cancelled = client.scope.cancelled_caught

        nursery.start_soon(run)
        await trio.sleep_until(1.5)
        assert client.result == Grant(True, GRANTED, 0)
        assert client.reasons == [GRANTED]
        assert client.cancelled
        assert (limiter.stats().tokens, limiter.stats().granted) == (0, 1)

    virtual(test)


# -------------------------------------------------------------------- fast path


def test_granted_at_once_when_tokens_suffice() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, initial_tokens=3)
        told: list[Grant] = []
        assert await limiter.acquire(2, on_settle=told.append) == Grant(True, GRANTED, 1)
        assert told == [Grant(True, GRANTED, 1)]
        assert trio.current_time() == 0
        assert limiter.try_acquire(1) is True
        assert limiter.try_acquire(1) is False
        assert limiter.stats() == Stats(
            tokens=0, waiting=0, granted=2, refilled=0, ticks=0, timed_out=0, stopped=False
        )

    virtual(test)


def test_a_waiter_that_does_not_fit_does_not_block_a_newcomer() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, initial_tokens=2)
        big = await start_acquire(nursery, limiter, cost=3)
        assert await limiter.acquire(1) == Grant(True, GRANTED, 1)
        assert limiter.try_acquire(1) is True
        assert big.settles == [] and limiter.stats().waiting == 1

    virtual(test)


# ------------------------------------------------------------------- drain policy


def test_drain_is_first_fit_in_arrival_order() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, capacity=5, refill_amount=2)
        await limiter.start()
        order: list[str] = []
        a = await start_acquire(nursery, limiter, 3, also=lambda g: order.append("A"))
        b = await start_acquire(nursery, limiter, 1, also=lambda g: order.append("B"))
        c = await start_acquire(nursery, limiter, 1, also=lambda g: order.append("C"))
        await trio.sleep_until(1.5)
        assert order == ["B", "C"]  # A (3) does not fit 2 tokens; B and C do, in order
        assert limiter.stats().tokens == 0
        await trio.sleep_until(3.5)
        assert order == ["B", "C", "A"]
        assert (a.settled_at, b.settled_at, c.settled_at) == ([3.0], [1.0], [1.0])
        assert limiter.stats().tokens == 1  # 4 at t=3, A took 3

    virtual(test)


def test_waiters_of_equal_cost_are_served_oldest_first() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery)
        await limiter.start()
        clients = [await start_acquire(nursery, limiter) for _ in range(3)]
        await trio.sleep_until(3.5)
        assert [c.settled_at for c in clients] == [[1.0], [2.0], [3.0]]
        assert [c.returned_at for c in clients] == [1.0, 2.0, 3.0]

    virtual(test)


# ------------------------------------------------------------------------ timeouts


def test_timeout_ends_the_wait_exactly_at_the_deadline() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery)
        await limiter.start()
        client = await start_acquire(nursery, limiter, cost=2, timeout=0.75)
        await trio.sleep_until(0.875)
        assert client.result == Grant(False, "timeout", 0)
        assert client.returned_at == 0.75
        assert client.settles == [Grant(False, "timeout", 0)]
        assert limiter.stats().timed_out == 1 and limiter.stats().waiting == 0
        assert limiter_tasks(nursery) == [REFILL_TASK_NAME]
        await trio.sleep_until(5.5)
        assert limiter.stats().tokens == 4  # nothing was taken for the timed-out call

    virtual(test)


def test_a_timeout_withdraws_its_own_waiter_only() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery)
        await limiter.start()
        older = await start_acquire(nursery, limiter)
        timed = await start_acquire(nursery, limiter, timeout=1.5)
        younger = await start_acquire(nursery, limiter)
        await trio.sleep_until(2.5)  # t=1: older served; t=1.5: timeout; t=2: younger
        outcomes = [older.reasons, timed.reasons, younger.reasons]
        assert outcomes == [[GRANTED], ["timeout"], [GRANTED]]
        assert younger.settled_at == [2.0]
        assert limiter.stats() == Stats(
            tokens=0, waiting=0, granted=2, refilled=2, ticks=2, timed_out=1, stopped=False
        )

    virtual(test)


def test_zero_and_infinite_timeouts() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, initial_tokens=1)
        await limiter.start()
        assert await limiter.acquire(1, timeout=0) == Grant(True, GRANTED, 0)
        assert await limiter.acquire(1, timeout=0) == Grant(False, "timeout", 0)
        assert trio.current_time() == 0
        assert await limiter.acquire(1, timeout=math.inf) == Grant(True, GRANTED, 0)
        assert trio.current_time() == 1

    virtual(test)


def test_grant_before_the_deadline_cancels_the_timer() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery)
        await limiter.start()
        client = await start_acquire(nursery, limiter, cost=1, timeout=2.5)
        await trio.sleep_until(1.5)
        assert client.reasons == [GRANTED]
        assert limiter_tasks(nursery) == [REFILL_TASK_NAME]
        await trio.sleep_until(3)
        assert client.reasons == [GRANTED] and limiter.stats().timed_out == 0

    virtual(test)


def _deadline_on_a_tick() -> tuple[list[str], Grant | None, Stats]:
    seen: list[tuple[list[str], Grant | None, Stats]] = []

    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery)
        await limiter.start()
        client = await start_acquire(nursery, limiter, cost=1, timeout=1)
        await trio.sleep_until(2.5)
        seen.append((client.reasons, client.result, limiter.stats()))

    virtual(test)
    return seen[0]


def test_deadline_on_a_tick_ends_exactly_once_with_consistent_books() -> None:
    """Trio runs the timer or the refill first (its choice); either way one outcome."""
    for _ in range(20):
        reasons, result, stats = _deadline_on_a_tick()
        assert result is not None and reasons == [result.reason]
        if result.acquired:
            assert (stats.tokens, stats.granted, stats.timed_out) == (1, 1, 0)
        else:
            assert (stats.tokens, stats.granted, stats.timed_out) == (2, 0, 1)


# -------------------------------------------------------------------- re-entrancy


def test_try_acquire_from_on_settle_does_not_overtake_an_older_waiter() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, capacity=3, refill_amount=2)
        await limiter.start()
        taken: list[tuple[bool, int]] = []

        def take_more(grant: Grant) -> None:
            taken.append((limiter.try_acquire(1), limiter.stats().tokens))

        first = await start_acquire(nursery, limiter, also=take_more)
        second = await start_acquire(nursery, limiter)
        await trio.sleep_until(1.5)
        assert first.settles == [Grant(True, GRANTED, 1)]
        assert second.settled_at == [1.0]  # served before the callback's newcomer
        assert taken == [(False, 0)]
        assert limiter.stats().tokens == 0

    virtual(test)


def test_on_settle_sees_the_books_already_balanced() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, initial_tokens=1)
        await limiter.start()
        seen: list[Stats] = []
        await limiter.acquire(1, on_settle=lambda grant: seen.append(limiter.stats()))
        await start_acquire(nursery, limiter, 1, also=lambda grant: seen.append(limiter.stats()))
        await trio.sleep_until(1.5)
        assert [(s.tokens, s.waiting, s.granted) for s in seen] == [(0, 0, 1), (0, 0, 2)]

    virtual(test)


def test_stop_from_on_settle_stops_the_rest_at_once() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, refill_amount=2)
        await limiter.start()
        first = await start_acquire(nursery, limiter, also=lambda grant: limiter.stop())
        second = await start_acquire(nursery, limiter)  # would fit the same refill
        await trio.sleep_until(5.5)
        assert first.result == Grant(True, GRANTED, 1)
        assert second.result == Grant(False, "stopped", 1)
        assert limiter.stats() == Stats(
            tokens=1, waiting=0, granted=1, refilled=2, ticks=1, timed_out=0, stopped=True
        )
        assert limiter_tasks(nursery) == []

    virtual(test)


@pytest.mark.parametrize("how", ["submit", "new task"])
def test_acquire_started_from_on_settle_queues_behind_older_waiters(how: str) -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery)
        await limiter.start()
        later = Client(1)

        def again(grant: Grant) -> None:
            if how == "submit":
                limiter.submit(1, on_settle=later.on_settle)
            else:
                nursery.start_soon(limiter.acquire, 1, None, later.on_settle)

        first = await start_acquire(nursery, limiter, also=again)
        second = await start_acquire(nursery, limiter)
        await trio.sleep_until(3.5)
        assert (first.settled_at, second.settled_at, later.settled_at) == ([1.0], [2.0], [3.0])
        assert limiter.stats().tokens == 0

    virtual(test)


def test_submit_is_decided_at_once_or_later_through_on_settle() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, initial_tokens=1)
        await limiter.start()
        told: list[Grant] = []
        limiter.submit(1, on_settle=told.append)
        assert told == [Grant(True, GRANTED, 0)]  # synchronously
        limiter.submit(1, on_settle=told.append)
        limiter.submit(1, 0.5, on_settle=told.append)
        assert limiter.stats().waiting == 2
        await trio.sleep_until(1.5)
        assert told[1:] == [Grant(False, "timeout", 0), Grant(True, GRANTED, 0)]

    virtual(test)


# --------------------------------------------------------------------------- stop


def test_stop_settles_every_pending_acquire_and_ends_the_limiter_tasks() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, initial_tokens=1)
        await limiter.start()
        clients = [await start_acquire(nursery, limiter, 2, timeout=t) for t in (None, 3)]
        assert limiter_tasks(nursery) == [REFILL_TASK_NAME, TIMER_TASK_NAME]
        await trio.sleep_until(0.5)
        limiter.stop()
        assert [c.settles for c in clients] == [[Grant(False, "stopped", 1)]] * 2
        await trio.testing.wait_all_tasks_blocked()
        assert [c.result for c in clients] == [Grant(False, "stopped", 1)] * 2
        assert limiter_tasks(nursery) == []
        await trio.sleep_until(100)
        assert limiter.stats() == Stats(
            tokens=1, waiting=0, granted=0, refilled=0, ticks=0, timed_out=0, stopped=True
        )

    virtual(test)


def test_after_stop_everything_ends_stopped_at_once() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, initial_tokens=2)
        limiter.stop()
        limiter.stop()  # idempotent
        await limiter.start()  # no-op after stop
        told: list[Grant] = []
        with trio.testing.assert_checkpoints():
            assert await limiter.acquire(1, 5, told.append) == Grant(False, "stopped", 2)
        assert limiter.try_acquire(1) is False
        limiter.submit(1, on_settle=told.append)
        assert told == [Grant(False, "stopped", 2)] * 2
        await trio.sleep_until(10)
        assert limiter_tasks(nursery) == []
        assert limiter.stats().tokens == 2 and limiter.stats().ticks == 0

    virtual(test)


def test_callbacks_that_reacquire_during_stop_end_stopped_too() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery)
        await limiter.start()
        again = Client(1)
        spawned = Client(1)

        def reacquire(grant: Grant) -> None:
            limiter.submit(1, on_settle=again.on_settle)
            nursery.start_soon(limiter.acquire, 1, None, spawned.on_settle)
            limiter.stop()  # re-entrant stop is harmless

        first = await start_acquire(nursery, limiter, also=reacquire)
        second = await start_acquire(nursery, limiter)
        await trio.sleep_until(0.5)
        limiter.stop()
        await trio.sleep_until(5)
        for client in (first, second, again, spawned):
            assert client.reasons == ["stopped"]
        assert limiter.stats().waiting == 0 and limiter_tasks(nursery) == []

    virtual(test)


# ------------------------------------------------------------------------ refills


def test_a_thousand_ticks_at_exact_instants() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, capacity=10_000, refill_interval=0.25)
        await trio.sleep_until(7.5)
        await limiter.start()  # t0 = 7.5
        for k in range(1, 1001):
            await trio.sleep_until(7.5 + k * 0.25 - 0.125)
            assert limiter.stats().ticks == k - 1
            await trio.sleep_until(7.5 + k * 0.25 + 0.125)
            assert limiter.stats().ticks == k
        assert limiter.stats() == Stats(
            tokens=1000, waiting=0, granted=0, refilled=1000, ticks=1000, timed_out=0, stopped=False
        )

    virtual(test)


def test_refill_tops_up_to_capacity_and_still_counts_the_tick() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, capacity=3, refill_amount=2, refill_interval=3, initial_tokens=2)
        await limiter.start()
        await trio.sleep_until(3.5)
        assert (limiter.stats().tokens, limiter.stats().refilled) == (3, 1)
        await trio.sleep_until(6.5)
        assert (limiter.stats().tokens, limiter.stats().refilled, limiter.stats().ticks) == (
            3,
            1,
            2,
        )

    virtual(test)


@pytest.mark.parametrize("concurrent", [False, True])
def test_start_is_idempotent(concurrent: bool) -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, capacity=100)
        async with trio.open_nursery() as starters:
            for _ in range(3):
                starters.start_soon(limiter.start)
                if not concurrent:
                    await trio.testing.wait_all_tasks_blocked()
        assert limiter_tasks(nursery) == [REFILL_TASK_NAME]
        await trio.sleep_until(10.5)
        assert (limiter.stats().ticks, limiter.stats().tokens) == (10, 10)

    virtual(test)


def test_start_in_a_cancelled_scope_starts_nothing() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery)
        with trio.CancelScope() as scope:
            scope.cancel()
            await limiter.start()
        await trio.sleep_until(2.5)
        assert limiter.stats().ticks == 0 and limiter_tasks(nursery) == []

    virtual(test)


# ------------------------------------------------------------- stats and remaining


def test_stats_is_a_frozen_snapshot() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, initial_tokens=1)
        await limiter.start()
        snapshot = limiter.stats()
        await start_acquire(nursery, limiter, 2, timeout=0.5)
        await start_acquire(nursery, limiter, 3)
        assert snapshot == Stats(1, 0, 0, 0, 0, 0, False)  # unaffected by later changes
        assert limiter.stats() == Stats(1, 2, 0, 0, 0, 0, False)
        await trio.sleep_until(1.5)
        assert limiter.stats() == Stats(
            tokens=2, waiting=1, granted=0, refilled=1, ticks=1, timed_out=1, stopped=False
        )
        with pytest.raises(dataclasses.FrozenInstanceError):
            snapshot.tokens = 5  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            Grant(True, GRANTED, 0).remaining = 1  # type: ignore[misc]

    virtual(test)


def test_remaining_is_the_token_count_when_acquire_returns() -> None:
    async def test(nursery: trio.Nursery) -> None:
        limiter = bucket(nursery, capacity=5, refill_amount=3)
        await limiter.start()
        # The first waiter's callback takes a token before its caller resumes;
        # the second waiter is granted in the same drain, also before it resumes.
        first = await start_acquire(nursery, limiter, also=lambda g: limiter.try_acquire(1))
        second = await start_acquire(nursery, limiter)
        await trio.sleep_until(1.5)
        assert first.settles == [Grant(True, GRANTED, 2)]  # as of the decision
        assert first.result == Grant(True, GRANTED, 0)  # as of the return
        assert second.result == Grant(True, GRANTED, 0)
        assert first.tokens_after == second.tokens_after == 0
        await trio.sleep_until(2.5)
        assert await limiter.acquire(2) == Grant(True, GRANTED, 1)
        assert limiter.stats().tokens == 1

    virtual(test)
