"""Run a whole trio program under the controlled scheduler.

:func:`run_program` is the simplest entry point: give it an async function and a
decision source; it runs the program to completion with every scheduling choice
taken from the source, and returns what happened as plain data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fuzzer.decisions import DecisionSource
from fuzzer.failures import FailureInfo
from fuzzer.trace import Trace
from fuzzer.world import Budget, World


@dataclass(slots=True)
class ProgramResult:
    """The outcome of one controlled run."""

    decisions: list[int]
    trace: Trace
    failure: FailureInfo | None
    error: BaseException | None

    def raise_failure(self) -> None:
        """Re-raise the failure, if any, so a test (and Hypothesis) sees it."""
        if self.error is not None:
            raise self.error

    def to_json(self) -> dict[str, Any]:
        return {
            "decisions": self.decisions,
            "trace": self.trace.to_json(),
            "failure": None if self.failure is None else self.failure.to_json(),
        }


def run_program(
    main: Callable[[], Awaitable[object]],
    source: DecisionSource,
    *,
    checks: Callable[[], None] | None = None,
    snapshot: Callable[[], dict[str, Any]] | None = None,
    detail: bool = False,
    budget: Budget | None = None,
) -> ProgramResult:
    """Run ``main`` to completion; time jumps to each deadline when all is quiet.

    Failures (an exception escaping a task, ``checks`` raising, a deadlock, a
    budget exceeded) are returned, not raised: call ``raise_failure()`` for that.
    """
    world = World(source, checks=checks, snapshot=snapshot, detail=detail, budget=budget)
    error: BaseException | None = None
    try:
        world.spawn(main, name="main")
        world.finish()
    except Exception as exc:
        error = exc
    finally:
        world.close()
    return ProgramResult(world.decisions, world.trace, world.failure, error)
