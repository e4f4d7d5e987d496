"""A trio world driven step by step from synchronous code.

:class:`World` is what a state machine (or any synchronous driver) holds: it can
start tasks, call synchronous code inside the world, run scheduler steps, and
move virtual time.  Every step goes through the controlled scheduler, and after
every step the user's checks run, so an invariant is caught at the exact step
that broke it, not only between rules.

Failures surface as exceptions raised from the World method that was running;
before raising, the world is torn down (every task cancelled, the run finished),
so nothing leaks into the next example.  ``World.failure`` describes the failure
as plain data for reports.

Time model: time moves only in :meth:`advance_to` / :meth:`settle`, by jumping
exactly to the next deadline; all deadlines due at that instant expire together
and the woken tasks are ordered by decisions like any others.  Tasks that were
already runnable when time moves compete with the woken ones, as in a real
system where time passes while work is pending.
"""

from __future__ import annotations

import math
import signal
import threading
import types
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import trio

from fuzzer.decisions import Candidate, DecisionSource, DefaultDecisions
from fuzzer.failures import (
    Deadlock,
    FailureInfo,
    FailureKind,
    Runaway,
    StepTimeout,
    describe,
)
from fuzzer.scheduler import ControlledScheduler, TaskInfo
from fuzzer.trace import await_point

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits that keep a run from hanging the fuzzer."""

    max_steps: int = 20_000  # scheduler steps per run
    max_time: float = 1e6  # virtual seconds settle() may move through
    step_seconds: float = 5.0  # CPU seconds one step may take


@dataclass(slots=True)
class _Call:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    done: bool = False
    value: Any = None
    error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.fn(*self.args)
        except Exception as exc:
            self.error = exc
        self.done = True


@dataclass(slots=True)
class _Watchdog:
    """Interrupts a task that runs one step for longer than the budget allows.

    A periodic timer on the process's own CPU time (``ITIMER_VIRTUAL``, so a
    loaded machine that merely descheduled us never trips it); the handler raises
    :class:`StepTimeout` only when the same pass is still running as at the
    previous tick, which is then inside the task's own code.  Only in the main
    thread (signals are delivered there).
    """

    seconds: float
    serial: int = 0
    in_pass: bool = False
    _seen: int = -1
    _previous: Any = None
    _armed: bool = False

    def arm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous = signal.signal(signal.SIGVTALRM, self._tick)
        signal.setitimer(signal.ITIMER_VIRTUAL, self.seconds, self.seconds)
        self._armed = True

    def disarm(self) -> None:
        if self._armed:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
            signal.signal(signal.SIGVTALRM, self._previous)
            self._armed = False

    def _tick(self, signum: int, frame: types.FrameType | None) -> None:
        if self.in_pass and self.serial == self._seen:
            raise StepTimeout(f"a step ran for more than {self.seconds:g}s without yielding")
        self._seen = self.serial


@dataclass(slots=True)
class _Shutdown:
    closing: bool = False
    closed: bool = False
    pending: deque[_Call | None] = field(default_factory=deque)


class World:
    """One trio run under the controlled scheduler, driven from synchronous code.

    ``checks`` runs after every scheduler step that ran a user task; if it raises,
    the run is torn down and the exception propagates with a note naming the step.
    ``snapshot`` returns the target's observable state for detailed traces.
    """

    def __init__(
        self,
        source: DecisionSource,
        *,
        checks: Callable[[], None] | None = None,
        snapshot: Callable[[], dict[str, Any]] | None = None,
        detail: bool = False,
        budget: Budget | None = None,
    ) -> None:
        self.budget = budget or Budget()
        self.checks: Callable[[], None] | None = None  # not during the world's start-up
        self.failure: FailureInfo | None = None
        self._state = _Shutdown()
        self._driver_task: trio.lowlevel.Task | None = None
        self._driver_parked = False
        self._nursery: trio.Nursery | None = None
        self._watchdog = _Watchdog(self.budget.step_seconds)
        self.scheduler = ControlledScheduler(self._root, source, detail=detail, snapshot=snapshot)
        self._watchdog.arm()
        try:
            self._run_until_quiet()
        except BaseException:
            self.close()
            raise
        assert self._nursery is not None and self._driver_task is not None
        self._driver: TaskInfo = self.scheduler.tasks[self._driver_task]
        self.scheduler.trace.entries.clear()  # the world's own start-up is not news
        self.checks = checks

    # -- what the driving code can do -----------------------------------------

    @property
    def nursery(self) -> trio.Nursery:
        """The nursery tasks of the world (and of the code under test) live in."""
        assert self._nursery is not None
        return self._nursery

    @property
    def now(self) -> float:
        return self.scheduler.clock.now

    @property
    def trace(self) -> Any:
        return self.scheduler.trace

    @property
    def decisions(self) -> list[int]:
        return self.scheduler.decisions

    def spawn(
        self,
        async_fn: Callable[..., Awaitable[object]],
        *args: object,
        name: str,
        label: str | None = None,
    ) -> None:
        """Start a task; it becomes runnable but does not run until a step.

        ``label`` describes the operation in traces and reports (default: ``name``).
        """
        self._require_open()
        self.nursery.start_soon(async_fn, *args, name=name)
        info = self.scheduler.tasks[next(reversed(self.scheduler.tasks))]
        self.scheduler.note("spawn", label or name, info)
        # The task's scheduling plan is drawn here, inside the driving code's own
        # operation, so that deleting the operation deletes the plan with it.
        self.scheduler.source.introduce(Candidate(info.index, info.name, 0))

    def call(self, fn: Callable[..., T], *args: object, label: str | None = None) -> T:
        """Run ``fn(*args)`` inside the world as one step of the driver task.

        The driver joins the runnable tasks at the back of the queue: by default
        the tasks already runnable go first (first come, first served), and
        decisions may reorder.  Returns once ``fn`` has run; exceptions raised by
        ``fn`` propagate to the caller unchanged.
        """
        self._require_open()
        pending = _Call(fn, args)
        self.scheduler.note("call", label or str(getattr(fn, "__name__", "call")), self._driver)
        self._post(pending)
        while not pending.done:
            self._step()
        if pending.error is not None:
            raise pending.error
        return pending.value  # type: ignore[no-any-return]

    def run_steps(self, count: int) -> int:
        """Run up to ``count`` scheduler steps; returns how many ran."""
        self._require_open()
        ran = 0
        while ran < count and self.scheduler.has_runnable():
            self._step()
            ran += 1
        return ran

    def run_until_quiet(self) -> None:
        """Run until no task is runnable (time does not move)."""
        self._require_open()
        self._run_until_quiet()

    def advance(self, seconds: float, *, while_busy: bool = False) -> None:
        self.advance_to(self.now + seconds, while_busy=while_busy)

    def advance_to(self, when: float, *, while_busy: bool = False) -> None:
        """Move time to ``when``, firing every deadline on the way in order.

        By default the world first runs until quiet: time passes only while
        every task waits, as under trio's own virtual clocks.  ``while_busy``
        moves time at once instead, with tasks still runnable, as a real clock
        does while work is pending (a timer can then fire before a task that
        was ready earlier has run).  Either way the world runs until quiet
        after each deadline instant but the last one: the tasks woken at
        ``when``'s last deadline stay runnable, so whatever the driving code
        does next competes with them.
        """
        self._require_open()
        if not while_busy:
            self._run_until_quiet()
        while (deadline := self.scheduler.next_deadline()) <= when:
            self.scheduler.jump_to(deadline)
            self.scheduler.expire_deadlines()  # the woken tasks become candidates
            if self.scheduler.next_deadline() <= when:
                self._run_until_quiet()
        self.scheduler.jump_to(when)

    def settle(self) -> None:
        """Run until quiet and no deadline is pending (bounded by ``max_time``)."""
        self._require_open()
        start = self.now
        self._run_until_quiet()
        while (deadline := self.scheduler.next_deadline()) < math.inf:
            if deadline - start > self.budget.max_time:
                raise self._fail(
                    Runaway(
                        f"virtual time budget exceeded: still busy {self.budget.max_time:g}s "
                        f"after t={start:g}"
                    )
                )
            self.scheduler.jump_to(deadline)
            self.scheduler.expire_deadlines()
            self._run_until_quiet()

    def blocked_tasks(self) -> list[TaskInfo]:
        """User tasks still alive, other than the world's own driver."""
        return [i for i in self.scheduler.live_tasks() if i is not self._driver]

    def finish(self) -> None:
        """Settle, report a deadlock if any task can never run again, then end the run."""
        self.settle()
        blocked = self.blocked_tasks()
        if blocked:
            waits = [{"task": i.name, "at": await_point(i.task)} for i in blocked]
            listing = "; ".join(f"{w['task']} waits at {w['at']}" for w in waits)
            error = Deadlock(f"{len(blocked)} task(s) blocked forever: {listing}")
            raise self._fail(error, blocked=waits)
        self._post(None)
        while not self.scheduler.run.done:
            self._step()
        self.close()

    def close(self) -> None:
        """Tear the run down (idempotent): cancel everything, finish the run."""
        if self._state.closed:
            return
        self._state.closing = True
        self.scheduler.recording = False
        self.scheduler.source = DefaultDecisions()
        try:
            if self._nursery is not None:
                self._nursery.cancel_scope.cancel()
            for _ in range(10_000):
                if self.scheduler.run.done:
                    break
                self._watchdog.serial += 1
                self._watchdog.in_pass = True
                self.scheduler.step()
                self._watchdog.in_pass = False
            else:
                self.scheduler.run.abandon()
        except BaseException:
            self.scheduler.run.abandon()
        finally:
            self._watchdog.disarm()
            self._state.closed = True

    # -- inside the world -----------------------------------------------------

    async def _root(self) -> None:
        self._driver_task = trio.lowlevel.current_task()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            while (call := await self._next_call()) is not None:
                call.run()

    async def _next_call(self) -> _Call | None:
        while not self._state.pending:
            self._driver_parked = True
            await trio.lowlevel.wait_task_rescheduled(self._abort_wait)
        return self._state.pending.popleft()

    def _abort_wait(self, _: object) -> trio.lowlevel.Abort:
        self._driver_parked = False
        return trio.lowlevel.Abort.SUCCEEDED

    def _post(self, call: _Call | None) -> None:
        self._state.pending.append(call)
        if self._driver_parked:
            self._driver_parked = False
            assert self._driver_task is not None
            trio.lowlevel.reschedule(self._driver_task)

    # -- stepping with checks -------------------------------------------------

    def _run_until_quiet(self) -> None:
        while self.scheduler.has_runnable():
            self._step()

    def _step(self) -> None:
        scheduler = self.scheduler
        if scheduler.step_count >= self.budget.max_steps:
            raise self._fail(Runaway(f"step budget exceeded: {self.budget.max_steps} steps"))
        self._watchdog.serial += 1
        self._watchdog.in_pass = True
        try:
            ran = scheduler.step()
        except BaseException:
            # The decision source gave up (e.g. Hypothesis ran out of data): not a
            # failure of the code under test, but this run cannot go on.
            self._watchdog.in_pass = False
            self.close()
            raise
        finally:
            self._watchdog.in_pass = False
        if self._crashed():
            raise self._crash(ran)
        if ran is not None and self.checks is not None:
            try:
                self.checks()
            except BaseException as exc:
                raise self._fail(exc, kind="invariant", task=ran) from None

    def _crashed(self) -> bool:
        if self.scheduler.run.done:
            return self.scheduler.run.outcome_error() is not None
        return self._nursery is not None and self._nursery.cancel_scope.cancel_called

    def _crash(self, ran: TaskInfo | None) -> BaseException:
        """A task raised: finish the run, then surface the task's exception itself."""
        self.close()
        error = _leaf_error(self.scheduler.run.outcome_error())
        kind: FailureKind = "runaway" if isinstance(error, StepTimeout) else "exception"
        if isinstance(error, StepTimeout):
            error = Runaway(f"{ran.name if ran else 'a task'}: {error}").with_traceback(
                error.__traceback__
            )
        return self._fail(error, kind=kind, task=ran)

    def _fail(
        self,
        error: BaseException,
        *,
        kind: FailureKind = "exception",
        task: TaskInfo | None = None,
        blocked: list[dict[str, str]] | None = None,
    ) -> BaseException:
        step = max(self.scheduler.step_count - 1, 0)
        self.failure = describe(error, kind, step, task.name if task else None)
        self.failure.blocked = blocked or []
        self.close()
        where = f" (task {task.name!r})" if task else ""
        error.add_note(f"controlled run: failed at scheduler step {step}{where}")
        return error

    @property
    def closed(self) -> bool:
        """True once the run has finished, failed or been torn down."""
        return self._state.closing

    def _require_open(self) -> None:
        if self._state.closing:
            raise RuntimeError("this World has already finished or failed")


def _leaf_error(error: BaseException | None) -> BaseException:
    """The first non-Cancelled exception inside a (possibly nested) group."""
    if isinstance(error, BaseExceptionGroup):
        leaves = [_leaf_error(e) for e in error.exceptions]
        real = [e for e in leaves if not isinstance(e, trio.Cancelled)]
        return (real or leaves)[0]
    if error is None:
        return RuntimeError("the run ended without an error but a task crashed")
    return error
