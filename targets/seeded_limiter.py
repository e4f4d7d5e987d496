"""The seeded limiter: `TokenBucket` with any subset of the eleven bugs switched on.

Each bug is one small, named deviation: an override of one method of the correct
class (two methods for B07 and B10, whose mechanisms have two halves) that
defers to the correct method unless its bug id is switched on, and otherwise
does exactly what spec section 3 says the article's code does, nothing more.
So ``bugs=()`` is the correct limiter, one id is that bug alone, and all eleven
together are the article's limiter. `targets.bugs.BUGS` describes each bug.
"""

from __future__ import annotations

from collections.abc import Iterable

import trio

from targets.bugs import ALL_BUGS
from targets.limiter import Grant, OnSettle, TokenBucket, _Waiter

__all__ = ["SeededTokenBucket"]


class SeededTokenBucket(TokenBucket):
    """`TokenBucket` with the seeded bugs in `bugs` switched on (see `targets.bugs`)."""

    def __init__(
        self,
        capacity: int,
        refill_amount: int,
        refill_interval: float,
        *,
        nursery: trio.Nursery,
        initial_tokens: int | None = None,
        bugs: Iterable[str] = (),
    ) -> None:
        """Like `TokenBucket`, plus the bug ids to switch on; unknown ids are a ValueError."""
        if isinstance(bugs, str):
            raise TypeError(f"bugs must be an iterable of bug ids, not the string {bugs!r}")
        chosen = frozenset(bugs)
        unknown = chosen - ALL_BUGS
        if unknown:
            raise ValueError(
                f"unknown bug ids {sorted(unknown)}; valid ids are {', '.join(sorted(ALL_BUGS))}"
            )
        self.bugs: frozenset[str] = chosen
        super().__init__(
            capacity,
            refill_amount,
            refill_interval,
            nursery=nursery,
            initial_tokens=initial_tokens,
        )

    # B01 ghost waiter
    def _expire(self, entry: _Waiter) -> None:
        """B01 ghost waiter: settle as timeout but leave the entry in the queue."""
        if "B01" not in self.bugs:
            return super()._expire(entry)
        self._timed_out += 1
        self._settle(entry, Grant(False, "timeout", self._tokens))

    # B02 double resolution
    def _on_timer_fired(self, entry: _Waiter) -> None:
        """B02 double resolution: expire without asking whether the entry is settled."""
        if "B02" not in self.bugs:
            return super()._on_timer_fired(entry)
        self._expire(entry)

    # B03 never settles
    def _check_fits_capacity(self, cost: int) -> None:
        """B03 never settles: accept (and queue) a cost above capacity."""
        if "B03" not in self.bugs:
            return super()._check_fits_capacity(cost)

    # B04 re-entrant drain
    def _grant(self, entry: _Waiter) -> None:
        """B04 re-entrant drain: settle (running on_settle) first, deduct afterwards."""
        if "B04" not in self.bugs:
            return super()._grant(entry)
        self._discard(entry)
        entry.timer_scope.cancel()
        self._settle(entry, Grant(True, "granted", self._tokens))
        self._tokens -= entry.cost
        self._granted += 1

    # B05 double refill loop
    async def start(self) -> None:
        """B05 double refill loop: check "running?", await, only then set the flag."""
        if "B05" not in self.bugs:
            return await super().start()
        if self._started or self._stopped:
            return await trio.lowlevel.checkpoint()
        await trio.lowlevel.checkpoint()
        self._started = True
        self._spawn_refill_loop()

    # B06 refill after stop
    def _end_refill_loop(self) -> None:
        """B06 refill after stop: leave the loop to notice the flag before its next sleep."""
        if "B06" not in self.bugs:
            return super()._end_refill_loop()

    # B07 barging (two halves: the fast path and the deferred drain)
    def _take_now(self, cost: int) -> bool:
        """B07 barging: the fast path checks only tokens >= cost, ignoring the queue."""
        if "B07" not in self.bugs:
            return super()._take_now(cost)
        return self._take_if_enough(cost)

    async def _tick(self) -> None:
        """B07 barging: the drain after a refill waits for the loop's next step."""
        if "B07" not in self.bugs:
            return await super()._tick()
        self._refill()
        await trio.lowlevel.checkpoint()
        self._drain()

    # B08 wrong waiter removed
    def _withdraw_expired(self, entry: _Waiter) -> None:
        """B08 wrong waiter removed: delete whatever sits at the index captured at enqueue."""
        if "B08" not in self.bugs:
            return super()._withdraw_expired(entry)
        if entry.index < len(self._queue):
            del self._queue[entry.index]

    # B09 head-of-line blocking
    def _next_fitting(self) -> _Waiter | None:
        """B09 head-of-line blocking: strict FIFO, only the head may be served."""
        if "B09" not in self.bugs:
            return super()._next_fitting()
        if self._queue and self._queue[0].cost <= self._tokens:
            return self._queue[0]
        return None

    # B10 two timings (two halves: the fast path and the slow path's report)
    async def _acquire_at_once(self, cost: int, on_settle: OnSettle | None) -> Grant | None:
        """B10 two timings: the fast path decides and returns with no checkpoint at all."""
        if "B10" not in self.bugs:
            return await super()._acquire_at_once(cost, on_settle)
        grant = self._decide_at_once(cost)
        if grant is not None:
            self._call_on_settle(on_settle, grant)
        return grant

    def _reported(self, grant: Grant) -> Grant:
        """B10 two timings: report `remaining` as computed at grant time."""
        if "B10" not in self.bugs:
            return super()._reported(grant)
        return grant

    # B11 stop drops re-entrant waiters
    def stop(self) -> None:
        """B11 stop drops re-entrant waiters: settle a snapshot, clear, set the flag last."""
        if "B11" not in self.bugs:
            return super().stop()
        for entry in list(self._queue):
            entry.timer_scope.cancel()
            self._settle(entry, Grant(False, "stopped", self._tokens))
        self._queue.clear()
        self._stopped = True
        self._end_refill_loop()
