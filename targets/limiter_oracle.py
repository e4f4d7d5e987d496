"""The limiter's oracle: a model of the bucket kept beside it, and invariants I1-I6.

The machine (`targets.limiter_machine`) tells the oracle everything its clients
observe: each ``on_settle`` call, each return from ``acquire``, each
``try_acquire`` result, starts, stops and cancellations.  After every scheduler
step the oracle compares those observations with ``limiter.stats()`` and with
what the contract (spec section 1) allows.

Each check raises :class:`InvariantViolation` from its own line, so Hypothesis
tells distinct broken invariants apart (it identifies a failure by exception
type and the line that raised it) and reports each one separately.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from targets.bugs import INVARIANTS
from targets.limiter import Grant, Stats

ClientKind = Literal["task", "submitted", "cancelled-scope"]


class InvariantViolation(AssertionError):
    """An invariant of spec section 2 is broken; ``invariant`` is e.g. "I1 conservation"."""

    def __init__(self, invariant_id: str, message: str) -> None:
        self.invariant = f"{invariant_id} {INVARIANTS[invariant_id]}"
        super().__init__(f"{self.invariant}: {message}")


@dataclass(eq=False)
class Client:
    """One acquire as its caller saw it."""

    id: int
    cost: object
    timeout: float | None
    behaviour: str
    kind: ClientKind
    invalid: bool  # the contract says this call must raise at once
    arrival: int = -1  # order of entering the limiter (first fit serves in this order)
    entered: bool = False  # the call reached the limiter
    entering: bool = False  # ...and the limiter is still deciding it (same step)
    settles: list[Grant] = field(default_factory=list)  # on_settle calls
    returned: Grant | None = None
    returned_tokens: int | None = None  # stats().tokens right after the return
    cancel_requested: bool = False
    cancelled: bool = False
    error: BaseException | None = None

    @property
    def label(self) -> str:
        timeout = "" if self.timeout is None else f", timeout={self.timeout:g}"
        behaviour = "" if self.behaviour == "none" else f", on_settle={self.behaviour}"
        prefix = {"task": "", "submitted": "submit ", "cancelled-scope": "cancelled-scope "}
        return f"#{self.id} {prefix[self.kind]}acquire(cost={self.cost!r}{timeout}{behaviour})"

    @property
    def queued(self) -> bool:
        """Waiting inside the limiter, as far as the caller can tell."""
        return (
            self.entered
            and not self.entering
            and not self.settles
            and not self.cancel_requested
            and self.error is None
            and self.kind != "cancelled-scope"
        )

    @property
    def resolved(self) -> bool:
        return bool(self.settles) or self.cancelled or self.error is not None


@dataclass
class LimiterModel:
    """What the bucket must hold, computed from the clients' observations."""

    capacity: int
    refill_amount: int
    interval: float
    initial: int
    clients: list[Client] = field(default_factory=list)
    granted_cost: int = 0  # cost of every grant a caller was told about
    started_at: float | None = None
    stopped_at: float | None = None
    arrivals: int = 0
    pending: list[InvariantViolation] = field(default_factory=list)

    def new_client(
        self, cost: object, timeout: float | None, behaviour: str, kind: ClientKind
    ) -> Client:
        valid = isinstance(cost, int) and not isinstance(cost, bool) and 1 <= cost <= self.capacity
        client = Client(len(self.clients), cost, timeout, behaviour, kind, invalid=not valid)
        self.clients.append(client)
        return client

    # -- observations ---------------------------------------------------------

    def entered(self, client: Client) -> None:
        """The call is being made: it is not queued until the limiter has decided it.

        Until then (the rest of this step) a grant to someone else, e.g. from a
        callback run by the drain this very call triggers, does not overtake it.
        """
        client.entered = client.entering = True
        client.arrival = self.arrivals
        self.arrivals += 1

    def decided(self, client: Client) -> None:
        """The limiter has granted, queued or refused the call."""
        client.entering = False

    def step_done(self) -> None:
        """Every call made during the step has been decided by its end."""
        for client in self.clients:
            client.entering = False

    def settled(self, client: Client, grant: Grant, refilled: int) -> None:
        """``on_settle`` was called; check fairness at the moment of a grant (I5).

        ``refilled`` is the limiter's refill total now; the tokens available
        before this grant follow from the model's own books (I1), not from the
        limiter's count, which a bug may have changed already.
        """
        client.settles.append(grant)
        if not grant.acquired:
            return
        available = self.initial + refilled - self.granted_cost
        self.granted_cost += _cost(client)
        if len(client.settles) == 1:
            self._check_no_older_fitting(client, available)

    def took(self, cost: int, refilled: int) -> None:
        """``try_acquire(cost)`` returned True."""
        available = self.initial + refilled - self.granted_cost
        self.granted_cost += cost
        self._check_no_older_fitting(None, available)

    def started(self, now: float) -> None:
        if self.started_at is None and self.stopped_at is None:
            self.started_at = now

    def stopped(self, now: float) -> None:
        if self.stopped_at is None:
            self.stopped_at = now

    def _check_no_older_fitting(self, newcomer: Client | None, available: int) -> None:
        arrival = math.inf if newcomer is None else newcomer.arrival
        for older in self.clients:
            if older is newcomer or not older.queued or older.arrival >= arrival:
                continue
            if _cost(older) <= available:
                who = "try_acquire" if newcomer is None else f"#{newcomer.id}"
                self.pending.append(
                    InvariantViolation(
                        "I5",
                        f"{who} was served while older waiter #{older.id} "
                        f"(cost {older.cost}) fit the {available} tokens available",
                    )
                )
                return

    # -- what the contract allows ------------------------------------------------

    def ticks_due(self, now: float) -> int:
        """Refill ticks that must have happened by ``now`` (exact: t0 + k * interval)."""
        if self.started_at is None:
            return 0
        until = now if self.stopped_at is None else min(now, self.stopped_at)
        k = max(0, math.floor((until - self.started_at) / self.interval))
        while self.started_at + (k + 1) * self.interval <= until:
            k += 1
        while k > 0 and self.started_at + k * self.interval > until:
            k -= 1
        return k


def _cost(client: Client) -> int:
    assert isinstance(client.cost, int)
    return client.cost


def check_step(model: LimiterModel, stats: Stats, now: float, quiet: bool) -> None:
    """Invariants that hold after every scheduler step."""
    model.step_done()
    if model.pending:
        raise model.pending[0]
    check_bounds(model, stats)
    check_conservation(model, stats, now, quiet)
    for client in model.clients:
        check_single_resolution(client)
        check_timing(client)
        check_rejected(client)
    if quiet:
        check_drained(model, stats)


def check_bounds(model: LimiterModel, stats: Stats) -> None:
    if not 0 <= stats.tokens <= model.capacity:
        raise InvariantViolation(
            "I2", f"tokens = {stats.tokens}, outside [0, capacity {model.capacity}]"
        )


def check_conservation(model: LimiterModel, stats: Stats, now: float, quiet: bool) -> None:
    due = model.ticks_due(now)
    if stats.ticks > due:
        raise InvariantViolation(
            "I1", f"{stats.ticks} refill ticks by t={now:g}, but only {due} were due"
        )
    if quiet and model.stopped_at is None and stats.ticks < due:
        raise InvariantViolation("I1", f"{stats.ticks} refill ticks by t={now:g}: {due} were due")
    expected = model.initial + stats.refilled - model.granted_cost
    if stats.tokens != expected:
        raise InvariantViolation(
            "I1",
            f"tokens = {stats.tokens}, expected {expected} = initial {model.initial} "
            f"+ refilled {stats.refilled} - granted to callers {model.granted_cost}",
        )


def check_single_resolution(client: Client) -> None:
    if len(client.settles) > 1:
        outcomes = ", ".join(g.reason for g in client.settles)
        raise InvariantViolation(
            "I3", f"#{client.id} was settled {len(client.settles)} times ({outcomes})"
        )
    if client.returned is not None and client.settles:
        told = client.settles[0]
        if (told.acquired, told.reason) != (client.returned.acquired, client.returned.reason):
            raise InvariantViolation(
                "I3",
                f"#{client.id}: on_settle said {told.reason}, acquire returned "
                f"{client.returned.reason}",
            )
    if client.cancelled and client.settles and client.settles[0].acquired:
        raise InvariantViolation("I3", f"#{client.id} was cancelled after being granted its tokens")


def check_timing(client: Client) -> None:
    if client.kind == "cancelled-scope" and (client.returned is not None or client.settles):
        raise InvariantViolation(
            "I6", f"#{client.id} called acquire in a cancelled scope and was not cancelled"
        )
    returned, tokens = client.returned, client.returned_tokens
    if returned is not None and tokens is not None and returned.remaining != tokens:
        raise InvariantViolation(
            "I6", f"#{client.id} was told remaining={returned.remaining}, but tokens = {tokens}"
        )


def check_rejected(client: Client) -> None:
    if (
        client.invalid
        and client.entered
        and client.error is None
        and client.kind != "cancelled-scope"
    ):
        raise InvariantViolation(
            "I4",
            f"#{client.id} acquire(cost={client.cost!r}) was accepted: it can never be granted",
        )


def check_drained(model: LimiterModel, stats: Stats) -> None:
    """At rest, first fit leaves no queued waiter that fits (I5)."""
    for client in sorted(model.clients, key=lambda c: c.arrival):
        if client.queued and not client.invalid and _cost(client) <= stats.tokens:
            raise InvariantViolation(
                "I5",
                f"at rest, waiter #{client.id} (cost {client.cost}) fits the "
                f"{stats.tokens} tokens but is still queued",
            )


def check_all_resolved(model: LimiterModel) -> None:
    """After stop and with time advanced, every acquire has ended (I4)."""
    for client in model.clients:
        if client.entered and not client.resolved:
            raise InvariantViolation("I4", f"#{client.id} never ended: still waiting after stop()")
