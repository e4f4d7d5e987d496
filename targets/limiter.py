"""The correct token-bucket rate limiter: the reference the seeded bugs deviate from.

Integer tokens refill at exactly ``t0 + k * refill_interval`` (``t0`` = start time);
callers either get tokens at once or wait in a queue, with optional timeouts, until a
refill lets them in. The contract is section 1 of the limiter spec; the invariants
named in the docstrings below are those of its section 2:

I1 conservation
    ``tokens == initial + refills - cost of the grants callers received``.
I2 bounds
    ``0 <= tokens <= capacity``.
I3 single resolution
    every acquire ends exactly once, and what its caller is told matches the books.
I4 liveness
    after ``stop()`` nothing is left waiting and the limiter's tasks exit.
I5 fairness
    first fit in arrival order; no newcomer is served while an older waiter fits.
I6 timing contract
    ``acquire`` is always a checkpoint and ``remaining`` is fresh.

Everything here is single-threaded trio code, so an invariant can only be broken
across an ``await`` or by re-entrant code (an ``on_settle`` callback). The design
keeps both windows closed: each state change is completed before the next
``await`` or callback, callbacks run only once the books are balanced, and every
decision about a waiter is recorded on the waiter so that no later event can
decide it twice.

The class is deliberately cut into small methods: `targets.seeded_limiter`
overrides exactly one of them (two for B07 and B10) per seeded bug.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import trio

__all__ = ["REFILL_TASK_NAME", "TIMER_TASK_NAME", "Grant", "OnSettle", "Stats", "TokenBucket"]

REFILL_TASK_NAME = "TokenBucket.refill_loop"
"""Name of the refill loop's task (to recognise it in instruments and traces)."""
TIMER_TASK_NAME = "TokenBucket.timer"
"""Name of every waiter's timeout task."""


@dataclass(frozen=True)
class Grant:
    """How one acquire ended.

    `remaining` is the token count when the caller was told: at the moment
    `acquire` returns (I6), or, for `on_settle`, when the outcome was decided.
    """

    acquired: bool
    reason: Literal["granted", "timeout", "stopped"]
    remaining: int


@dataclass(frozen=True)
class Stats:
    """A consistent snapshot of the limiter's books.

    `refilled` is the total of tokens added by refills and `ticks` the number of
    refill ticks performed (a tick on a full bucket adds 0 but still counts).
    """

    tokens: int
    waiting: int
    granted: int
    refilled: int
    ticks: int
    timed_out: int
    stopped: bool


OnSettle = Callable[[Grant], object]
"""Callback told an acquire's outcome, synchronously, from inside the limiter."""


@dataclass(eq=False)
class _Waiter:
    """One queued acquire (compared by identity, never by value).

    `settled` becomes true the moment anything decides this waiter's fate
    (granted, timed out, stopped, or withdrawn by cancellation); from then on
    nothing may decide it again (I3). `task` is the caller's parked task, and is
    cleared when the task is woken or aborted, so it is woken at most once; it is
    None from the start for a callback-only `submit`. The caller reads `grant`
    when it resumes.
    """

    cost: int
    on_settle: OnSettle | None
    task: trio.lowlevel.Task | None
    seq: int
    """Arrival number (the queue is kept in this order; first fit scans it so)."""
    index: int
    """Queue position at arrival; stale as soon as an older waiter leaves (see B08)."""
    timer_scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    grant: Grant | None = None
    settled: bool = False


class TokenBucket:
    """A trio token bucket: first-fit waiting, timeouts, re-entrant callbacks.

    The bucket never owns a nursery: its refill loop and its timeout tasks run in
    the one given, and `stop()` ends all of them. Methods may be called from any
    task of the same trio run, and from inside an `on_settle` callback.
    """

    def __init__(
        self,
        capacity: int,
        refill_amount: int,
        refill_interval: float,
        *,
        nursery: trio.Nursery,
        initial_tokens: int | None = None,
    ) -> None:
        """Validate the configuration; nothing runs until `start()`.

        Raises TypeError / ValueError naming the offending argument.
        """
        self._capacity = _require_int("capacity", capacity, low=1)
        self._refill_amount = _require_int("refill_amount", refill_amount, low=1)
        self._interval = _require_interval(refill_interval)
        initial = capacity if initial_tokens is None else initial_tokens
        self._tokens = _require_int("initial_tokens", initial, low=0, high=capacity)
        self._nursery = nursery
        self._queue: list[_Waiter] = []
        self._arrivals = itertools.count()
        self._loop_scopes: list[trio.CancelScope] = []
        self._started = False
        self._stopped = False
        self._granted = 0
        self._refilled = 0
        self._ticks = 0
        self._timed_out = 0

    # ------------------------------------------------------------------ public API

    async def start(self) -> None:
        """Start the refill loop, with ``t0 = trio.current_time()``.

        I1: there is never more than one loop, so each tick refills once. The
        claim (check and set the flag) happens in one synchronous step, so two
        concurrent starts cannot both see "not running". A no-op once running or
        after `stop()`. A checkpoint, like every trio async function.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        if not self._started and not self._stopped:
            self._started = True
            self._spawn_refill_loop()
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def acquire(
        self,
        cost: int = 1,
        timeout: float | None = None,
        on_settle: OnSettle | None = None,
    ) -> Grant:
        """Take `cost` tokens, waiting (at most `timeout` seconds) if needed.

        Returns a `Grant` that is "granted", "timeout" (at the deadline) or
        "stopped". Bad input raises TypeError / ValueError before anything
        changes. Always a checkpoint: inside a cancelled scope it raises
        `trio.Cancelled` and takes nothing; cancelled while waiting, the call is
        withdrawn and takes nothing (and `on_settle` is not called). Otherwise
        `on_settle(grant)` is called exactly once, when the outcome is decided.
        """
        self._check_cost(cost)
        _check_timeout(timeout)
        grant = await self._acquire_at_once(cost, on_settle)
        if grant is None:
            grant = await self._wait_for_grant(cost, timeout, on_settle)
        return grant

    def try_acquire(self, cost: int = 1) -> bool:
        """Take `cost` tokens now if the fairness rule allows it, else return False.

        Synchronous and never waits. False after `stop()`.
        """
        self._check_cost(cost)
        return not self._stopped and self._take_now(cost)

    def submit(
        self,
        cost: int = 1,
        timeout: float | None = None,
        *,
        on_settle: OnSettle,
    ) -> None:
        """Start an acquire from synchronous code; its outcome goes to `on_settle` only.

        This is how an `on_settle` callback "starts another acquire" (the
        article's handler calling `acquire()`): the request is decided or queued
        before `submit` returns, exactly where `acquire` would be after its first
        step. It has no caller task, so it is neither a checkpoint nor
        cancellable; it ends exactly once (I3), by grant, timeout or stop.
        """
        self._check_cost(cost)
        _check_timeout(timeout)
        grant = self._decide_at_once(cost)
        if grant is not None:
            self._call_on_settle(on_settle, grant)
            return
        entry = self._enqueue(cost, on_settle, task=None)
        self._arm_timer(entry, timeout)

    def stop(self) -> None:
        """Stop for good: every pending and every later acquire ends "stopped" (I4).

        The flag is set first, so a callback that acquires again while `stop()`
        is settling the queue is itself stopped; the queue is emptied one entry
        at a time, so re-entrant calls (even `stop()` itself) see a consistent
        queue. Ends the refill loop and every timer task. Idempotent.
        """
        self._stopped = True
        self._settle_all_stopped()
        self._end_refill_loop()

    def stats(self) -> Stats:
        """A snapshot of the books, taken in one synchronous step (consistent)."""
        return Stats(
            tokens=self._tokens,
            waiting=len(self._queue),
            granted=self._granted,
            refilled=self._refilled,
            ticks=self._ticks,
            timed_out=self._timed_out,
            stopped=self._stopped,
        )

    # ------------------------------------------------------------- input checks

    def _check_cost(self, cost: object) -> None:
        """Reject a cost that is not an int >= 1 or that could never be served."""
        self._check_fits_capacity(_require_int("cost", cost, low=1))

    def _check_fits_capacity(self, cost: int) -> None:
        """I4: a cost above capacity could never be granted, so it is refused now."""
        if cost > self._capacity:
            raise ValueError(
                f"cost must be <= capacity ({self._capacity}), got {cost}: "
                "it could never be granted"
            )

    # ---------------------------------------------------------------- fast path

    async def _acquire_at_once(self, cost: int, on_settle: OnSettle | None) -> Grant | None:
        """Decide without queueing if possible; None means "wait".

        I6: a cancel point before anything is decided (a cancelled caller takes
        nothing), and a schedule point after a decision, as trio's own
        primitives do. The grant reported is read after that last checkpoint.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        grant = self._decide_at_once(cost)
        if grant is None:
            return None
        self._call_on_settle(on_settle, grant)
        await trio.lowlevel.cancel_shielded_checkpoint()
        return self._reported(grant)

    def _decide_at_once(self, cost: int) -> Grant | None:
        """The outcome that needs no waiting: "stopped", or "granted" if fair."""
        if self._stopped:
            return Grant(False, "stopped", self._tokens)
        if self._take_now(cost):
            return Grant(True, "granted", self._tokens)
        return None

    def _take_now(self, cost: int) -> bool:
        """I5: a newcomer is served only after the queue is drained.

        After a drain no queued waiter fits, so ``tokens >= cost`` then means no
        older waiter that fits is being overtaken.
        """
        self._drain()
        return self._take_if_enough(cost)

    def _take_if_enough(self, cost: int) -> bool:
        """Deduct `cost` and count a grant if the tokens suffice (I1, I2)."""
        if self._tokens < cost:
            return False
        self._tokens -= cost
        self._granted += 1
        return True

    def _reported(self, grant: Grant) -> Grant:
        """I6: what the caller receives carries the token count as of now."""
        return replace(grant, remaining=self._tokens)

    # ---------------------------------------------------------------- slow path

    async def _wait_for_grant(
        self, cost: int, timeout: float | None, on_settle: OnSettle | None
    ) -> Grant:
        """Queue the caller and park it until it is settled or cancelled.

        I3: the only ways out are `_settle` (which wakes the task once) and
        cancellation, which trio only delivers while the task is still parked,
        that is, before any settlement. Parking is a checkpoint (I6).
        """
        entry = self._enqueue(cost, on_settle, task=trio.lowlevel.current_task())
        self._arm_timer(entry, timeout)
        await trio.lowlevel.wait_task_rescheduled(functools.partial(self._abort, entry))
        assert entry.grant is not None
        return self._reported(entry.grant)

    def _enqueue(
        self, cost: int, on_settle: OnSettle | None, task: trio.lowlevel.Task | None
    ) -> _Waiter:
        """Append a waiter at the back: arrival order is service order (I5)."""
        entry = _Waiter(cost, on_settle, task, seq=next(self._arrivals), index=len(self._queue))
        self._queue.append(entry)
        return entry

    def _abort(
        self, entry: _Waiter, raise_cancel: trio.lowlevel.RaiseCancelT
    ) -> trio.lowlevel.Abort:
        """Cancellation of a parked caller: withdraw it, taking nothing (I1).

        Withdrawing frees no tokens, and under first fit a waiter never blocks
        the ones behind it, so no drain is needed. `on_settle` is not called.
        """
        entry.settled = True
        entry.task = None
        self._discard(entry)
        entry.timer_scope.cancel()
        return trio.lowlevel.Abort.SUCCEEDED

    def _discard(self, entry: _Waiter) -> None:
        """Remove `entry` itself from the queue if it is still there."""
        if entry in self._queue:
            self._queue.remove(entry)

    def _settle(self, entry: _Waiter, grant: Grant) -> None:
        """Record `entry`'s outcome, wake its caller, then run its `on_settle`.

        Called only once the books reflect `grant` (I1) and the entry has left
        the queue, so a re-entrant callback sees a consistent limiter. The task
        is woken at most once, and reads its outcome from the entry when it
        resumes: the record, not the wake-up message, is the one source of truth.
        """
        entry.settled = True
        entry.grant = grant
        task, entry.task = entry.task, None
        if task is not None:
            trio.lowlevel.reschedule(task)
        self._call_on_settle(entry.on_settle, grant)

    @staticmethod
    def _call_on_settle(on_settle: OnSettle | None, grant: Grant) -> None:
        """Tell the caller's callback, synchronously. Its exceptions propagate."""
        if on_settle is not None:
            on_settle(grant)

    # ------------------------------------------------------------------ draining

    def _drain(self) -> None:
        """Grant every queued waiter that fits, oldest first (I5, first fit).

        Re-entrancy safe: each grant dequeues and pays for its waiter before the
        callback runs, and every iteration re-reads the queue and the tokens, so
        a nested drain (from a callback's `try_acquire`) or a `stop()` from a
        callback leaves this loop with nothing stale to act on.
        """
        while (entry := self._next_fitting()) is not None:
            self._grant(entry)

    def _next_fitting(self) -> _Waiter | None:
        """The oldest queued waiter whose cost fits; those that do not fit are skipped."""
        return next((entry for entry in self._queue if entry.cost <= self._tokens), None)

    def _grant(self, entry: _Waiter) -> None:
        """Dequeue and pay for `entry`, stop its timer, then settle it (I1, I2, I3)."""
        self._discard(entry)
        self._tokens -= entry.cost
        self._granted += 1
        entry.timer_scope.cancel()
        self._settle(entry, Grant(True, "granted", self._tokens))

    # ------------------------------------------------------------------ timeouts

    def _arm_timer(self, entry: _Waiter, timeout: float | None) -> None:
        """Give `entry` a timeout task of the limiter's own (like `setTimeout`)."""
        if timeout is not None:
            deadline = trio.current_time() + timeout
            self._nursery.start_soon(self._run_timer, entry, deadline, name=TIMER_TASK_NAME)

    async def _run_timer(self, entry: _Waiter, deadline: float) -> None:
        """Sleep until `deadline` unless the entry's timer scope is cancelled first.

        A timer reaching its deadline fires even if a grant cancelled it in the
        same instant (trio ran the grant first): whether it may still act is
        `_on_timer_fired`'s decision, made on the entry's record.
        """
        with entry.timer_scope:
            await trio.sleep_until(deadline)
        if trio.current_time() >= deadline:
            self._on_timer_fired(entry)

    def _on_timer_fired(self, entry: _Waiter) -> None:
        """I3: a deadline can only end a waiter that nothing has settled yet."""
        if not entry.settled:
            self._expire(entry)

    def _expire(self, entry: _Waiter) -> None:
        """Withdraw `entry` and settle it as timed out.

        I1/I3: withdrawn first, so no later drain can grant it a second time.
        """
        self._withdraw_expired(entry)
        self._timed_out += 1
        self._settle(entry, Grant(False, "timeout", self._tokens))

    def _withdraw_expired(self, entry: _Waiter) -> None:
        """Remove the timed-out entry itself (by identity, never by a stored index)."""
        self._discard(entry)

    # --------------------------------------------------------------- refill loop

    def _spawn_refill_loop(self) -> None:
        """Spawn a refill loop anchored at now, in a cancel scope `stop()` cancels."""
        scope = trio.CancelScope()
        self._loop_scopes.append(scope)
        self._nursery.start_soon(
            self._refill_loop, trio.current_time(), scope, name=REFILL_TASK_NAME
        )

    async def _refill_loop(self, t0: float, scope: trio.CancelScope) -> None:
        """Tick at exactly ``t0 + k * interval`` for k = 1, 2, ... until stopped.

        I1: the k-th deadline is computed, never accumulated, so no float drift;
        a late wake-up still performs every due tick (none skipped, none doubled).
        `stop()` cancels the scope, so no tick can follow it, even if the loop is
        asleep at that moment.
        """
        with scope:
            for k in itertools.count(1):
                if self._stopped:
                    return
                await trio.sleep_until(t0 + k * self._interval)
                await self._tick()

    async def _tick(self) -> None:
        """One tick: refill, then drain in the same step (I5: no newcomer in between)."""
        self._refill()
        self._drain()

    def _refill(self) -> None:
        """Add ``min(refill_amount, capacity - tokens)`` (never < 0) and count the tick (I1, I2)."""
        added = max(0, min(self._refill_amount, self._capacity - self._tokens))
        self._tokens += added
        self._refilled += added
        self._ticks += 1

    def _end_refill_loop(self) -> None:
        """Cancel every refill loop: one asleep at `stop()` never wakes to refill (I1)."""
        for scope in self._loop_scopes:
            scope.cancel()

    # ---------------------------------------------------------------------- stop

    def _settle_all_stopped(self) -> None:
        """Settle the queue as "stopped", oldest first, one entry at a time (I4).

        Each entry is removed before its callback runs, and the loop re-reads the
        queue, so whatever a callback does (another `stop()`, a `submit`) is
        handled; with the flag already set, nothing new can be queued.
        """
        while self._queue:
            entry = self._queue.pop(0)
            entry.timer_scope.cancel()
            self._settle(entry, Grant(False, "stopped", self._tokens))


# ---------------------------------------------------------------------- validation


def _require_int(name: str, value: object, *, low: int, high: int | None = None) -> int:
    """`value` as an int in [low, high], else TypeError / ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return value


def _require_real(name: str, value: object) -> float:
    """`value` as a non-NaN, non-negative real number, else an error naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be >= 0 and not NaN, got {value}")
    return float(value)


def _require_interval(value: object) -> float:
    """A refill interval: a finite number of seconds > 0."""
    interval = _require_real("refill_interval", value)
    if interval == 0 or math.isinf(interval):
        raise ValueError(f"refill_interval must be finite and > 0, got {value}")
    return interval


def _check_timeout(timeout: object) -> None:
    """A timeout: None (wait as long as needed) or a number of seconds >= 0."""
    if timeout is not None:
        _require_real("timeout", timeout)
