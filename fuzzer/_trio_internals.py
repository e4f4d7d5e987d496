"""Every touch of trio's private run loop, in one place.

trio has no public API to choose which runnable task runs next (trio issues #32
and #239 are open design discussions), so the controlled scheduler needs three
private hooks.  They are all here, each checked by :func:`self_check` at import
time, and ``tests/test_trio_internals.py`` fails loudly when a trio release
changes them.

1. **Stepping the run loop one pass at a time.**  ``trio.run`` is a thin driver
   around the generator ``trio._core._run.unrolled_run``: each ``send`` runs one
   pass of the loop (expire deadlines, run a batch of tasks) and yields the IO
   timeout.  Guest mode drives the same generator; :class:`SteppedRun` drives it
   from the calling thread, polling IO without blocking, so the caller owns
   time and decides between passes.
2. **Choosing the batch.**  Under Hypothesis trio sorts each batch by spawn
   order and calls ``_r.shuffle(batch)`` (``_r`` is a module-level
   ``random.Random``).  :class:`_BatchPicker` replaces ``_r``: its ``shuffle``
   keeps only the tasks chosen before the pass and puts every other task back on
   ``runner.runq``, where it stays runnable (so trio sees work and does not move
   time) until a later pass chooses it.
3. **Reading the run queue** (``runner.runq``) and the next deadline between
   passes.  The public ``current_statistics().seconds_to_next_deadline`` is a
   difference of floats; jumping by it can land one ulp short of a deadline, and
   ties at the same instant must be exact.

Checked against trio 0.25.1, 0.30.0, 0.34.0 and 0.35.0, where the region
``batch = list(runq) ... _r.shuffle(batch) ... batch.pop()`` is identical.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Collection, MutableSequence, Sequence
from typing import Any, Final

import trio
import trio._core._run as _run

TRIO_VERSIONS_CHECKED: Final = ("0.25.1", "0.30.0", "0.34.0", "0.35.0")


class TrioInternalsChanged(RuntimeError):
    """The private trio hooks this package relies on are not what it expects."""


class _BatchPicker(random.Random):
    """Stands in for ``trio._core._run._r``: runs exactly the chosen tasks.

    Invariant kept: after ``shuffle`` the batch holds only tasks in ``keep``; every
    other task of the batch is back on the run queue, unchanged and still
    runnable.  ``keep`` is set by :meth:`SteppedRun.run_pass` right before each
    pass and cleared right after, so a run that is not controlled (``keep`` is
    ``None``) is left exactly as trio would run it.
    """

    def __init__(self) -> None:
        super().__init__(0)
        self.keep: Collection[trio.lowlevel.Task] | None = None

    def shuffle(self, x: MutableSequence[Any], *args: Any, **kwargs: Any) -> None:
        keep = self.keep
        if keep is None:
            super().shuffle(x)
            return
        runq = _run.GLOBAL_RUN_CONTEXT.runner.runq
        chosen = [task for task in x if task in keep]
        runq.extend(task for task in x if task not in keep)
        x[:] = chosen


_PICKER: Final = _BatchPicker()


def install_picker() -> None:
    """Route trio's batch shuffle through the picker (idempotent).

    Also sets ``_ALLOW_DETERMINISTIC_SCHEDULING`` so trio calls ``shuffle`` at
    all; importing Hypothesis does the same through trio's plugin.
    """
    _run._ALLOW_DETERMINISTIC_SCHEDULING = True  # type: ignore[misc]
    _run._r = _PICKER


class SteppedRun:
    """One trio run, advanced one pass of the run loop per :meth:`run_pass`.

    Between passes the run is suspended but its global context stays installed,
    so synchronous trio calls (``nursery.start_soon``, ``trio.current_time``,
    ``cancel_scope.cancel``) work from the caller.  The caller must drive the run
    to completion (``done``) or :meth:`abandon` it.
    """

    def __init__(
        self,
        async_fn: Callable[[], Awaitable[object]],
        clock: trio.abc.Clock,
        instruments: Sequence[trio.abc.Instrument] = (),
    ) -> None:
        install_picker()
        self._runner = _run.setup_runner(
            clock,
            instruments,
            restrict_keyboard_interrupt_to_checkpoints=True,
            strict_exception_groups=True,
        )
        self._gen = _run.unrolled_run(self._runner, async_fn, ())
        self.done = False
        self._advance(None)

    def runnable(self) -> list[trio.lowlevel.Task]:
        """The tasks that would run in the next pass, in trio's queue order."""
        return list(self._runner.runq)

    def run_pass(self, keep: Collection[trio.lowlevel.Task]) -> None:
        """Expire due deadlines, then step each task in ``keep`` once.

        Tasks woken by the expiry, and runnable tasks not in ``keep``, stay
        runnable for a later pass.
        """
        events = self._runner.io_manager.get_events(0)
        _PICKER.keep = keep
        try:
            self._advance(events)
        finally:
            _PICKER.keep = None

    def next_deadline(self) -> float:
        """The earliest pending deadline, bit-exact (``inf`` when none)."""
        return float(self._runner.deadlines.next_deadline())

    def outcome_error(self) -> BaseException | None:
        """The exception the run's root task ended with (once ``done``)."""
        outcome = self._runner.main_task_outcome
        return getattr(outcome, "error", None)

    def abandon(self) -> None:
        """Tear the run down without finishing it (last resort)."""
        if not self.done:
            self.done = True
            self._gen.close()

    def _advance(self, events: Any) -> None:
        try:
            self._gen.send(events)
        except StopIteration:
            self.done = True


def in_run_context() -> bool:
    """True while some trio run's global context is installed in this thread."""
    return hasattr(_run.GLOBAL_RUN_CONTEXT, "runner")


def self_check() -> None:
    """Fail loudly if trio's private names this module uses are gone or changed."""
    missing = [
        name
        for name in ("setup_runner", "unrolled_run", "GLOBAL_RUN_CONTEXT", "_r")
        if not hasattr(_run, name)
    ]
    if missing:
        raise TrioInternalsChanged(
            f"trio {trio.__version__} lacks {', '.join(missing)} in trio._core._run; "
            f"this fuzzer was checked against trio {', '.join(TRIO_VERSIONS_CHECKED)}"
        )
    if not isinstance(_run._r, random.Random):
        raise TrioInternalsChanged("trio._core._run._r is no longer a random.Random")


self_check()
