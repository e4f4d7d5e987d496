"""Section 2: the stress baseline, what a careful engineer writes without this tool.

The seeded limiter (one bug at a time) under a plain ``trio.run`` with the real
clock: a short refill interval (5-20 ms), many concurrent clients that sleep a
random while (sometimes not at all, sometimes exactly a number of intervals),
then acquire with a random cost and timeout (often a multiple of the interval, so
deadlines meet refill ticks), with every ``on_settle`` behaviour (acquire again,
try_acquire again, stop), try_acquire, bad costs, calls from cancelled scopes,
cancellations of waiters, concurrent starts, the odd stop mid-run, and a stop at
the end.  The same oracle checks the same invariants after every task step (see
`bench.harness`), and after the final stop every acquire must have ended and
every task exited.  Trials repeat until a violation or the budget.  Nothing
controls the schedule: trio's own (randomised) order and the real clock decide.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass

import trio

from bench.harness import Clients, OracleInstrument, make_limiter
from bench.markdown import DASH, censored_median, median_max, ratio, table
from bench.session import Session, parallel_map
from strategies.limiter_ops import BEHAVIOURS
from targets.limiter_oracle import InvariantViolation, LimiterModel

TITLE = "## 2. Against stress testing"
HEADER = (
    "bug",
    "stress: found",
    "stress: seconds to 1st failure, median (max)",
    "stress: trials, median",
    "stress: failure",
    "fuzzer (portfolio): found",
    "fuzzer: seconds, median (max)",
    "fuzzer / stress (median seconds)",
)
INTERVALS = (0.005, 0.01, 0.02)
OPERATIONS = ("acquire", "cancelled", "bad_cost", "try", "cancel", "start", "stop", "stats")
WEIGHTS = (55, 6, 4, 12, 10, 4, 2, 7)


@dataclass(frozen=True)
class StressResult:
    """One stress campaign on one bug: found or not, and after how long."""

    bug: str | None
    seed: int
    found: bool
    seconds: float | None
    trials: int
    invariant: str | None


@dataclass(frozen=True)
class StressJob:
    bug: str | None
    seed: int
    budget: float


def run(session: Session) -> str:
    """Measure and render section 2."""
    config = session.config
    bugs: list[str | None] = [*config.bugs, None]
    jobs = [
        StressJob(bug, seed, config.stress_budget)
        for bug in bugs
        for seed in range(config.stress_seeds)
    ]
    results = parallel_map(_run_job, jobs, config.jobs)
    rows = [_row(session, bug, [r for r in results if r.bug == bug]) for bug in config.bugs]
    control = [r for r in results if r.bug is None]
    rows.append(_control_row(control))
    return "\n\n".join([TITLE, _intro(session), table(HEADER, rows), _control_note(control)])


def _run_job(job: StressJob) -> StressResult:
    return stress(job.bug, job.seed, job.budget)


def _intro(session: Session) -> str:
    config = session.config
    return (
        f"{config.stress_seeds} campaign(s) per bug (random seeds 0-{config.stress_seeds - 1}), "
        f"each up to {config.stress_budget:g} s of wall time (a fuzzing run's budget); a trial "
        "is one `trio.run` of "
        "4-24 clients over 4-16 refill intervals. The fuzzer's figures are section 1's for "
        "the default strategy (portfolio), over its seeds. The ratio compares medians over all "
        "runs, a run that found nothing counting as infinite, so it is shown only where both "
        "found the bug in more than half their runs (below 1: the fuzzer is faster)."
    )


def _row(session: Session, bug: str, results: list[StressResult]) -> list[str]:
    found = [r for r in results if r.found]
    secs = [r.seconds for r in found if r.seconds is not None]
    fuzzed = session.default_strategy(bug)
    fuzz_secs = [m.seconds for m in fuzzed if m.seconds is not None]
    fuzz_median = censored_median([m.seconds for m in fuzzed])
    stress_median = censored_median([r.seconds for r in results])
    return [
        bug,
        f"{len(found)}/{len(results)}",
        median_max(secs, 3),
        f"{statistics.median([r.trials for r in results]):g}" if results else DASH,
        _failures(found),
        f"{len(fuzz_secs)}/{len(fuzzed)}",
        median_max(fuzz_secs, 3),
        ratio(fuzz_median, stress_median, 3),
    ]


def _control_row(results: list[StressResult]) -> list[str]:
    """The correct limiter under the same stress: anything found is a false alarm."""
    found = [r for r in results if r.found]
    secs = [r.seconds for r in found if r.seconds is not None]
    trials = statistics.median([r.trials for r in results]) if results else 0
    return [
        "correct (control)",
        f"{len(found)}/{len(results)}",
        median_max(secs, 3),
        f"{trials:g}",
        _failures(found),
        DASH,
        DASH,
        DASH,
    ]


def _failures(found: list[StressResult]) -> str:
    """The distinct failures the campaigns stopped at."""
    return ", ".join(sorted({r.invariant or "?" for r in found})) or DASH


def _control_note(results: list[StressResult]) -> str:
    found = [r for r in results if r.found]
    if not found:
        return (
            "Control: the same stress on the correct limiter reported nothing, so every "
            "failure above is the seeded bug's."
        )
    invariants = sorted({r.invariant or "?" for r in found})
    note = (
        f"Control: the same stress on the correct limiter also failed in {len(found)} of "
        f"{len(results)} campaign(s) ({', '.join(invariants)}), so a stress failure of that "
        "invariant is not proof of the seeded bug."
    )
    if invariants == ["I5 fairness"]:
        note += (
            " The oracle and the correct limiter disagree on arrival order when an "
            "`on_settle` callback acquires (submit or try_acquire) during the drain that "
            "another call's own arrival triggered: the model numbers a call when it enters, "
            "the limiter when it queues it. The fuzzer's machine reaches the same "
            "disagreement (acquire with on_settle=acquire_on_grant, acquire with "
            "on_settle=try_on_grant, start, one refill, on an empty bucket of capacity "
            ">= 2)."
        )
    return note


def stress(bug: str | None, seed: int, budget: float) -> StressResult:
    """Run random trials on the limiter with ``bug`` until a violation or ``budget`` s."""
    rng = random.Random(seed)
    started = time.perf_counter()
    trials = 0
    while time.perf_counter() - started < budget:
        trials += 1
        failure = run_trial(bug, rng)
        if failure is not None:
            elapsed = time.perf_counter() - started
            return StressResult(bug, seed, True, elapsed, trials, failure)
    return StressResult(bug, seed, False, None, trials, None)


def run_trial(bug: str | None, rng: random.Random) -> str | None:
    """One ``trio.run`` of random clients; the first failure's title, if any.

    A failure is an invariant violation (titled with the invariant), or an
    exception escaping the run (the limiter or a callback raised), titled with
    its type as the fuzzer titles it.
    """
    instrument = OracleInstrument()
    try:
        trio.run(_trial, bug, rng, instrument, instruments=[instrument])
    except Exception as error:
        if instrument.violation is None:
            return _leaf(error).__class__.__name__
    return None if instrument.violation is None else instrument.violation.invariant


def _leaf(error: BaseException) -> BaseException:
    """The first exception inside (possibly nested) exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


async def _trial(bug: str | None, rng: random.Random, instrument: OracleInstrument) -> None:
    capacity = rng.randint(1, 4)
    interval = rng.choice(INTERVALS)
    model = LimiterModel(
        capacity, rng.randint(1, min(3, capacity)), interval, rng.randint(0, capacity)
    )
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            clients = Clients(model, make_limiter(model, bug, nursery))
            instrument.watch(clients, scope)
            await _crowd(clients, rng, instrument)
            instrument.check_final()
            await _limiter_tasks_exit(nursery, instrument, grace=10 * interval)
            instrument.unwatch()
            nursery.cancel_scope.cancel()


async def _crowd(clients: Clients, rng: random.Random, instrument: OracleInstrument) -> None:
    """Concurrent starts and clients for a while, then stop; clients must then finish."""
    interval = clients.model.interval
    horizon = rng.randint(4, 16) * interval
    async with trio.open_nursery() as crowd:
        for _ in range(rng.choice((0, 1, 2, 2))):
            crowd.start_soon(clients.start)
        for _ in range(rng.randint(4, 24)):
            crowd.start_soon(_client, clients, rng, horizon)
        await trio.sleep(horizon)
        clients.stop()
        crowd.cancel_scope.deadline = trio.current_time() + 10 * interval
    if crowd.cancel_scope.cancelled_caught:
        instrument.fail(InvariantViolation("I4", "a client was still blocked after stop()"))


async def _limiter_tasks_exit(
    nursery: trio.Nursery, instrument: OracleInstrument, grace: float
) -> None:
    """After stop the limiter's own tasks (refill loop, timers) must end (I4)."""
    with trio.move_on_after(grace):
        while nursery.child_tasks:
            await trio.sleep(grace / 10)
    if nursery.child_tasks:
        names = ", ".join(sorted(t.name for t in nursery.child_tasks))
        instrument.fail(InvariantViolation("I4", f"tasks still running after stop(): {names}"))


async def _client(clients: Clients, rng: random.Random, horizon: float) -> None:
    """A client: one to three operations, each after a random pause."""
    for _ in range(rng.randint(1, 3)):
        await trio.sleep(_pause(rng, clients.model.interval, horizon))
        if clients.model.stopped_at is not None:
            return
        operation = rng.choices(OPERATIONS, WEIGHTS)[0]
        await _operate(clients, rng, operation)


async def _operate(clients: Clients, rng: random.Random, operation: str) -> None:
    """Perform one client operation, telling the oracle what it observes."""
    capacity = clients.model.capacity
    cost = rng.randint(1, capacity + 1)
    if operation == "acquire":
        behaviour = rng.choice(BEHAVIOURS)
        await clients.acquire(clients.new(cost, _timeout(rng, clients), behaviour, "task"))
    elif operation == "cancelled":
        await clients.acquire(clients.new(min(cost, capacity), None, "none", "cancelled-scope"))
    elif operation == "bad_cost":
        bad = rng.choice((0, -1, 1.5, capacity + 2))
        await clients.acquire(clients.new(bad, None, "none", "task"))
    elif operation == "try":
        clients.try_acquire(min(cost, capacity))
    elif operation == "cancel":
        waiting = clients.waiting()
        if waiting:
            clients.cancel(rng.choice(waiting))
    elif operation == "start":
        await clients.start()
    elif operation == "stop":
        clients.stop()
    else:
        clients.limiter.stats()


def _pause(rng: random.Random, interval: float, horizon: float) -> float:
    """No pause, a whole number of intervals, or a random fraction of the horizon."""
    kind = rng.random()
    if kind < 0.3:
        return 0.0
    if kind < 0.6:
        return rng.randint(1, 3) * interval
    return rng.uniform(0, 0.8 * horizon)


def _timeout(rng: random.Random, clients: Clients) -> float | None:
    """None, a multiple of the interval (meeting a tick), or any short time."""
    kind = rng.random()
    interval = clients.model.interval
    if kind < 0.35:
        return None
    if kind < 0.7:
        return rng.randint(0, 3) * interval
    return rng.uniform(0, 3 * interval)
