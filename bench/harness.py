"""The limiter's oracle in a plain ``trio.run``: no control over scheduling.

The stress baseline (section 2) and the uncontrolled half of the overhead
comparison (section 3b) drive the seeded limiter with ordinary trio code and
check it with the fuzzer's own oracle (`targets.limiter_oracle`): the same
model, told the same observations as `targets.limiter_machine` tells it, checked
after every task step by a trio instrument.

:class:`Clients` runs the machine's own client code (acquire with ``on_settle``,
the ``on_settle`` behaviours, try_acquire, cancel, start, stop);
:class:`OracleInstrument` runs ``check_step`` after every task step and, when
trio is about to wait (nothing runnable), checks that first fit left no queued
waiter that fits.  An instrument may not raise (trio would drop it), so the
first violation is kept and the run is cancelled.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import trio

from targets.limiter import TokenBucket
from targets.limiter_machine import LimiterMachine
from targets.limiter_oracle import (
    Client,
    InvariantViolation,
    LimiterModel,
    check_all_resolved,
    check_drained,
    check_step,
)
from targets.seeded_limiter import SeededTokenBucket


def make_limiter(model: LimiterModel, bug: str | None, nursery: trio.Nursery) -> TokenBucket:
    """The seeded limiter for ``model``'s configuration with ``bug`` on (None: correct)."""
    return SeededTokenBucket(
        model.capacity,
        model.refill_amount,
        model.interval,
        nursery=nursery,
        initial_tokens=model.initial,
        bugs=() if bug is None else (bug,),
    )


def _machine_method(name: str) -> Any:
    """A method of `LimiterMachine` that only touches ``model``, ``limiter`` and ``scopes``."""
    return getattr(LimiterMachine, name)


class Clients:
    """The machine's own client code (`targets.limiter_machine`), outside the machine.

    The observing methods are the machine's very functions, so the oracle is told
    exactly what the fuzzer's machine tells it, even as that code evolves; they
    use nothing of the machine but ``model``, ``limiter`` and ``scopes``.
    """

    _client_task = _machine_method("_client_task")
    _on_settle = _machine_method("_on_settle")
    _submit = _machine_method("_submit")
    _try_acquire = _machine_method("_try_acquire")
    _cancel = _machine_method("_cancel")
    _stop = _machine_method("_stop")
    _starter_task = _machine_method("_starter_task")

    def __init__(self, model: LimiterModel, limiter: TokenBucket) -> None:
        self.model = model
        self.limiter = limiter
        self.scopes: dict[int, trio.CancelScope] = {}

    def new(self, cost: object, timeout: float | None, behaviour: str, kind: str) -> Client:
        """Register a client (``kind``: "task" or "cancelled-scope") and its cancel scope."""
        client = self.model.new_client(cost, timeout, behaviour, kind)  # type: ignore[arg-type]
        self.scopes[client.id] = trio.CancelScope()
        return client

    async def acquire(self, client: Client) -> None:
        """One acquire, observed as the machine's client task observes it."""
        await self._client_task(client)

    def try_acquire(self, cost: int) -> None:
        """``try_acquire(cost)``, a success told to the model."""
        self._try_acquire(cost)

    def cancel(self, client: Client) -> None:
        """Cancel a client's acquire (marked as requested first, as the machine does)."""
        self._cancel(client)

    def stop(self) -> None:
        """``stop()``, the time told to the model first."""
        self._stop()

    async def start(self) -> None:
        """``start()``, the time told to the model first."""
        await self._starter_task()

    def waiting(self) -> list[Client]:
        """Task clients not yet resolved (what the machine's ``cancel_waiter`` picks from)."""
        return [c for c in self.model.clients if c.kind == "task" and not c.resolved]


class OracleInstrument(trio.abc.Instrument):
    """I1-I6 after every task step of a plain trio run; the first violation ends it."""

    def __init__(self) -> None:
        self.clients: Clients | None = None
        self.scope: trio.CancelScope | None = None
        self.violation: InvariantViolation | None = None

    def watch(self, clients: Clients, scope: trio.CancelScope) -> None:
        """Start checking ``clients``' limiter; a violation cancels ``scope``."""
        self.clients, self.scope = clients, scope

    def unwatch(self) -> None:
        """Stop checking (before the run is torn down)."""
        self.clients = None

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        if self.clients is not None:
            self._check(at_rest=False)

    def before_io_wait(self, timeout: float) -> None:
        if self.clients is not None:
            self._check(at_rest=True)

    def check_final(self) -> None:
        """After stop and a grace period: every acquire has ended (I4)."""
        if self.clients is not None:
            self._guard(functools.partial(check_all_resolved, self.clients.model))

    def fail(self, violation: InvariantViolation) -> None:
        """Record a violation found by the driver itself (e.g. tasks left after stop)."""
        self._guard(functools.partial(_raise, violation))

    def _check(self, *, at_rest: bool) -> None:
        clients = self.clients
        assert clients is not None
        stats = clients.limiter.stats()
        model = clients.model
        self._guard(lambda: check_step(model, stats, trio.current_time(), False))
        if at_rest:
            self._guard(lambda: check_drained(model, stats))

    def _guard(self, check: Callable[[], None]) -> None:
        try:
            check()
        except InvariantViolation as violation:
            self.violation = violation
            self.clients = None
            if self.scope is not None:
                self.scope.cancel()


def _raise(violation: InvariantViolation) -> None:
    raise violation
