"""The controlled scheduler: where every "which task runs next" is decided.

:class:`ControlledScheduler` drives one trio run pass by pass.  Before each pass
it looks at the runnable user tasks; with more than one it builds a
:class:`~fuzzer.decisions.DecisionPoint` and asks the decision source, then runs
exactly the chosen task for one step.  Trio's own system tasks run without a
decision and never appear as candidates.

Invariant kept: with the same decisions, a run is identical.  Candidates are
ordered only by data the run itself produces (spawn order, the step at which a
task became runnable, the step it last ran), never by memory addresses or
trio's queue order, and virtual time moves only when the driver says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import trio

from fuzzer._trio_internals import SteppedRun
from fuzzer.decisions import Candidate, DecisionPoint, DecisionSource
from fuzzer.trace import Trace, TraceEntry, await_point

# A task that keeps running while others wait stops being the default after this
# many consecutive steps, so spin-waiting code does not starve its peers under
# the default schedule.
STREAK_LIMIT = 32


class VirtualClock(trio.abc.Clock):
    """Time that moves only when told to, and lands exactly on deadlines."""

    def __init__(self) -> None:
        self.now = 0.0

    def start_clock(self) -> None:
        pass

    def current_time(self) -> float:
        return self.now

    def deadline_to_sleep_time(self, deadline: float) -> float:
        return 0.0 if deadline <= self.now else 86400.0


@dataclass(slots=True, eq=False)
class TaskInfo:
    """What the scheduler knows of one user task."""

    index: int
    name: str
    task: trio.lowlevel.Task
    runnable_since: float | None = None  # when it became runnable (FIFO key)
    ran_in_pass: int = -1  # continuing = runnable again right after its own pass
    last_ran: int = -1
    streak: int = 0
    await_point: str = "start"
    exited: bool = False
    steps: int = 0


class _SpawnWatcher(trio.abc.Instrument):
    """Classifies every spawned task as user (a descendant of the root) or system."""

    def __init__(self, scheduler: ControlledScheduler) -> None:
        self._scheduler = scheduler

    def task_spawned(self, task: trio.lowlevel.Task) -> None:
        self._scheduler._on_spawn(task)

    def task_exited(self, task: trio.lowlevel.Task) -> None:
        self._scheduler._on_exit(task)


class ControlledScheduler:
    """Runs ``root`` under trio with every scheduling choice taken from ``source``.

    ``detail`` records, for every step, where the task resumed and suspended
    (file:line) and a snapshot of the target's state; it costs time, so fuzzing
    runs without it and replays of failures with it.
    """

    def __init__(
        self,
        root: Callable[[], Awaitable[object]],
        source: DecisionSource,
        *,
        detail: bool = False,
        snapshot: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.source = source
        self.detail = detail
        self.snapshot = snapshot
        self.clock = VirtualClock()
        self.trace = Trace()
        self.decisions: list[int] = []
        self.step_count = 0
        self._passes = 0
        self.recording = True  # turned off while a failed run is torn down
        self.tasks: dict[trio.lowlevel.Task, TaskInfo] = {}
        self._init_task: trio.lowlevel.Task | None = None
        self._root_task: trio.lowlevel.Task | None = None
        self._last: TaskInfo | None = None
        self.run = SteppedRun(root, self.clock, [_SpawnWatcher(self)])

    # -- task bookkeeping -------------------------------------------------

    def _on_spawn(self, task: trio.lowlevel.Task) -> None:
        parent = task.parent_nursery.parent_task if task.parent_nursery else None
        if parent is None:
            self._init_task = task
            return
        if self._root_task is None and parent is self._init_task:
            self._root_task = task
        elif parent not in self.tasks:
            return  # a system task
        name = "driver" if task is self._root_task else task.name.rpartition(".")[2]
        self.tasks[task] = TaskInfo(index=len(self.tasks), name=name, task=task)

    def _on_exit(self, task: trio.lowlevel.Task) -> None:
        info = self.tasks.get(task)
        if info is not None:
            info.exited = True

    def live_tasks(self) -> list[TaskInfo]:
        return [info for info in self.tasks.values() if not info.exited]

    def expire_deadlines(self) -> None:
        """A pass that runs no task: deadlines due now expire, waking their tasks."""
        self._run_pass(())

    # -- stepping ---------------------------------------------------------

    def runnable_user_tasks(self) -> list[TaskInfo]:
        return [self.tasks[t] for t in self.run.runnable() if t in self.tasks]

    def has_runnable(self) -> bool:
        return bool(self.run.runnable())

    def step(self) -> TaskInfo | None:
        """Run one pass: system tasks if any are runnable, else one chosen user task.

        Returns the user task that ran, or ``None`` for a pass that ran none (system
        tasks only, or expiring deadlines after a time jump).
        """
        self._stamp_new_runnable(self._passes + 0.5)  # spawned or woken since the last pass
        runnable = self.run.runnable()
        system = [t for t in runnable if t not in self.tasks]
        if system or not runnable:
            self._run_pass(system)
            return None
        chosen, choice, n = self._choose([self.tasks[t] for t in runnable])
        self._run_step(chosen, choice, n)
        return chosen

    def _choose(self, runnable: list[TaskInfo]) -> tuple[TaskInfo, int | None, int]:
        """The one place a scheduling decision is made."""
        ordered = sorted(runnable, key=lambda i: (i.runnable_since, i.last_ran, i.index))
        last = self._last
        continuing = (
            last is not None
            and last in runnable
            and last.runnable_since == last.ran_in_pass
            and last.streak < STREAK_LIMIT
        )
        if continuing:
            assert last is not None
            ordered.remove(last)
            ordered.insert(0, last)
        if len(ordered) == 1:
            return ordered[0], None, 1
        point = DecisionPoint(
            step=self.step_count,
            candidates=tuple(Candidate(i.index, i.name, i.steps) for i in ordered),
            continuing=continuing,
        )
        choice = self.source.decide(point)
        self.decisions.append(choice)
        return ordered[choice], choice, len(ordered)

    def _run_step(self, info: TaskInfo, choice: int | None, n: int) -> None:
        resumed_from = info.await_point
        info.ran_in_pass = self._run_pass((info.task,))
        step = self.step_count
        self.step_count += 1
        info.streak = info.streak + 1 if self._last is info else 1
        info.last_ran = step
        info.steps += 1
        self._last = info
        entry = TraceEntry("step", step, self.clock.now, info.index, info.name, choice, n)
        if self.detail and self.recording:
            info.await_point = "exited" if info.exited else await_point(info.task)
            entry.resumed_from = resumed_from
            entry.suspended_at = info.await_point
            if self.snapshot is not None:
                entry.state = self.snapshot()
        if self.recording:
            self.trace.entries.append(entry)

    def _run_pass(self, keep: list[trio.lowlevel.Task] | tuple[trio.lowlevel.Task, ...]) -> int:
        """Run one pass of trio's loop; stamp tasks that became runnable in it."""
        for task in keep:
            info = self.tasks.get(task)
            if info is not None:
                info.runnable_since = None
        self.run.run_pass(keep)
        self._passes += 1
        self._stamp_new_runnable(self._passes)
        return self._passes

    def _stamp_new_runnable(self, stamp: float) -> None:
        """Stamp tasks that became runnable: in pass P (stamp P) or after it (P + 0.5)."""
        for task in self.run.runnable():
            info = self.tasks.get(task)
            if info is not None and info.runnable_since is None:
                info.runnable_since = stamp

    # -- time ---------------------------------------------------------------

    def next_deadline(self) -> float:
        return self.run.next_deadline()

    def jump_to(self, when: float) -> None:
        """Move virtual time forward to exactly ``when`` (never backward)."""
        if when > self.clock.now:
            self.clock.now = when
            self.note("time", f"time -> {when:g}")

    def note(self, kind: str, label: str, info: TaskInfo | None = None) -> None:
        if not self.recording:
            return
        self.trace.entries.append(
            TraceEntry(
                kind,  # type: ignore[arg-type]
                self.step_count,
                self.clock.now,
                task=None if info is None else info.index,
                task_name=None if info is None else info.name,
                label=label,
            )
        )
