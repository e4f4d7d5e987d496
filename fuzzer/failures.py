"""The kinds of failure a controlled run reports, beyond a plain exception.

Every failure the engine detects is described by a :class:`FailureInfo` (plain
data, for reports) and surfaces as an exception so Hypothesis sees it, shrinks
it, and tells distinct failures apart (by exception type and the place it was
raised).  An exception that escaped a task, or an invariant's own
``AssertionError``, is re-raised as itself, so its origin stays the line that
broke; the engine's own kinds get their own types.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FailureKind = Literal["exception", "invariant", "deadlock", "runaway", "nondeterminism"]


@dataclass(slots=True)
class FailureInfo:
    """What broke, where, and at which scheduler step."""

    kind: FailureKind
    title: str  # short and stable: the exception type, or the invariant's name
    message: str
    step: int
    task: str | None = None
    location: str | None = None  # file:line where it was raised
    traceback: str | None = None
    blocked: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FailureInfo:
        return cls(**data)

    def signature(self) -> tuple[str, str, str | None]:
        """Two failures with the same signature are the same bug."""
        return (self.kind, self.title, self.location)


class FuzzFailure(Exception):
    """Base of the failures the engine itself detects."""

    kind: FailureKind = "exception"


class Deadlock(FuzzFailure):
    """Every task is blocked and no timer is pending: nothing can ever run again."""

    kind = "deadlock"


class Runaway(FuzzFailure):
    """A step, step-count or virtual-time budget was exceeded."""

    kind = "runaway"


class Nondeterminism(FuzzFailure):
    """The same decisions produced two different runs: something is uncontrolled."""

    kind = "nondeterminism"


class StepTimeout(BaseException):
    """Raised inside a task that ran too long without reaching a checkpoint.

    A ``BaseException`` so that ``except Exception`` in the code under test does
    not swallow it.
    """


def describe(exc: BaseException, kind: FailureKind, step: int, task: str | None) -> FailureInfo:
    """A :class:`FailureInfo` for an exception, located at its innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    location = f"{_short(frames[-1].filename)}:{frames[-1].lineno}" if frames else None
    title = getattr(exc, "invariant", None) or type(exc).__name__
    return FailureInfo(
        kind=getattr(exc, "kind", kind) if isinstance(exc, FuzzFailure) else kind,
        title=str(title),
        message=str(exc) or type(exc).__name__,
        step=step,
        task=task,
        location=location,
        traceback="".join(traceback.format_exception(exc)),
    )


def _short(path: str) -> str:
    """A path relative to the working directory when it lies below it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative
