"""Directed scenarios: one deterministic, hand-written reproduction per seeded bug.

These are the yardstick for the fuzzer, not a replacement for it: each scenario is
the smallest situation that exposes one bug (spec section 3, "trigger"), written
out with exact virtual times under `trio.testing.MockClock`, and it reports what
it observed as an `Observation`: which invariants broke, and by exact numbers.
Run against the correct `TokenBucket`, every scenario must hold.

Some bugs only show under one interleaving of tasks that trio runs in the same
scheduler pass (B02, B07, B10). Trio offers no public way to choose the order of
tasks woken together, so those scenarios force it with an instrument that runs
the competing step synchronously right before or right after a chosen task's
step (`_StepHook`); each has a companion scenario with the other order, which
must stay clean even with the bug on. B05's interleaving is forced by
construction: two tasks spawned together each take their first step before
either takes its second.

One scenario drives the limiter white-box: B02 performs the refill tick itself
(`_tick_now`, with the loop not started), because the tick must land between
trio waking the timer and the timer running; everything else goes through the
public API. B11 re-acquires with `TokenBucket.submit`, the synchronous way for a
callback to start an acquire; `B11/spawned` shows that an acquire started in a
new task cannot be dropped, because it runs only after `stop()` has returned.

Run ``python -m targets.directed`` for the table; it exits 0 iff every bug
reproduces on the seeded limiter and the correct limiter holds everywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import trio
import trio.testing

from targets.bugs import BUGS
from targets.limiter import REFILL_TASK_NAME, TIMER_TASK_NAME, Grant, TokenBucket
from targets.seeded_limiter import SeededTokenBucket

__all__ = [
    "SCENARIOS",
    "BucketFactory",
    "Call",
    "Observation",
    "Scenario",
    "correct",
    "main",
    "run_scenario",
    "scenarios_for",
    "seeded",
]


class BucketFactory(Protocol):
    """Builds the limiter under test (`TokenBucket` itself is one)."""

    def __call__(
        self,
        capacity: int,
        refill_amount: int,
        refill_interval: float,
        *,
        nursery: trio.Nursery,
        initial_tokens: int | None = None,
    ) -> TokenBucket: ...


correct: BucketFactory = TokenBucket
"""The correct limiter."""


def seeded(*bugs: str) -> BucketFactory:
    """A factory for `SeededTokenBucket` with `bugs` switched on."""

    def build(
        capacity: int,
        refill_amount: int,
        refill_interval: float,
        *,
        nursery: trio.Nursery,
        initial_tokens: int | None = None,
    ) -> TokenBucket:
        return SeededTokenBucket(
            capacity,
            refill_amount,
            refill_interval,
            nursery=nursery,
            initial_tokens=initial_tokens,
            bugs=bugs,
        )

    return build


# ------------------------------------------------------------------- observations


@dataclass(frozen=True)
class Check:
    """One invariant checked at one point; `message` says how it broke, with numbers."""

    invariant: str
    holds: bool
    message: str


@dataclass(frozen=True)
class Observation:
    """What a scenario saw: the invariants it found broken, and the raw facts.

    `broken` lists invariant ids in the order checked (empty: all held);
    `detail` explains each broken one with exact numbers (or, if none broke,
    lists the facts); `facts` are the exact values tests compare.
    """

    broken: tuple[str, ...]
    detail: str
    facts: Mapping[str, object]

    @property
    def violated(self) -> bool:
        """True if any checked invariant broke."""
        return bool(self.broken)


def _observe(checks: list[Check], facts: Mapping[str, object]) -> Observation:
    failed = [check for check in checks if not check.holds]
    if failed:
        detail = "; ".join(f"{check.invariant}: {check.message}" for check in failed)
    else:
        detail = "held: " + ", ".join(f"{name}={value!r}" for name, value in facts.items())
    return Observation(tuple(check.invariant for check in failed), detail, dict(facts))


# ------------------------------------------------------------------------- world


@dataclass
class Call:
    """One client acquire, as its caller saw it."""

    name: str
    cost: int
    also: Callable[[Grant], object] | None = None
    """Extra `on_settle` behaviour (a re-entrant call), run after recording."""
    settles: list[Grant] = field(default_factory=list)
    """Every `on_settle` call, in order (exactly one is correct)."""
    settled_at: list[float] = field(default_factory=list)
    result: Grant | None = None
    """What `acquire` returned (None: it has not returned)."""
    error: Exception | None = None
    tokens_after: int | None = None
    """`stats().tokens` read right after `acquire` returned (I6)."""

    def on_settle(self, grant: Grant) -> None:
        """The callback handed to the limiter."""
        self.settles.append(grant)
        self.settled_at.append(trio.current_time())
        if self.also is not None:
            self.also(grant)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons `on_settle` was told, in order."""
        return tuple(grant.reason for grant in self.settles)

    @property
    def returned(self) -> str | None:
        """The reason `acquire` returned (None: it has not returned)."""
        return self.result.reason if self.result is not None else None

    @property
    def pending(self) -> bool:
        """Neither returned nor raised."""
        return self.result is None and self.error is None


@dataclass
class World:
    """One scenario's run: the limiter, its nursery, the clock, the client calls."""

    bucket: TokenBucket
    nursery: trio.Nursery
    capacity: int
    initial: int
    calls: list[Call] = field(default_factory=list)

    async def acquire(
        self,
        name: str,
        cost: int = 1,
        timeout: float | None = None,
        also: Callable[[Grant], object] | None = None,
    ) -> Call:
        """Start `acquire` in its own task; return once every task is blocked again."""
        call = Call(name, cost, also)
        self.calls.append(call)
        self.nursery.start_soon(self._drive, call, timeout, name=f"client {name}")
        await trio.testing.wait_all_tasks_blocked()
        return call

    async def _drive(self, call: Call, timeout: float | None) -> None:
        try:
            call.result = await self.bucket.acquire(call.cost, timeout, call.on_settle)
        except Exception as exc:
            call.error = exc
            return
        call.tokens_after = self.bucket.stats().tokens

    @staticmethod
    async def at(time: float) -> None:
        """Sleep until virtual time `time`."""
        await trio.sleep_until(time)

    def received(self) -> int:
        """Tokens the callers were told they got (by return value)."""
        return sum(c.cost for c in self.calls if c.result is not None and c.result.acquired)

    def expected_tokens(self) -> int:
        """I1: initial + refills - what callers received."""
        return self.initial + self.bucket.stats().refilled - self.received()

    def conservation(self) -> Check:
        """I1 as a check on the current books."""
        stats = self.bucket.stats()
        expected = self.expected_tokens()
        return Check(
            "I1",
            stats.tokens == expected,
            f"tokens {stats.tokens}, expected {expected} (initial {self.initial} "
            f"+ refilled {stats.refilled} - received {self.received()})",
        )

    def limiter_tasks(self) -> list[str]:
        """Names of the limiter's own tasks still alive in the nursery."""
        names = (task.name for task in self.nursery.child_tasks)
        return sorted(name for name in names if name in (REFILL_TASK_NAME, TIMER_TASK_NAME))


def _tick_now(bucket: TokenBucket) -> None:
    """Perform one refill tick synchronously, as the refill loop's step does."""
    bucket._refill()
    bucket._drain()


class _StepHook(trio.abc.Instrument):
    """Run `action` once, synchronously, right before or after a chosen task's step.

    The step chosen is the first one of the task named `task_name` at which
    `when()` holds. This pins an interleaving that trio would otherwise leave to
    chance: the action lands exactly between two steps of the scheduler.
    Exceptions are kept (trio would log them and drop the instrument).
    """

    def __init__(
        self,
        task_name: str,
        action: Callable[[], object],
        *,
        before: bool,
        when: Callable[[], bool] = lambda: True,
    ) -> None:
        self._task_name = task_name
        self._action = action
        self._before = before
        self._when = when
        self.done = False
        self.error: Exception | None = None

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if self._before:
            self._maybe_run(task)

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        if not self._before:
            self._maybe_run(task)

    def _maybe_run(self, task: trio.lowlevel.Task) -> None:
        if self.done or task.name != self._task_name or not self._when():
            return
        self.done = True
        try:
            self._action()
        except Exception as exc:
            self.error = exc


@contextmanager
def _hooked(hook: _StepHook) -> Iterator[_StepHook]:
    """Install `hook` for the block; fail loudly if it never fired or raised."""
    trio.lowlevel.add_instrument(hook)
    try:
        yield hook
    finally:
        trio.lowlevel.remove_instrument(hook)
    if hook.error is not None:
        raise hook.error
    if not hook.done:
        raise RuntimeError("scenario hook never fired: the forced interleaving did not happen")


@dataclass(frozen=True)
class Config:
    """A limiter configuration for one scenario."""

    capacity: int
    refill_amount: int
    refill_interval: float
    initial_tokens: int
    start: bool = True


Script = Callable[[World], Awaitable[Observation]]


def _simulate(factory: BucketFactory, config: Config, script: Script) -> Observation:
    """Run `script` on a fresh limiter in virtual time, then tear everything down."""

    async def main() -> Observation:
        async with trio.open_nursery() as nursery:
            bucket = factory(
                config.capacity,
                config.refill_amount,
                config.refill_interval,
                nursery=nursery,
                initial_tokens=config.initial_tokens,
            )
            if config.start:
                await bucket.start()
            world = World(bucket, nursery, config.capacity, config.initial_tokens)
            observation = await script(world)
            nursery.cancel_scope.cancel()
        return observation

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


# ---------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    """One directed scenario for one bug.

    `triggers` is True for the bug's trigger (it must break an invariant with the
    bug on) and False for the other interleaving of the same situation (it must
    hold even with the bug on).
    """

    key: str
    bug: str
    triggers: bool
    summary: str
    config: Config
    script: Script

    def run(self, factory: BucketFactory) -> Observation:
        """Run this scenario on a limiter built by `factory`."""
        return _simulate(factory, self.config, self.script)


async def _b01_ghost_waiter(world: World) -> Observation:
    a = await world.acquire("A", cost=1, timeout=1)
    await world.at(3)  # A times out at t=1; the refill at t=2 finds its ghost
    stats = world.bucket.stats()
    checks = [
        world.conservation(),
        Check("I3", len(a.settles) == 1, f"A resolved {len(a.settles)} times: {a.reasons}"),
    ]
    facts = {
        "A.returned": a.returned,
        "A.settles": a.reasons,
        "tokens": stats.tokens,
        "tokens_expected": world.expected_tokens(),
    }
    return _observe(checks, facts)


def _b02_double_resolution(*, drain_first: bool) -> Script:
    async def script(world: World) -> Observation:
        a = await world.acquire("A", cost=1, timeout=1)
        # The refill tick and A's deadline are both at t=1. The tick runs right
        # before the timer's step (drain first) or right after it (timer first).
        hook = _StepHook(
            TIMER_TASK_NAME,
            lambda: _tick_now(world.bucket),
            before=drain_first,
            when=lambda: trio.current_time() == 1,
        )
        with _hooked(hook):
            await world.at(2)
        stats = world.bucket.stats()
        checks = [
            Check("I3", len(a.settles) == 1, f"A resolved {len(a.settles)} times: {a.reasons}"),
            world.conservation(),
        ]
        facts = {
            "A.returned": a.returned,
            "A.settles": a.reasons,
            "tokens": stats.tokens,
            "tokens_expected": world.expected_tokens(),
            "granted": stats.granted,
            "timed_out": stats.timed_out,
        }
        return _observe(checks, facts)

    return script


async def _b03_never_settles(world: World) -> Observation:
    a = await world.acquire("A", cost=3)  # capacity is 2
    await world.at(10.5)
    stats = world.bucket.stats()
    checks = [
        Check(
            "I4",
            not a.pending,
            f"A (cost 3 > capacity 2) still waiting after {stats.ticks} ticks",
        )
    ]
    facts = {
        "A.error": type(a.error).__name__ if a.error else None,
        "A.pending": a.pending,
        "waiting": stats.waiting,
        "tokens": stats.tokens,
    }
    return _observe(checks, facts)


async def _b04_reentrant_drain(world: World) -> Observation:
    again: list[bool] = []

    def acquire_again(grant: Grant) -> None:
        if grant.acquired:
            again.append(world.bucket.try_acquire(1))

    a = await world.acquire("A", cost=1, also=acquire_again)
    await world.at(1.5)  # one refill of 1 token at t=1
    stats = world.bucket.stats()
    received = world.received() + sum(again)
    supplied = world.initial + stats.refilled
    checks = [
        Check("I2", 0 <= stats.tokens <= world.capacity, f"tokens {stats.tokens}"),
        Check(
            "I1",
            received <= supplied,
            f"callers received {received} tokens, only {supplied} ever existed",
        ),
    ]
    facts = {
        "A.returned": a.returned,
        "callback_try_acquire": tuple(again),
        "tokens": stats.tokens,
        "received": received,
        "supplied": supplied,
    }
    return _observe(checks, facts)


def _b05_double_refill_loop(*, overlapping: bool) -> Script:
    async def script(world: World) -> Observation:
        async with trio.open_nursery() as starters:
            starters.start_soon(world.bucket.start, name="starter 1")
            if not overlapping:  # the first start completes before the second begins
                await trio.testing.wait_all_tasks_blocked()
            starters.start_soon(world.bucket.start, name="starter 2")
        await world.at(1.5)  # exactly one tick (t=1) is due
        stats = world.bucket.stats()
        checks = [
            Check("I1", stats.ticks == 1, f"{stats.ticks} ticks by t=1.5 where 1 is due"),
            world.conservation(),
        ]
        facts = {"ticks": stats.ticks, "refilled": stats.refilled, "tokens": stats.tokens}
        return _observe(checks, facts)

    return script


async def _b06_refill_after_stop(world: World) -> Observation:
    await world.at(0.5)
    world.bucket.stop()  # the loop is asleep until t=1
    await world.at(0.75)
    alive = world.limiter_tasks()
    await world.at(3.5)
    stats = world.bucket.stats()
    checks = [
        Check("I1", stats.ticks == 0, f"{stats.ticks} tick(s) after stop() at t=0.5"),
        Check("I4", not alive, f"limiter tasks alive at t=0.75 after stop(): {alive}"),
    ]
    facts = {
        "ticks_after_stop": stats.ticks,
        "tokens": stats.tokens,
        "alive_after_stop": tuple(alive),
    }
    return _observe(checks, facts)


def _b07_barging(*, newcomer_in_gap: bool) -> Script:
    async def script(world: World) -> Observation:
        w = await world.acquire("W", cost=1)
        seen: dict[str, object] = {}

        def newcomer() -> None:
            seen["tokens_before"] = world.bucket.stats().tokens
            seen["W_waiting"] = not w.settles
            seen["granted"] = world.bucket.try_acquire(1)

        # The newcomer arrives right after the refill loop's step that refilled
        # (in the gap before a deferred drain), or after the step that drained.
        def when() -> bool:
            return world.bucket.stats().ticks == 1 if newcomer_in_gap else bool(w.settles)

        with _hooked(_StepHook(REFILL_TASK_NAME, newcomer, before=False, when=when)):
            await world.at(2.5)
        barged = seen["granted"] is True and seen["W_waiting"] is True
        checks = [
            Check(
                "I5",
                not barged,
                f"newcomer got 1 of {seen['tokens_before']} token(s) at t=1 while W "
                f"(cost 1, queued since t=0) fit; W granted at t={w.settled_at}",
            )
        ]
        facts = {
            "newcomer_granted": seen["granted"],
            "tokens_before_newcomer": seen["tokens_before"],
            "W.granted_at": tuple(w.settled_at),
        }
        return _observe(checks, facts)

    return script


async def _b08_wrong_waiter_removed(world: World) -> Observation:
    a = await world.acquire("A", cost=1)
    b = await world.acquire("B", cost=1, timeout=1.5)
    c = await world.acquire("C", cost=1)
    await world.at(2.5)  # t=1: A served; t=1.5: B times out; t=2: one more token
    stats = world.bucket.stats()
    wrong = [call for call in (a, b, c) if len(call.settles) != 1]
    checks = [
        Check(
            "I3",
            not wrong,
            "; ".join(f"{call.name} resolved {call.reasons or 'never'}" for call in wrong),
        ),
        world.conservation(),
    ]
    facts = {
        "A": a.reasons,
        "B": b.reasons,
        "C": c.reasons,
        "waiting": stats.waiting,
        "tokens": stats.tokens,
        "tokens_expected": world.expected_tokens(),
    }
    return _observe(checks, facts)


async def _b09_head_of_line(world: World) -> Observation:
    a = await world.acquire("A", cost=3)
    b = await world.acquire("B", cost=1)
    await world.at(1.5)  # one refill of 2 tokens at t=1
    stats = world.bucket.stats()
    fitting = tuple(c.name for c in (a, b) if not c.settles and c.cost <= stats.tokens)
    checks = [
        Check(
            "I5",
            not fitting,
            f"after the drain at t=1, {fitting or 'no waiter'} still queued with "
            f"{stats.tokens} tokens free",
        )
    ]
    facts = {"tokens": stats.tokens, "A": a.reasons, "B": b.reasons, "fitting_waiters": fitting}
    return _observe(checks, facts)


async def _b10_cancelled_fast_path(world: World) -> Observation:
    before = world.bucket.stats().tokens
    raised = True
    with trio.CancelScope() as scope:
        scope.cancel()
        await world.bucket.acquire(1)
        raised = False
    after = world.bucket.stats().tokens
    checks = [
        Check(
            "I6",
            raised and after == before,
            f"acquire in a cancelled scope {'raised Cancelled' if raised else 'returned'}, "
            f"tokens {before} -> {after}",
        )
    ]
    return _observe(checks, {"raised_cancelled": raised, "tokens": after})


def _b10_stale_remaining(*, other_first: bool) -> Script:
    async def script(world: World) -> Observation:
        w = await world.acquire("W", cost=1)
        taken: list[bool] = []
        # Another acquire lands right after the tick that granted W (before W
        # resumes), or right after W's own step (once W has returned).
        if other_first:
            hook = _StepHook(
                REFILL_TASK_NAME,
                lambda: taken.append(world.bucket.try_acquire(1)),
                before=False,
                when=lambda: bool(w.settles),
            )
        else:
            hook = _StepHook(
                "client W",
                lambda: taken.append(world.bucket.try_acquire(1)),
                before=False,
                when=lambda: w.result is not None,
            )
        with _hooked(hook):
            await world.at(1.5)
        remaining = w.result.remaining if w.result else None
        checks = [
            Check(
                "I6",
                remaining == w.tokens_after,
                f"W told remaining={remaining}, stats().tokens={w.tokens_after} on return",
            )
        ]
        facts = {
            "W.remaining": remaining,
            "W.tokens_after": w.tokens_after,
            "other_acquire": tuple(taken),
        }
        return _observe(checks, facts)

    return script


def _b11_stop_drops_reentrant(*, synchronous: bool) -> Script:
    async def script(world: World) -> Observation:
        again = Call("R", 1)

        def reacquire(grant: Grant) -> None:
            if grant.reason != "stopped":
                return
            if synchronous:  # queued during stop() itself
                world.bucket.submit(1, on_settle=again.on_settle)
            else:  # a new task: it runs only once stop() has returned
                world.nursery.start_soon(_reacquire_task, world.bucket, again)

        w = await world.acquire("W", cost=1, also=reacquire)
        await world.at(0.5)
        world.bucket.stop()
        await world.at(5)
        stats = world.bucket.stats()
        checks = [
            Check("I3", len(again.settles) == 1, f"R resolved {len(again.settles)} times"),
            Check(
                "I4",
                again.reasons == ("stopped",),
                f"R, started by W's callback during stop(), ended {again.reasons or 'never'}",
            ),
        ]
        facts = {"W": w.reasons, "R": again.reasons, "waiting": stats.waiting}
        return _observe(checks, facts)

    return script


async def _reacquire_task(bucket: TokenBucket, call: Call) -> None:
    call.result = await bucket.acquire(call.cost, on_settle=call.on_settle)


def _scenario_list() -> list[Scenario]:
    return [
        Scenario(
            "B01",
            "B01",
            True,
            "A (timeout 1) times out at t=1; the refill at t=2 grants its ghost",
            Config(1, 1, 2, 0),
            _b01_ghost_waiter,
        ),
        Scenario(
            "B02",
            "B02",
            True,
            "A's deadline = the tick at t=1; the tick's drain runs just before the timer",
            Config(1, 1, 1, 0, start=False),
            _b02_double_resolution(drain_first=True),
        ),
        Scenario(
            "B02/timer-first",
            "B02",
            False,
            "same instant, other order: the timer runs just before the tick's drain",
            Config(1, 1, 1, 0, start=False),
            _b02_double_resolution(drain_first=False),
        ),
        Scenario(
            "B03",
            "B03",
            True,
            "acquire(cost=3) on capacity 2, no timeout; 10 ticks pass",
            Config(2, 1, 1, 2),
            _b03_never_settles,
        ),
        Scenario(
            "B04",
            "B04",
            True,
            "A's on_settle calls try_acquire(1); one refill of 1 token",
            Config(2, 1, 1, 0),
            _b04_reentrant_drain,
        ),
        Scenario(
            "B05",
            "B05",
            True,
            "two tasks call start() in the same scheduler pass; one tick passes",
            Config(10, 1, 1, 0, start=False),
            _b05_double_refill_loop(overlapping=True),
        ),
        Scenario(
            "B05/sequential",
            "B05",
            False,
            "the second start() begins after the first has finished; one tick passes",
            Config(10, 1, 1, 0, start=False),
            _b05_double_refill_loop(overlapping=False),
        ),
        Scenario(
            "B06",
            "B06",
            True,
            "stop() at t=0.5 while the loop sleeps until t=1",
            Config(10, 1, 1, 0),
            _b06_refill_after_stop,
        ),
        Scenario(
            "B07",
            "B07",
            True,
            "W waits; a newcomer's try_acquire runs right after the refill step at t=1",
            Config(2, 1, 1, 0),
            _b07_barging(newcomer_in_gap=True),
        ),
        Scenario(
            "B07/after-drain",
            "B07",
            False,
            "W waits; the newcomer runs right after the step that drained to W",
            Config(2, 1, 1, 0),
            _b07_barging(newcomer_in_gap=False),
        ),
        Scenario(
            "B08",
            "B08",
            True,
            "A, B (timeout 1.5), C wait; A served at t=1; B times out at t=1.5",
            Config(3, 1, 1, 0),
            _b08_wrong_waiter_removed,
        ),
        Scenario(
            "B09",
            "B09",
            True,
            "A (cost 3) then B (cost 1) wait; one refill of 2 tokens",
            Config(5, 2, 1, 0),
            _b09_head_of_line,
        ),
        Scenario(
            "B10",
            "B10",
            True,
            "acquire(1) inside an already-cancelled scope with tokens available",
            Config(2, 1, 1, 2),
            _b10_cancelled_fast_path,
        ),
        Scenario(
            "B10/stale",
            "B10",
            True,
            "W granted by the tick at t=1; another acquire runs before W resumes",
            Config(5, 2, 1, 0),
            _b10_stale_remaining(other_first=True),
        ),
        Scenario(
            "B10/fresh",
            "B10",
            False,
            "W granted by the tick at t=1; the other acquire runs after W has returned",
            Config(5, 2, 1, 0),
            _b10_stale_remaining(other_first=False),
        ),
        Scenario(
            "B11",
            "B11",
            True,
            "W's on_settle re-acquires (submit) when stop() settles it",
            Config(1, 1, 10, 0),
            _b11_stop_drops_reentrant(synchronous=True),
        ),
        Scenario(
            "B11/spawned",
            "B11",
            False,
            "W's on_settle re-acquires in a new task, which runs after stop() returns",
            Config(1, 1, 10, 0),
            _b11_stop_drops_reentrant(synchronous=False),
        ),
    ]


SCENARIOS: dict[str, Scenario] = {scenario.key: scenario for scenario in _scenario_list()}
"""Every directed scenario by key: "B04", "B02/timer-first", ..."""


def scenarios_for(bug: str) -> list[Scenario]:
    """The scenarios of one bug: its triggers first, then the other interleavings."""
    found = [s for s in SCENARIOS.values() if s.bug == bug]
    return sorted(found, key=lambda s: not s.triggers)


def run_scenario(key: str, factory: BucketFactory) -> Observation:
    """Run the scenario named `key` on a limiter built by `factory`."""
    return SCENARIOS[key].run(factory)


# --------------------------------------------------------------------------- main


@dataclass(frozen=True)
class _Row:
    bug: str
    broken: tuple[str, ...]
    reproduced: bool
    correct_holds: bool
    other_clean: bool | None
    details: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.reproduced and self.correct_holds and self.other_clean is not False


def _evaluate(bug: str) -> _Row:
    broken: list[str] = []
    details: list[str] = []
    reproduced, correct_holds, other_clean = True, True, None
    for scenario in scenarios_for(bug):
        on_seeded = scenario.run(seeded(bug))
        correct_holds &= not scenario.run(correct).violated
        if scenario.triggers:
            reproduced &= on_seeded.violated
            broken += [i for i in on_seeded.broken if i not in broken]
            details.append(f"{scenario.key}: {on_seeded.detail}")
        else:
            other_clean = (other_clean is not False) and not on_seeded.violated
    return _Row(bug, tuple(broken), reproduced, correct_holds, other_clean, tuple(details))


def _yes(flag: bool | None) -> str:
    return "-" if flag is None else "yes" if flag else "NO"


def main(argv: list[str] | None = None) -> int:
    """Print the table of bugs vs scenarios; 0 iff every bug reproduces and the correct
    limiter holds (and the other interleavings stay clean)."""
    rows = [_evaluate(bug) for bug in sorted(BUGS)]
    header = (
        "bug",
        "name",
        "invariant broken",
        "reproduced (seeded)",
        "correct holds",
        "other order",
    )
    table = [
        (
            row.bug,
            BUGS[row.bug].name,
            ", ".join(row.broken) or "-",
            _yes(row.reproduced),
            _yes(row.correct_holds),
            _yes(row.other_clean),
        )
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *table]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    print()
    for row in rows:
        for detail in row.details:
            print(detail)
    failed = [row.bug for row in rows if not row.ok]
    print(
        f"\n{len(rows) - len(failed)}/{len(rows)} bugs reproduced with the correct limiter holding"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
