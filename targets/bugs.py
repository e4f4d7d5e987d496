"""The catalogue of the eleven seeded bugs and the six invariants they break.

This module is data only: it transcribes section 3 of the limiter spec
(`limiter.md`) so that the seeded target, the directed scenarios, the fuzzer and
its reports all name a bug the same way. The texts are the spec's, verbatim; if
the two ever disagree, the spec wins and this file is the one to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ALL_BUGS", "BUGS", "INVARIANTS", "BugInfo"]

INVARIANTS: dict[str, str] = {
    "I1": "conservation",
    "I2": "bounds",
    "I3": "single resolution",
    "I4": "liveness",
    "I5": "fairness",
    "I6": "timing contract",
}
"""Invariant id -> short name (spec section 2)."""


@dataclass(frozen=True)
class BugInfo:
    """One seeded bug: what the buggy code does, what exposes it, what it breaks.

    `invariants` lists invariant ids ("I1".."I6") in the spec's order, the first
    being the one a minimal trigger breaks first.
    """

    id: str
    category: str
    name: str
    mechanism: str
    trigger: str
    invariants: tuple[str, ...]


def _bug(
    id: str, category: str, name: str, mechanism: str, trigger: str, *invariants: str
) -> tuple[str, BugInfo]:
    return id, BugInfo(id, category, name, mechanism, trigger, invariants)


BUGS: dict[str, BugInfo] = dict(
    [
        _bug(
            "B01",
            "promises",
            "ghost waiter",
            "the timeout settles the entry as `timeout` but leaves it in the queue; a later "
            "drain grants it and deducts its cost",
            "one waiter times out, then a refill",
            "I1",
            "I3",
        ),
        _bug(
            "B02",
            "promises",
            "double resolution",
            "drain grants an entry and cancels its timer, but a timer that fired at the same "
            "instant (not yet run) still settles it as `timeout`: two resolutions, token "
            "deducted, caller told `timeout`",
            "timeout deadline == a refill tick, timer task scheduled before its cancel takes "
            "effect",
            "I3",
            "I1",
        ),
        _bug(
            "B03",
            "promises",
            "never settles",
            "`cost > capacity` is queued instead of rejected; without a timeout it waits "
            "forever (and with strict FIFO blocks everyone)",
            "one acquire with cost > capacity",
            "I4",
        ),
        _bug(
            "B04",
            "timing",
            "re-entrant drain",
            "drain checks `tokens >= head.cost`, settles the head (running `on_settle` "
            "synchronously) and only then deducts; a callback that calls "
            "`try_acquire`/`acquire` takes the same tokens: tokens go negative",
            "one waiter whose `on_settle` acquires again, then a refill",
            "I2",
            "I1",
        ),
        _bug(
            "B05",
            "timing",
            "double refill loop",
            '`start()` checks "running?" then awaits before setting the flag; two concurrent '
            "starts spawn two loops: refill rate doubled",
            "two tasks call start at once, one tick passes",
            "I1",
        ),
        _bug(
            "B06",
            "timing",
            "refill after stop",
            "the loop checks its stop flag only before sleeping; a loop asleep at `stop()` "
            "wakes and refills (and drains) once more",
            "stop while the loop sleeps, then one tick",
            "I1",
            "I4",
        ),
        _bug(
            "B07",
            "ordering",
            "barging",
            "the fast path checks only `tokens >= cost`, ignoring the queue; drain after a "
            "refill is deferred to the loop's next step, so a newcomer scheduled in between "
            "takes the tokens a waiter was owed",
            "a waiter, a refill, a newcomer scheduled before the drain",
            "I5",
        ),
        _bug(
            "B08",
            "ordering",
            "wrong waiter removed",
            "a timed-out entry is removed by the queue index captured when it was enqueued; "
            "once an older entry has left, that index names another waiter, which vanishes "
            "unsettled while the timed-out one stays queued",
            "two waiters, the older served, the younger times out",
            "I3",
            "I1",
        ),
        _bug(
            "B09",
            "ordering",
            "head-of-line blocking",
            "strict FIFO: drain stops at the first waiter that does not fit although cheaper "
            "ones behind it do",
            "waiter cost 3 with 2 tokens, waiter cost 1 behind it",
            "I5",
        ),
        _bug(
            "B10",
            "sync/async",
            "two timings",
            "the fast path returns without a checkpoint (a cancelled caller still takes "
            "tokens; nothing else runs), and the slow path reports `remaining` computed at "
            "grant time, stale when the caller resumes",
            "a call in a cancelled scope; or a grant followed by another task's acquire "
            "before the caller resumes",
            "I6",
        ),
        _bug(
            "B11",
            "sync/async",
            "stop drops re-entrant waiters",
            "`stop()` settles a snapshot of the queue, running callbacks that re-acquire (the "
            "stopped flag is set only afterwards, so they are queued), then clears the queue: "
            "the new entries are never settled",
            "one waiter whose `on_settle` re-acquires on `stopped`",
            "I3",
            "I4",
        ),
    ]
)
"""Bug id ("B01".."B11") -> its catalogue entry (spec section 3)."""

ALL_BUGS: frozenset[str] = frozenset(BUGS)
"""Every seeded bug id."""


@dataclass(frozen=True)
class TriggerSize:
    """The size of a bug's smallest trigger (spec section 3), in scenario terms.

    ``operations``: client operations and limiter calls (acquire, start, stop, ...);
    ``time_advances``: distinct moves of virtual time; ``decisions``: non-default
    scheduling choices (preemptions or out-of-order wake-ups) the trigger needs.
    """

    operations: int
    time_advances: int
    decisions: int

    @property
    def total(self) -> int:
        return self.operations + self.time_advances + self.decisions


TRIGGER_SIZES: dict[str, TriggerSize] = {
    # one waiter (with a timeout) times out, then a refill: acquire, start; two moves of time
    "B01": TriggerSize(2, 2, 0),
    # timeout deadline == a refill tick, the timer task run before its cancel: acquire, start
    "B02": TriggerSize(2, 1, 1),
    # one acquire with cost > capacity
    "B03": TriggerSize(1, 0, 0),
    # one waiter whose on_settle acquires again, then a refill: acquire, start
    "B04": TriggerSize(2, 1, 0),
    # two tasks call start at once, one tick passes
    "B05": TriggerSize(2, 1, 1),
    # stop while the loop sleeps, then one tick: start, stop
    "B06": TriggerSize(2, 1, 0),
    # a waiter, a refill, a newcomer scheduled before the drain: start, acquire, acquire
    "B07": TriggerSize(3, 1, 1),
    # two waiters, the older served, the younger times out: start, acquire, acquire
    "B08": TriggerSize(3, 2, 0),
    # waiter cost 3 with 2 tokens, waiter cost 1 behind it
    "B09": TriggerSize(2, 0, 0),
    # a call in a cancelled scope
    "B10": TriggerSize(1, 0, 0),
    # one waiter whose on_settle re-acquires on stopped: acquire, stop
    "B11": TriggerSize(2, 0, 0),
}
"""Read off the trigger column of spec section 3, one scenario element per item."""
