"""Replay a report exactly, and check that replays are deterministic.

A report's Hypothesis choice sequence fixes everything the original run did:
the rules, their arguments, the time advances and every scheduling decision.
Replaying feeds that sequence back through Hypothesis's ``reproduce_failure``
mechanism, with the detailed trace on, and compares the outcome with the report.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, ClassVar

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.core import encode_failure
from hypothesis.errors import DidNotReproduce
from hypothesis.stateful import run_state_machine_as_test

from fuzzer.failures import FailureInfo
from fuzzer.machine import FinalRun, TrioStateMachine
from fuzzer.report import Report

# Choices appended after the recorded ones, so a run that takes a different
# path (e.g. on fixed code) does not run out of data; they read as "simplest".
_PADDING = 1000


@dataclass(slots=True)
class ReplayResult:
    run: FinalRun | None
    failure: FailureInfo | None

    def reproduces(self, expected: FailureInfo) -> bool:
        """The same failure (kind, title, location) at the same scheduler step."""
        return (
            self.failure is not None
            and self.failure.signature() == expected.signature()
            and self.failure.step == expected.step
        )


def replay_choices(
    machine: type[TrioStateMachine], choices: list[Any], *, pad: bool = True
) -> ReplayResult:
    """Run ``machine`` once on exactly ``choices``; never raises for a failure.

    ``pad`` appends simple choices so a run that takes a longer path (changed
    code) does not run out of data; without it such a run is discarded.
    """

    class Replayed(machine):  # type: ignore[valid-type, misc]
        always_detail = True
        final_runs: ClassVar[list[FinalRun]] = []

    def factory() -> TrioStateMachine:
        return Replayed()

    blob = encode_failure([*choices, *([0] * (_PADDING if pad else 0))])
    factory._hypothesis_internal_use_reproduce_failure = (  # type: ignore[attr-defined]
        hypothesis.__version__,
        blob,
    )
    replay_settings = settings(
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.reuse),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    with contextlib.suppress(DidNotReproduce, Exception):  # the outcome is read below
        run_state_machine_as_test(factory, settings=replay_settings)  # type: ignore[arg-type]
    run = Replayed.final_runs[-1] if Replayed.final_runs else None
    return ReplayResult(run, None if run is None else run.failure)


def replay_report(report: Report, machine: type[TrioStateMachine]) -> ReplayResult:
    """Replay ``report`` on ``machine`` (built for the report's or other parameters)."""
    return replay_choices(machine, report.choices)
