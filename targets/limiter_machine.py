"""The limiter machine: one Hypothesis state machine for the token bucket and all its bugs.

Rules start client tasks (acquire with any cost, timeout and ``on_settle``
behaviour, acquire from a cancelled scope), make synchronous calls
(``try_acquire``, ``stop``, ``stats``, cancelling a waiting client), start the
limiter (also twice at once), run scheduler steps and move virtual time.  The
oracle (`targets.limiter_oracle`) checks I1-I6 after every scheduler step and,
once the limiter is stopped and time has run out, checks liveness.

:func:`limiter_machine` makes the machine for a given set of seeded bugs (none:
the correct limiter).
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import trio
from hypothesis import strategies as st
from hypothesis.stateful import rule

from fuzzer.machine import TrioStateMachine, step_invariant
from strategies import limiter_ops as ops
from targets.limiter import Grant, TokenBucket
from targets.limiter_oracle import Client, LimiterModel, check_all_resolved, check_step
from targets.seeded_limiter import SeededTokenBucket


class LimiterMachine(TrioStateMachine):
    """Drives one `TokenBucket` (or `SeededTokenBucket`) under the controlled scheduler."""

    bugs: ClassVar[frozenset[str]] = frozenset()
    target_name = "limiter"

    def setup_world(self) -> None:
        draw = self._data.draw
        capacity = draw(ops.capacities)
        refill = min(draw(ops.refill_amounts), capacity)
        interval = draw(ops.intervals)
        initial = draw(st.integers(0, capacity))
        self.model = LimiterModel(capacity, refill, interval, initial)
        self.limiter = self._make_limiter(capacity, refill, interval, initial)
        self.scopes: dict[int, trio.CancelScope] = {}

    def _make_limiter(
        self, capacity: int, refill: int, interval: float, initial: int
    ) -> TokenBucket:
        nursery = self.world.nursery
        if not self.bugs:
            return TokenBucket(capacity, refill, interval, nursery=nursery, initial_tokens=initial)
        return SeededTokenBucket(
            capacity, refill, interval, nursery=nursery, initial_tokens=initial, bugs=self.bugs
        )

    # -- rules: clients ---------------------------------------------------------

    @rule(cost=ops.costs, timeout=ops.timeouts, behaviour=ops.behaviours)
    def acquire(self, cost: int, timeout: float | None, behaviour: str) -> None:
        self._spawn_client(self.model.new_client(cost, timeout, behaviour, "task"))

    @rule(cost=st.one_of(ops.bad_costs, st.integers(5, 6)))
    def acquire_bad_cost(self, cost: object) -> None:
        self._spawn_client(self.model.new_client(cost, None, "none", "task"))

    @rule(cost=ops.costs)
    def acquire_in_cancelled_scope(self, cost: int) -> None:
        cost = min(cost, self.model.capacity)
        self._spawn_client(self.model.new_client(cost, None, "none", "cancelled-scope"))

    def _spawn_client(self, client: Client) -> None:
        self.scopes[client.id] = trio.CancelScope()
        self.world.spawn(self._client_task, client, name=f"client#{client.id}", label=client.label)

    @rule(cost=ops.costs)
    def try_acquire(self, cost: int) -> None:
        self.world.call(
            self._try_acquire, min(cost, self.model.capacity), label=f"try_acquire({cost})"
        )

    @rule(which=st.integers(0, 7))
    def cancel_waiter(self, which: int) -> None:
        waiting = [c for c in self.model.clients if c.kind == "task" and not c.resolved]
        if waiting:
            client = waiting[which % len(waiting)]
            self.world.call(self._cancel, client, label=f"cancel #{client.id}")

    # -- rules: the limiter ---------------------------------------------------------

    @rule(racing=st.booleans())
    def start(self, racing: bool) -> None:
        for _ in range(2 if racing else 1):
            self.world.spawn(self._starter_task, name="starter", label="start()")

    @rule()
    def stop(self) -> None:
        self.world.call(self._stop, label="stop()")

    @rule()
    def stats(self) -> None:
        # Named so that it sorts after run_until_quiet: Hypothesis orders rules
        # (with as many arguments) by name and shrinks towards the first, and
        # letting the world run adds nothing to a scenario, a stats() call does.
        self.world.call(self.limiter.stats, label="stats()")

    # -- rules: the scheduler and time --------------------------------------------

    @rule(steps=st.integers(1, 4))
    def run_steps(self, steps: int) -> None:
        self.world.run_steps(steps)

    @rule()
    def run_until_quiet(self) -> None:
        self.world.run_until_quiet()

    @rule(seconds=ops.time_steps, while_busy=st.booleans())
    def advance(self, seconds: float, while_busy: bool) -> None:
        self.world.advance(seconds, while_busy=while_busy)

    @rule(while_busy=st.booleans())
    def advance_to_next_deadline(self, while_busy: bool) -> None:
        if not while_busy:
            self.world.run_until_quiet()  # so the deadline is the one a quiet world waits for
        deadline = self.world.scheduler.next_deadline()
        if deadline < self.world.now + 100:
            self.world.advance_to(deadline, while_busy=while_busy)

    # -- inside the world -----------------------------------------------------------

    async def _client_task(self, client: Client) -> None:
        scope = self.scopes[client.id]
        with scope:
            if client.kind == "cancelled-scope":
                scope.cancel()
            self.model.entered(client)
            try:
                grant = await self.limiter.acquire(
                    client.cost,  # type: ignore[arg-type]
                    client.timeout,
                    on_settle=functools.partial(self._on_settle, client),
                )
            except (TypeError, ValueError) as error:
                client.error = error
                return
            client.returned = grant
            client.returned_tokens = self.limiter.stats().tokens
        client.cancelled = scope.cancelled_caught

    def _on_settle(self, client: Client, grant: Grant) -> None:
        self.model.settled(client, grant, self.limiter.stats().refilled)
        # A callback that acquires again asks for the same cost: a client that
        # repeats its request (as the article's handler does).
        behaviour, cost = client.behaviour, client.cost
        if client.invalid or not isinstance(cost, int):
            return  # a call the limiter should have refused: nothing to repeat
        if len(client.settles) > 1:
            # Settled twice (I3, reported after this step): the client acts on
            # its first settlement only, or a stop() that re-settles the waiters
            # whose callbacks call stop() would recurse without end.
            return
        if behaviour == "acquire_on_grant" and grant.acquired:
            self._submit(cost)
        elif behaviour == "try_on_grant" and grant.acquired:
            self._try_acquire(cost)
        elif behaviour == "acquire_on_end" and not grant.acquired:
            self._submit(cost)
        elif behaviour == "stop_on_settle":
            self._stop()

    def _submit(self, cost: int) -> None:
        client = self.model.new_client(cost, None, "none", "submitted")
        self.model.entered(client)
        self.limiter.submit(cost, on_settle=functools.partial(self._on_settle, client))
        self.model.decided(client)

    def _try_acquire(self, cost: int) -> None:
        if self.limiter.try_acquire(cost):
            self.model.took(cost, self.limiter.stats().refilled)

    def _cancel(self, client: Client) -> None:
        client.cancel_requested = True
        self.scopes[client.id].cancel()

    def _stop(self) -> None:
        self.model.stopped(trio.current_time())
        self.limiter.stop()

    async def _starter_task(self) -> None:
        self.model.started(trio.current_time())
        await self.limiter.start()

    # -- invariants ----------------------------------------------------------------

    @step_invariant()
    def invariants_hold(self) -> None:
        quiet = not self.world.scheduler.has_runnable()
        check_step(self.model, self.limiter.stats(), self.world.now, quiet)

    def quiesce(self) -> None:
        # Pending work finishes (and is checked at rest) before the harness stops
        # the limiter; a stop racing with pending work is the stop rule's job.
        self.world.run_until_quiet()
        self.world.call(self._stop, label="stop() [end of run]")

    def check_final(self) -> None:
        check_all_resolved(self.model)

    def snapshot(self) -> dict[str, Any]:
        stats = self.limiter.stats()
        return {
            "tokens": stats.tokens,
            "queue": [f"#{c.id}:{c.cost}" for c in self.model.clients if c.queued],
            "granted": stats.granted,
            "ticks": stats.ticks,
        }


def limiter_machine(bugs: frozenset[str] = frozenset()) -> type[LimiterMachine]:
    """The limiter machine for the seeded limiter with ``bugs`` on (none: correct)."""
    name = "LimiterMachine_" + ("_".join(sorted(bugs)) or "correct")
    return type(
        name,
        (LimiterMachine,),
        {"bugs": frozenset(bugs), "parameters": {"bugs": sorted(bugs)}, "final_runs": []},
    )
