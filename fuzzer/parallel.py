"""Fuzz one target with several worker processes that share an example database.

Each worker is a process of its own running :func:`fuzzer.runner.fuzz_machine`
on the same target, with its own seed stream and, under the ``portfolio``
strategy, its own exploration strategy: different strategies find different
bugs first, so a team of unlike workers beats a team of clones (Coyote and
Shuttle run their portfolios the same way).  Workers share nothing but the
example database, which each opens from its spec (a directory, Redis, ...):
every failing example one saves is replayed first by the next run, on this
machine or, with a shared database, on any other.

The parent keeps the promises of a single run:

- **budget**: every worker stops starting examples at the same wall-clock
  deadline, then has the same shrink grace;
- **nothing lost**: the first Ctrl-C or SIGTERM (relayed by :func:`_collect`) asks
  every worker to finish its current example and return what it found; a
  second one aborts them at once, and each still replays what its database
  saved before returning;
- **one summary**: failures of all workers are merged, one per distinct
  failure (kind, invariant, location), keeping the smallest scenario.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import queue
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

from fuzzer.registry import Target
from fuzzer.runner import (
    FoundFailure,
    FuzzConfig,
    FuzzResult,
    Progress,
    WorkerSummary,
    fuzz_machine,
)

WORKER_STRATEGIES = ("uniform", "pos", "pct", "preemption_bounded")
"""Under ``portfolio``, worker ``i`` explores with strategy ``i`` of these (cycling)."""

SEED_STRIDE = 1_000_000
"""Worker ``i`` of a seeded run uses ``seed + i * SEED_STRIDE``: far from the
``seed + 1000 * round`` seeds the runner uses for its later rounds."""

_POLL_SECONDS = 0.2


class WorkerError(Exception):
    """A worker process crashed: a fault of the fuzzer, not a finding."""


@dataclass(frozen=True)
class WorkerJob:
    """Everything a worker process needs, as plain picklable data."""

    index: int
    target: str
    parameters: dict[str, Any]
    config: FuzzConfig  # without a database: the worker opens its own from the specs
    database: str
    read_from: tuple[str, ...]
    deadline: float | None  # wall-clock (time.time()) end of the search, if budgeted


@dataclass(frozen=True)
class _Signals:
    """What the parent tells its workers (``multiprocessing.Event`` each).

    ``stop``: finish the current example and return what was found.
    ``found``: some worker has a failing example; unless collecting many
    failures, a worker with none of its own stops starting examples, as a
    single run stops searching once it has a failure to shrink.
    """

    stop: Any
    found: Any


@dataclass
class _WorkerOutcome:
    index: int
    strategy: str
    started: float  # time.time() when the worker began fuzzing
    result: FuzzResult


def worker_jobs(
    target: str,
    parameters: dict[str, Any],
    config: FuzzConfig,
    *,
    workers: int,
    database: str,
    read_from: Sequence[str] = (),
) -> list[WorkerJob]:
    """Split one fuzzing job into ``workers`` jobs: seeds, strategies, examples."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    deadline = None if config.budget_seconds is None else time.time() + config.budget_seconds
    jobs = []
    for index in range(workers):
        strategy = config.strategy
        if strategy == "portfolio" and workers > 1:
            strategy = WORKER_STRATEGIES[index % len(WORKER_STRATEGIES)]
        seed = None if config.seed is None else config.seed + index * SEED_STRIDE
        worker_config = dataclasses.replace(
            config,
            database=None,
            seed=seed,
            strategy=strategy,
            max_examples=math.ceil(config.max_examples / workers),
        )
        jobs.append(
            WorkerJob(
                index, target, dict(parameters), worker_config, database, tuple(read_from), deadline
            )
        )
    return jobs


def fuzz_target(
    target: Target,
    parameters: dict[str, Any],
    config: FuzzConfig,
    *,
    workers: int,
    database: str,
    read_from: Sequence[str] = (),
    on_progress: Callable[[Progress], None] | None = None,
) -> FuzzResult:
    """Fuzz ``target``: in this process for one worker, else in ``workers`` processes.

    ``config.database`` is the opened database (``database`` and ``read_from``
    are its specs, which worker processes reopen).  Before workers start, this
    process reads it once, so a slow source (a GitHub artifact) is fetched and
    cached once, and a bad one fails here, not in every worker.
    """
    if workers == 1:
        return fuzz_machine(target.machine(parameters), config, on_example=on_progress)
    if config.database is not None:
        for _ in config.database.fetch(b"fuzzer: warm-up"):
            pass
    jobs = worker_jobs(
        target.name, parameters, config, workers=workers, database=database, read_from=read_from
    )
    return fuzz_in_parallel(jobs, on_progress=on_progress)


def fuzz_in_parallel(
    jobs: Sequence[WorkerJob],
    *,
    on_progress: Callable[[Progress], None] | None = None,
) -> FuzzResult:
    """Run ``jobs`` in worker processes; merge what they found into one result.

    ``on_progress`` is called with the summed counters a few times a second.
    Setting ``stop_requested`` on that :class:`Progress` asks the workers to
    stop after their current example; a ``KeyboardInterrupt`` raised in this
    process (a second Ctrl-C) aborts them, and what they saved is still collected.
    """
    context = multiprocessing.get_context("spawn")
    counters = context.Array("q", 2 * len(jobs), lock=False)
    signals = _Signals(stop=context.Event(), found=context.Event())
    results: Any = context.Queue()
    progress = Progress()
    processes = [
        context.Process(
            target=_work, args=(job, counters, signals, results, os.getpid()), daemon=True
        )
        for job in jobs
    ]
    for process in processes:
        process.start()
    outcomes = _collect(processes, counters, signals, results, progress, on_progress)
    return _merge(outcomes, progress)


def _collect(
    processes: list[SpawnProcess],
    counters: Any,
    signals: _Signals,
    results: Any,
    progress: Progress,
    on_progress: Callable[[Progress], None] | None,
) -> list[_WorkerOutcome]:
    """Wait for every worker's result, relaying stop and abort requests."""
    outcomes: dict[int, _WorkerOutcome] = {}
    errors: list[str] = []
    aborts = 0
    while len(outcomes) + len(errors) < len(processes):
        try:
            _receive(results, outcomes, errors)
            _check_alive(processes, outcomes, errors, results)
            progress.examples = sum(counters[0::2])
            progress.failing_examples = sum(counters[1::2])
            if on_progress is not None:
                on_progress(progress)
            if progress.failing_examples:
                signals.found.set()
            if progress.stop_requested:
                signals.stop.set()
        except KeyboardInterrupt:
            aborts += 1
            signals.stop.set()
            progress.stop_requested = True
            for process in processes:
                if process.is_alive() and process.pid is not None:
                    os.kill(process.pid, signal.SIGKILL if aborts > 2 else signal.SIGTERM)
    for process in processes:
        process.join(timeout=10)
    if errors:
        raise WorkerError("; ".join(errors))
    return [outcomes[index] for index in sorted(outcomes)]


def _receive(results: Any, outcomes: dict[int, _WorkerOutcome], errors: list[str]) -> None:
    try:
        kind, index, payload = results.get(timeout=_POLL_SECONDS)
    except queue.Empty:
        return
    if kind == "done":
        outcomes[index] = payload
    else:
        errors.append(f"worker {index} crashed: {payload}")


def _check_alive(
    processes: list[SpawnProcess],
    outcomes: dict[int, _WorkerOutcome],
    errors: list[str],
    results: Any,
) -> None:
    """A worker that died without sending a result is an error (after draining)."""
    for index, process in enumerate(processes):
        if index in outcomes or process.is_alive() or process.exitcode is None:
            continue
        _receive(results, outcomes, errors)  # its result may still be in the pipe
        if index not in outcomes and not any(e.startswith(f"worker {index} ") for e in errors):
            errors.append(f"worker {index} exited with code {process.exitcode} and no result")


def _merge(outcomes: list[_WorkerOutcome], progress: Progress) -> FuzzResult:
    """One result: summed counts, the first failure in time, distinct failures."""
    distinct: dict[Any, FoundFailure] = {}
    for outcome in outcomes:
        for found in outcome.result.failures:
            key = found.run.failure.signature() if found.run.failure else id(found)
            kept = distinct.get(key)
            if kept is None or len(found.run.choices) < len(kept.run.choices):
                distinct[key] = found
    first = _first_to_fail(outcomes, progress)
    return FuzzResult(
        examples=sum(o.result.examples for o in outcomes),
        seconds=progress.elapsed,
        failures=list(distinct.values()),
        first_failure_examples=None if first is None else first[0],
        first_failure_seconds=None if first is None else first[1],
        budget_exhausted=all(o.result.budget_exhausted for o in outcomes),
        interrupted=any(o.result.interrupted for o in outcomes),
        seed=outcomes[0].result.seed if outcomes else None,
        workers=[
            WorkerSummary(
                o.index, o.strategy, o.result.seed, o.result.examples, len(o.result.failures)
            )
            for o in outcomes
        ],
    )


def _first_to_fail(outcomes: list[_WorkerOutcome], progress: Progress) -> tuple[int, float] | None:
    """(examples run by the worker that failed first, seconds since the parent began)."""
    started = time.time() - progress.elapsed
    candidates = [
        (o.started - started + o.result.first_failure_seconds, o.result.first_failure_examples)
        for o in outcomes
        if o.result.first_failure_seconds is not None
        and o.result.first_failure_examples is not None
    ]
    if not candidates:
        return None
    seconds, examples = min(candidates)
    return examples, seconds


# -- in the worker process ---------------------------------------------------------


def _work(job: WorkerJob, counters: Any, signals: _Signals, results: Any, parent: int) -> None:
    """A worker's main: fuzz its job, then send its result (or its traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, _abort_once)
    try:
        outcome = _fuzz_job(job, counters, signals, parent)
    except BaseException as error:
        where = traceback.extract_tb(error.__traceback__)[-1]
        summary = traceback.format_exception_only(error)[-1].strip()
        results.put(("error", job.index, f"{summary} (at {where.filename}:{where.lineno})"))
    else:
        results.put(("done", job.index, outcome))


def _fuzz_job(job: WorkerJob, counters: Any, signals: _Signals, parent: int) -> _WorkerOutcome:
    from fuzzer.databases import open_databases
    from fuzzer.registry import get_target

    machine = get_target(job.target).machine(job.parameters)
    config = dataclasses.replace(job.config, database=open_databases(job.database, job.read_from))
    if job.deadline is not None:
        config = dataclasses.replace(config, budget_seconds=max(job.deadline - time.time(), 0.01))
    slot = 2 * job.index
    relayed: set[str] = set()  # each request is relayed once: the runner then replays

    def on_example(progress: Progress) -> None:
        counters[slot] = progress.examples
        counters[slot + 1] = progress.failing_examples
        if "stop" in relayed:
            return
        if signals.stop.is_set() or os.getppid() != parent:
            relayed.add("stop")
            progress.stop_requested = True
        elif "found" in relayed or config.keep_going or progress.failing_examples:
            return
        elif signals.found.is_set():
            relayed.add("found")
            progress.soft_deadline = 0.0  # another worker is shrinking: search no more

    started = time.time()
    result = fuzz_machine(machine, config, on_example=on_example)
    return _WorkerOutcome(job.index, config.strategy, started, result)


def _abort_once(signum: int, frame: FrameType | None) -> None:
    """SIGTERM from the parent: stop now (the runner replays what was saved)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt()
