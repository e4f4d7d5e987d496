"""Fuzz one state machine: budgets, counting, distinct failures, nothing lost.

:func:`fuzz_machine` runs a :class:`~fuzzer.machine.TrioStateMachine` under
Hypothesis and returns a :class:`FuzzResult`: how many examples ran, when the
first failure came, and each distinct failure with the final (shrunk) run
recorded for its report.

Budget: Hypothesis has no wall-clock limit, so the machine's constructor checks
the clock.  Past the budget it raises ``KeyboardInterrupt``, the one exception
Hypothesis lets through at once without treating it as a failure or replaying
it (any other ``BaseException`` raised there is turned into a flakiness error).  A failure found in time is shrunk during a grace period (counted from the first failure, with or without a budget); if
the grace runs out, the best example found so far is in the example database
(Hypothesis saves failing examples as soon as it finds them and as it shrinks
them), and it is replayed from there without further shrinking.  Ctrl-C
(KeyboardInterrupt) is handled the same way: stop, then replay what was saved.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.database import ExampleDatabase, InMemoryExampleDatabase
from hypothesis.stateful import run_state_machine_as_test

from fuzzer.decisions import DEFAULT_PLAN_CHOICES
from fuzzer.failures import FailureInfo
from fuzzer.machine import FinalRun, RunHooks, TrioStateMachine, watching
from fuzzer.minimize import Scenario, minimize_scenario
from fuzzer.replay import replay_choices
from fuzzer.world import World


@dataclass
class FuzzConfig:
    """How long and how to fuzz."""

    max_examples: int = 10_000
    budget_seconds: float | None = None  # wall clock; None: only max_examples
    shrink_grace_seconds: float = 30.0  # time to shrink, from the first failure on
    seed: int | None = None
    strategy: str = "portfolio"
    steps_per_example: int = 50
    database: ExampleDatabase | None = None
    keep_going: bool = False  # collect distinct failures instead of stopping at the first
    shrink: bool = True  # False: stop at the first failure as found (for benchmarks)


@dataclass
class Progress:
    """Live counters, shared with the machine class while it runs."""

    started: float = field(default_factory=time.perf_counter)
    examples: int = 0
    failing_examples: int = 0
    first_failure_examples: int | None = None
    first_failure_seconds: float | None = None
    soft_deadline: float = float("inf")
    hard_deadline: float = float("inf")
    stop_requested: bool = False
    budget_spent: bool = False
    round_failures: int = 0  # failing examples in the current Hypothesis run

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


@dataclass
class FoundFailure:
    """One distinct failure: its shrunk final run (plain data, so it can cross
    from a worker process to the parent)."""

    run: FinalRun


@dataclass
class FuzzResult:
    examples: int
    seconds: float
    failures: list[FoundFailure]
    first_failure_examples: int | None
    first_failure_seconds: float | None
    budget_exhausted: bool = False
    interrupted: bool = False
    seed: int | None = None
    workers: list[WorkerSummary] = field(default_factory=list)  # parallel runs only


@dataclass(frozen=True)
class WorkerSummary:
    """What one worker process of a parallel run did."""

    index: int
    strategy: str
    seed: int | None
    examples: int
    failures: int


def fuzz_machine(
    machine: type[TrioStateMachine],
    config: FuzzConfig,
    *,
    on_example: Callable[[Progress], None] | None = None,
) -> FuzzResult:
    """Fuzz ``machine`` as ``config`` says; never raises for a failure found."""
    progress = Progress()
    if config.budget_seconds is not None:
        progress.soft_deadline = progress.started + config.budget_seconds
        progress.hard_deadline = progress.soft_deadline + config.shrink_grace_seconds
    database = config.database if config.database is not None else InMemoryExampleDatabase()
    hooks = _hooks(progress, config, on_example)
    distinct: dict[Any, FoundFailure] = {}
    for round_number in itertools.count():
        examples_before = progress.examples
        outcome, failures = _one_round(machine, hooks, config, database, progress, round_number)
        for found in failures:
            key = found.run.failure.signature() if found.run.failure else id(found)
            distinct.setdefault(key, found)
        if progress.examples == examples_before or not _another_round(config, progress, outcome):
            break  # (a round that ran nothing would run nothing again)
    return FuzzResult(
        examples=progress.examples,
        seconds=progress.elapsed,
        failures=list(distinct.values()),
        first_failure_examples=progress.first_failure_examples,
        first_failure_seconds=progress.first_failure_seconds,
        budget_exhausted=outcome.budget_exhausted,
        interrupted=outcome.interrupted,
        seed=config.seed,
    )


def _one_round(
    machine: type[TrioStateMachine],
    hooks: RunHooks,
    config: FuzzConfig,
    database: ExampleDatabase,
    progress: Progress,
    round_number: int,
) -> tuple[_Outcome, list[FoundFailure]]:
    """One Hypothesis run: generate, shrink, then post-process its failures.

    The first round replays the example database first; later rounds (only with
    ``keep_going`` and a budget) generate afresh under another seed.
    """
    outcome = _Outcome()
    progress.round_failures = 0
    if not config.shrink:
        phases: tuple[Phase, ...] = (Phase.explicit, Phase.reuse, Phase.generate)
    elif round_number == 0:
        phases = tuple(Phase)
    else:
        phases = (Phase.generate, Phase.shrink)
    seed = None if config.seed is None else config.seed + 1000 * round_number
    examples_left = max(config.max_examples - progress.examples, 1)
    try:
        _run(
            machine,
            hooks,
            dataclasses.replace(config, seed=seed, max_examples=examples_left),
            database,
            phases=phases,
            outcome=outcome,
        )
    except KeyboardInterrupt:
        outcome.budget_exhausted = progress.budget_spent
        outcome.interrupted = not progress.budget_spent
    if (outcome.budget_exhausted or outcome.interrupted) and progress.round_failures:
        _replay_saved(machine, hooks, config, database, progress, outcome)
    failures = outcome.failures(hooks.final_runs)
    if config.shrink and not outcome.interrupted:
        failures = [_simplify_scenario(machine, found) for found in failures]
    return outcome, [_check_determinism(machine, found) for found in failures]


def _another_round(config: FuzzConfig, progress: Progress, outcome: _Outcome) -> bool:
    """Hypothesis stops looking for more bugs soon after its first; with
    ``keep_going`` and budget (time, else examples) left, search again under a
    fresh seed."""
    if not config.keep_going or outcome.interrupted or outcome.budget_exhausted:
        return False
    if config.budget_seconds is not None:
        return time.perf_counter() < progress.soft_deadline - 2.0
    return progress.examples < config.max_examples


@dataclass
class _Outcome:
    errors: list[BaseException] = field(default_factory=list)
    budget_exhausted: bool = False
    interrupted: bool = False

    def failures(self, runs: list[FinalRun]) -> list[FoundFailure]:
        """The final run of each distinct error (Hypothesis replays them in order)."""
        replayed = runs[: len(self.errors)] or runs
        return [FoundFailure(run) for run in replayed]


def _run(
    machine: type[TrioStateMachine],
    hooks: RunHooks,
    config: FuzzConfig,
    database: ExampleDatabase,
    *,
    phases: tuple[Phase, ...],
    outcome: _Outcome,
) -> None:
    test_settings = settings(
        max_examples=config.max_examples,
        stateful_step_count=config.steps_per_example,
        deadline=None,
        database=database,
        derandomize=False,
        report_multiple_bugs=config.keep_going,
        suppress_health_check=list(HealthCheck),
        phases=phases,
        print_blob=False,
        verbosity=Verbosity.quiet,
    )
    hooks.final_runs.clear()
    try:
        with watching(hooks), _seeded(machine, config.seed):
            run_state_machine_as_test(machine, settings=test_settings)
    except Exception as error:
        outcome.errors = list(_split(error))


def _replay_saved(
    machine: type[TrioStateMachine],
    hooks: RunHooks,
    config: FuzzConfig,
    database: ExampleDatabase,
    progress: Progress,
    outcome: _Outcome,
) -> None:
    """Replay the failing examples Hypothesis saved, without shrinking further."""
    progress.soft_deadline = progress.hard_deadline = float("inf")
    progress.stop_requested = progress.budget_spent = False
    _run(machine, hooks, config, database, phases=(Phase.explicit, Phase.reuse), outcome=outcome)


def _simplify_scenario(machine: type[TrioStateMachine], found: FoundFailure) -> FoundFailure:
    """After Hypothesis's shrink, try the bigger moves it cannot make
    (:func:`fuzzer.minimize.minimize_scenario`): cut rules, reset task plans."""
    run = found.run
    if run.failure is None:
        return found
    signature = run.failure.signature()

    def replay(choices: list[Any]) -> Scenario | None:
        # Padded: a cut or reordered scenario may need a step more to show the
        # failure; the run records only the choices it used.
        result = replay_choices(machine, choices, pad=True)
        if result.run is None or result.failure is None:
            return None
        return _scenario(result.run) if result.failure.signature() == signature else None

    best = minimize_scenario(_scenario(run), replay, DEFAULT_PLAN_CHOICES)
    return FoundFailure(best.run)


def _scenario(run: FinalRun) -> Scenario:
    surprises = sum(1 for decision in run.decisions if decision)
    return Scenario(run.choices, run.rule_spans, run.plan_spans, surprises, run)


def _check_determinism(machine: type[TrioStateMachine], found: FoundFailure) -> FoundFailure:
    """Run the failing choices once more; a different trace is its own failure.

    The same choices must give the same run, step for step.  When they do not,
    the code under test depends on something the scheduler does not control
    (the real clock, an unseeded random, real I/O): replays and shrinking cannot
    be trusted, and that is reported instead, naming the first step that differs.
    """
    run = found.run
    if run.failure is None:
        return found
    again = replay_choices(machine, run.choices, pad=False).run
    if again is None:
        return found
    index = run.trace.first_difference(again.trace)
    if index is None:
        return found
    entries = run.trace.entries
    step = entries[min(index, len(entries) - 1)].step if entries else 0
    failure = FailureInfo(
        kind="nondeterminism",
        title="Nondeterminism",
        message=(
            f"two runs of the same choices differ from step {step} on (trace entry "
            f"{index}): the code under test reads something the scheduler does not "
            f"control (real clock, unseeded random, I/O). First run: {run.failure.title}: "
            f"{run.failure.message}"
        ),
        step=step,
        task=entries[index].task_name if index < len(entries) else None,
    )
    return FoundFailure(dataclasses.replace(run, failure=failure))


def _split(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return list(error.exceptions)
    return [error]


@contextlib.contextmanager
def _seeded(machine: type[TrioStateMachine], seed: int | None) -> Iterator[None]:
    """Give Hypothesis ``seed`` for runs of ``machine`` inside the block.

    Hypothesis reads a seed from the attribute ``@seed`` sets on the test (for a
    state machine: on the class it runs); the class is the user's own, so the
    attribute is set for the run only.
    """
    if seed is None:
        yield
        return
    attribute = "_hypothesis_internal_use_seed"
    previous = vars(machine).get(attribute, _UNSET)
    setattr(machine, attribute, seed)
    try:
        yield
    finally:
        if previous is _UNSET:
            delattr(machine, attribute)
        else:
            setattr(machine, attribute, previous)


_UNSET = object()


def _hooks(
    progress: Progress,
    config: FuzzConfig,
    on_example: Callable[[Progress], None] | None,
) -> RunHooks:
    """Hooks that count examples, keep the budget and note failures."""

    def before_example() -> None:
        now = time.perf_counter()
        # Past the budget, only a run that is shrinking a failure may go on.
        deadline = progress.hard_deadline if progress.round_failures else progress.soft_deadline
        if progress.stop_requested:
            raise KeyboardInterrupt()
        if now > deadline:
            progress.budget_spent = True
            raise KeyboardInterrupt()
        progress.examples += 1
        if on_example is not None:
            on_example(progress)

    def after_example(world: World) -> None:
        if world.failure is not None:
            _note_failure(progress, config)

    return RunHooks(
        exploration=config.strategy, before_example=before_example, after_example=after_example
    )


def _note_failure(progress: Progress, config: FuzzConfig) -> None:
    """Count a failing example; unless collecting many, the first starts the shrink clock."""
    progress.failing_examples += 1
    progress.round_failures += 1
    if progress.first_failure_examples is None:
        progress.first_failure_examples = progress.examples
        progress.first_failure_seconds = progress.elapsed
        if not config.keep_going:
            grace_end = time.perf_counter() + config.shrink_grace_seconds
            progress.hard_deadline = min(progress.hard_deadline, grace_end)
