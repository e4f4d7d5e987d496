"""The trace of a controlled run: plain data, the raw material of reports.

One :class:`TraceEntry` per scheduler step, plus entries for what the driving
code did between steps (a task spawned, a call made, time moved), in the order
it happened.  Everything is JSON-serialisable through :func:`to_json`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import trio

EntryKind = Literal["step", "spawn", "call", "time", "note"]

_TRIO_DIR = os.path.dirname(trio.__file__)
_THIS_PACKAGE_DIR = os.path.dirname(__file__)


@dataclass(slots=True)
class TraceEntry:
    """One row of the trace.

    For ``step`` rows: ``task`` ran one step, chosen by ``choice`` among
    ``candidates`` runnable tasks (``choice`` is ``None`` when it was the only
    one), resuming at ``resumed_from`` and suspending at ``suspended_at``
    (``"exited"`` when it finished).  ``state`` is the target's observable state
    right after the step, when the run records details.
    """

    kind: EntryKind
    step: int
    time: float
    task: int | None = None
    task_name: str | None = None
    choice: int | None = None
    candidates: int = 0
    resumed_from: str | None = None
    suspended_at: str | None = None
    label: str | None = None
    state: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TraceEntry:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def same_step(self, other: TraceEntry) -> bool:
        """Equal in everything that replay must reproduce (state included)."""
        return self.to_json() == other.to_json()


@dataclass(slots=True)
class Trace:
    entries: list[TraceEntry] = field(default_factory=list)

    def steps(self) -> Iterable[TraceEntry]:
        return (e for e in self.entries if e.kind == "step")

    def to_json(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.entries]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> Trace:
        return cls([TraceEntry.from_json(d) for d in data])

    def first_difference(self, other: Trace) -> int | None:
        """Index of the first entry where two traces differ, or ``None``."""
        for i, (a, b) in enumerate(zip(self.entries, other.entries, strict=False)):
            if not a.same_step(b):
                return i
        if len(self.entries) != len(other.entries):
            return min(len(self.entries), len(other.entries))
        return None


def where(frame: types.FrameType, lineno: int) -> str:
    """``file:line`` with the path shortened to something a person reads."""
    path = frame.f_code.co_filename
    try:
        short = os.path.relpath(path)
    except ValueError:
        short = path
    if short.startswith(".."):
        short = _site_relative(path)
    return f"{short}:{lineno}"


def _site_relative(path: str) -> str:
    for root in sorted(sys.path, key=len, reverse=True):
        if root and path.startswith(root + os.sep):
            return path[len(root) + 1 :]
    return path


def await_point(task: trio.lowlevel.Task) -> str:
    """Where a suspended task waits: its innermost frame outside trio."""
    found = "?"
    for frame, lineno in task.iter_await_frames():
        path = frame.f_code.co_filename
        if path.startswith(_TRIO_DIR):
            break
        if not path.startswith(_THIS_PACKAGE_DIR):
            found = where(frame, lineno)
    return found
