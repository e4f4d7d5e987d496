"""Hypothesis state machines that drive a trio world under the controlled scheduler.

Subclass :class:`TrioStateMachine` the way you subclass
``hypothesis.stateful.RuleBasedStateMachine``: rules are synchronous methods,
and they act on ``self.world`` (:class:`~fuzzer.world.World`): start tasks, call
into the code under test, run steps, move virtual time.  Methods decorated with
:func:`step_invariant` run after *every scheduler step*, not only between
rules, so a race is caught at the step that breaks the invariant.

Rules, their arguments, time advances and every scheduling decision are drawn
from the same Hypothesis choice sequence, so one shrink pass minimises them all
together.

When Hypothesis replays the final (shrunk) failing example, the machine records
what happened (:class:`FinalRun`: the decisions, the detailed trace, the failure)
in :attr:`TrioStateMachine.final_runs`, for reports.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from hypothesis.control import current_build_context
from hypothesis.stateful import RuleBasedStateMachine

from fuzzer.decisions import HypothesisDecisions
from fuzzer.failures import FailureInfo, describe
from fuzzer.trace import Trace
from fuzzer.world import Budget, World
from strategies.schedules import DEFAULT_STRATEGY, policies

F = TypeVar("F", bound=Callable[..., Any])

recent_final_runs: list[FinalRun] = []
"""Final runs recorded since the pytest plugin last cleared this list."""

example_deadline: float | None = None
"""Past this ``time.perf_counter()`` value no new example starts (a budget)."""


@dataclass
class RunHooks:
    """How a runner watches the examples of a Hypothesis run over a machine class.

    A runner could subclass the machine instead, but Hypothesis keys its example
    database by the class it is given: the runner must hand over the user's own
    class, so that ``python -m fuzzer`` and ``pytest`` (``Machine.TestCase``)
    save and replay failures under one key.  While hooks are installed with
    :func:`watching`, every machine built calls ``before_example`` (which may
    raise ``KeyboardInterrupt`` to end the run), draws its policy from
    ``exploration`` when set, calls ``after_example`` with its world once torn
    down (unless Hypothesis discarded the example), and appends its final run,
    if any, to ``final_runs``.
    """

    exploration: str | None = None
    before_example: Callable[[], None] | None = None
    after_example: Callable[[World], None] | None = None
    final_runs: list[FinalRun] = field(default_factory=list)


_hooks: RunHooks | None = None


@contextmanager
def watching(hooks: RunHooks) -> Iterator[RunHooks]:
    """Install ``hooks`` for the machines built inside the ``with`` block."""
    global _hooks
    previous, _hooks = _hooks, hooks
    try:
        yield hooks
    finally:
        _hooks = previous


class ExampleBudgetSpent(KeyboardInterrupt):
    """Raised instead of starting an example once ``example_deadline`` has passed.

    A ``KeyboardInterrupt`` because that is the one exception Hypothesis passes
    straight through, neither as a failure nor as flakiness; the pytest plugin
    turns it back into a normal end of the test.
    """


_STEP_INVARIANT = "_fuzzer_step_invariant"


def step_invariant() -> Callable[[F], F]:
    """Mark a method to run after every scheduler step (and at the end of the run)."""

    def mark(fn: F) -> F:
        setattr(fn, _STEP_INVARIANT, True)
        return fn

    return mark


@dataclass(slots=True)
class FinalRun:
    """What the final replay of a failing example did, as plain data."""

    machine: str
    parameters: dict[str, Any]
    choices: list[Any]
    decisions: list[int]
    trace: Trace
    failure: FailureInfo | None
    policy: str
    operations: list[str] = field(default_factory=list)
    target: str | None = None  # the registered target name, if the machine declares one
    rule_spans: list[tuple[int, int]] = field(default_factory=list)  # choices of each rule
    plan_spans: list[tuple[int, int]] = field(default_factory=list)  # choices of each task plan


class TrioStateMachine(RuleBasedStateMachine):
    """Base class: a state machine whose rules drive one trio :class:`World`.

    Override :meth:`setup_world` to create the code under test inside the world,
    :meth:`quiesce` to bring it to rest at the end (e.g. stop it), and
    :meth:`snapshot` to expose its observable state in traces.  Class attributes
    choose the exploration strategy and the run's budget.
    """

    exploration: ClassVar[str] = DEFAULT_STRATEGY
    budget: ClassVar[Budget] = Budget()
    parameters: ClassVar[dict[str, Any]] = {}
    final_runs: ClassVar[list[FinalRun]] = []
    always_detail: ClassVar[bool] = False
    target_name: ClassVar[str | None] = None
    _hypothesis_internal_add_digest: ClassVar[bytes]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Key each machine class's saved examples by its name and parameters.

        Hypothesis keys a state machine's examples by its class's source (or,
        without source, its name), plus ``_hypothesis_internal_add_digest``.
        Classes built at run time for several parameter sets (a bug switched
        on) would otherwise share one key and replay each other's examples.
        """
        super().__init_subclass__(**kwargs)
        key = f"{cls.__module__}.{cls.__qualname__}:{sorted(cls.parameters.items())}"
        cls._hypothesis_internal_add_digest = key.encode()

    def __init__(self) -> None:
        if example_deadline is not None and time.perf_counter() > example_deadline:
            raise ExampleBudgetSpent()
        hooks = _hooks
        if hooks is not None and hooks.before_example is not None:
            hooks.before_example()
        super().__init__()
        context = current_build_context()
        self._is_final = bool(context.is_final)
        self._data = context.data
        self._rule_ends: list[int] = []
        self._settle_rule_switches()
        exploration = hooks.exploration if hooks is not None else None
        policy = self._data.draw(policies(exploration or self.exploration))
        self._policy_name = repr(policy)
        self._decisions = HypothesisDecisions(policy)
        self.world = World(
            self._decisions,
            detail=self._is_final or self.always_detail,
            budget=self.budget,
        )
        try:
            self.setup_world()
        except BaseException:
            # Hypothesis calls teardown() only on a machine that was built: a
            # setup that fails (or runs out of data) must not leave its run open.
            self.world.close()
            raise
        self.world.checks = self.check_step_invariants
        self.world.scheduler.snapshot = self.snapshot

    def _settle_rule_switches(self) -> None:
        """Draw Hypothesis's swarm-testing switches for every rule now.

        Hypothesis turns rules on and off per test case ("swarm testing"),
        drawing each switch lazily the first time a step looks at that rule; the
        draw then sits in that step's choices, and cutting the step out shifts
        it onto a later one.  Drawing all switches up front keeps each rule's
        choices to itself, so whole rules can be cut from a failing scenario.
        (Relies on ``RuleStrategy.enabled_rules_strategy``; without it, nothing
        happens and scenario cutting is merely less effective.)
        """
        strategy = getattr(self, "_rules_strategy", None)
        switches = getattr(strategy, "enabled_rules_strategy", None)
        if strategy is None or switches is None:
            return
        flags = self._data.draw(switches)
        for rule in strategy.rules:
            flags.is_enabled(rule.function.__name__)

    # -- hooks for subclasses ---------------------------------------------

    def setup_world(self) -> None:
        """Create the code under test inside ``self.world``."""

    def quiesce(self) -> None:
        """Bring the code under test to rest before the final checks."""

    def check_final(self) -> None:
        """Checks that hold only once everything is done (liveness)."""

    def snapshot(self) -> dict[str, Any]:
        """The target's observable state, recorded after each step of a final run."""
        return {}

    # -- machinery ------------------------------------------------------------

    def check_invariants(self, settings: Any, output: Any, runtimes: Any) -> None:
        """Hypothesis calls this after ``__init__`` and after every rule: we note
        where each rule's choices end, so a scenario can later be cut by rule."""
        if self._is_final or self.always_detail:
            self._rule_ends.append(len(self._data.choices))
        super().check_invariants(settings, output, runtimes)

    def check_step_invariants(self) -> None:
        for name in _step_invariant_names(type(self)):
            getattr(self, name)()

    def teardown(self) -> None:
        try:
            # A frozen test case ran out of data (Hypothesis discards it): no more
            # decisions can be drawn, so the end-of-run checks cannot run either.
            if not self.world.closed and not self._data.frozen:
                self._finish()
        finally:
            self.world.close()
            if self._is_final:
                self._record_final_run()
            hooks = _hooks
            # An example Hypothesis discards (it ran out of choice data: an
            # overrun) is no finding, even if its world recorded the overrun.
            if hooks is not None and hooks.after_example is not None and not self._data.frozen:
                hooks.after_example(self.world)

    def _finish(self) -> None:
        try:
            self.quiesce()
            self.world.settle()
            self.check_step_invariants()
            self.check_final()
            self.world.finish()
        except Exception as exc:  # not StopTest/KeyboardInterrupt: those are no failures
            if self.world.failure is None:
                self.world.failure = _final_failure(exc, self.world)
            raise

    def _rule_spans(self) -> list[tuple[int, int]]:
        return _spans(self._rule_ends, len(self._data.choices))

    def _record_final_run(self) -> None:
        trace = self.world.trace
        run = FinalRun(
            machine=type(self).__name__,
            parameters=dict(self.parameters),
            choices=list(self._data.choices),
            decisions=list(self.world.decisions),
            trace=trace,
            failure=self.world.failure,
            policy=self._policy_name,
            operations=[e.label or "" for e in trace.entries if e.kind in ("spawn", "call")],
            target=self.target_name,
            rule_spans=self._rule_spans(),
            plan_spans=list(self._decisions.plan_spans),
        )
        type(self).final_runs.append(run)
        recent_final_runs.append(run)
        if _hooks is not None:
            _hooks.final_runs.append(run)


def _spans(ends: list[int], total: int) -> list[tuple[int, int]]:
    """Rule spans from the choice counts noted after setup and after each rule;
    the last span (the rule that failed, or the end of the run) runs to the end."""
    bounds = [*ends, total] if ends and total > ends[-1] else ends
    return list(itertools.pairwise(bounds))


def _final_failure(exc: BaseException, world: World) -> FailureInfo:
    return describe(exc, "invariant", world.scheduler.step_count, None)


_NAMES_CACHE: dict[type, tuple[str, ...]] = {}


def _step_invariant_names(cls: type) -> tuple[str, ...]:
    names = _NAMES_CACHE.get(cls)
    if names is None:
        names = tuple(
            name for name in dir(cls) if getattr(getattr(cls, name, None), _STEP_INVARIANT, False)
        )
        _NAMES_CACHE[cls] = names
    return names
