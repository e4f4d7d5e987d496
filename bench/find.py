"""Section 1: examples and seconds to each bug's first failure, strategy by strategy.

Every run fuzzes the seeded limiter with one bug on, from Hypothesis seed 0, 1,
..., until the first failure or the budget (no shrinking: the figures are the
search alone).  Then, with the best strategy for each bug, a few runs with
shrinking give the size of the scenario a user is shown, beside the size of the
bug's smallest trigger (``TRIGGER_SIZES``, read off the spec).
"""

from __future__ import annotations

import statistics

from bench.config import BenchConfig
from bench.markdown import DASH, median_max, table
from bench.measure import Measurement, ScenarioSize
from bench.session import Session
from targets.bugs import BUGS, INVARIANTS, TRIGGER_SIZES

TITLE = "## 1. Time to find each bug, strategy by strategy"
HEADER = (
    "bug",
    "strategy",
    "found",
    "examples to 1st failure, median (max)",
    "seconds, median (max)",
    "invariant",
)
SHRINK_HEADER = (
    "bug",
    "strategy",
    "seeds",
    "invariant",
    "operations, median (max)",
    "time advances, median (max)",
    "decisions, median (max)",
    "trigger (ops / time / decisions)",
    "shrunk total / trigger total",
)


def summary_header(strategies: tuple[str, ...]) -> tuple[str, ...]:
    """Header of the one-line-per-bug summary: median examples under each strategy."""
    return ("bug", *strategies, "best")


def run(session: Session) -> str:
    """Measure and render section 1."""
    config = session.config
    session.find(config.bugs, config.strategies)
    parts = [
        TITLE,
        _intro(config),
        "### Median examples to the first failure (found/seeds), per strategy",
        _summary_table(session),
        "### Every strategy in detail",
        _detail_table(session),
        _off_target_note(session),
        "### Shrunk scenarios (best strategy per bug)",
        _shrink_intro(config),
        _shrink_table(session),
    ]
    return "\n\n".join(parts)


def _intro(config: BenchConfig) -> str:
    return (
        f"Seeded limiter, one bug on; Hypothesis seeds 0-{config.seeds - 1} per bug and "
        f"strategy; each run stops at its first failure or after {config.budget:g} s / "
        f'{config.max_examples:,} examples, with no shrinking. "Examples" counts state '
        "machine examples (one client program and its schedule each) up to and including the "
        "first failing one; seconds are wall time to that example. Medians and maxima are over "
        "the seeds that found the bug."
    )


def _summary_table(session: Session) -> str:
    config = session.config
    rows = []
    for bug in config.bugs:
        cells = [
            _found_median(session.find([bug], [strategy]), config.seeds)
            for strategy in config.strategies
        ]
        rows.append([bug, *cells, session.best_strategy(bug)])
    return table(summary_header(config.strategies), rows)


def _found_median(runs: list[Measurement], seeds: int) -> str:
    examples = [m.examples for m in runs if m.examples is not None]
    if not examples:
        return f"{DASH} (0/{seeds})"
    return f"{statistics.median(examples):g} ({len(examples)}/{seeds})"


def _detail_table(session: Session) -> str:
    config = session.config
    rows = [
        _detail_row(bug, strategy, session.find([bug], [strategy]), config.seeds)
        for bug in config.bugs
        for strategy in config.strategies
    ]
    return table(HEADER, rows)


def _detail_row(bug: str, strategy: str, runs: list[Measurement], seeds: int) -> list[str]:
    found = [m for m in runs if m.found]
    examples = [float(m.examples) for m in found if m.examples is not None]
    secs = [m.seconds for m in found if m.seconds is not None]
    invariants = sorted({m.invariant for m in found if m.invariant})
    return [
        bug,
        strategy,
        f"{len(found)}/{seeds}",
        median_max(examples),
        median_max(secs, 3),
        ", ".join(invariants) or DASH,
    ]


def _off_target_note(session: Session) -> str:
    """Runs whose first failure is not one of the invariants the spec says the bug breaks.

    "Found" counts any failure the fuzzer reports with the bug on; these runs are
    listed so that a reader can tell a bug's own failures from anything else
    (an exception the bug provokes, or a failure the correct limiter would share).
    """
    config = session.config
    off: dict[tuple[str, str], list[int]] = {}
    for bug in config.bugs:
        expected = {f"{i} {INVARIANTS[i]}" for i in BUGS[bug].invariants}
        for m in session.find([bug], config.strategies):
            if m.invariant is not None and m.invariant not in expected:
                off.setdefault((bug, m.invariant), []).append(m.seed)
    if not off:
        return "Every first failure above is one of the invariants the spec says its bug breaks."
    items = "; ".join(
        f"{bug} {invariant} ({len(seeds)} run(s))"
        for (bug, invariant), seeds in sorted(off.items())
    )
    return (
        "First failures outside the invariants the spec lists for the bug (counted as found "
        f"above): {items}."
    )


def _shrink_intro(config: BenchConfig) -> str:
    return (
        f"The first {config.shrink_seeds} seeds on which the bug's best strategy found it "
        f"above, run again with shrinking ({config.budget:g} s to find, then "
        f"{config.shrink_grace:g} s to shrink; a shrink cut short reports the smallest "
        "failing example reached). Operations are client operations and limiter calls "
        "(the harness's final `stop()` not counted), time advances are moves of virtual time, "
        "decisions are non-default scheduling choices, all up to the failing step. The trigger "
        "is the spec's smallest situation that exposes the bug."
    )


def _shrink_table(session: Session) -> str:
    config = session.config
    session.shrunk_all((bug, session.best_strategy(bug)) for bug in config.bugs)
    rows = []
    for bug in config.bugs:
        strategy = session.best_strategy(bug)
        rows.append(_shrink_row(bug, strategy, session.shrunk(bug, strategy), config))
    return table(SHRINK_HEADER, rows)


def _shrink_row(bug: str, strategy: str, runs: list[Measurement], config: BenchConfig) -> list[str]:
    sizes = [m.size for m in runs if m.size is not None]
    trigger = TRIGGER_SIZES[bug]
    total = statistics.median([s.total for s in sizes]) if sizes else None
    invariants = sorted({m.invariant for m in runs if m.invariant})
    return [
        bug,
        strategy,
        ", ".join(str(m.seed) for m in runs if m.size is not None) or DASH,
        ", ".join(invariants) or DASH,
        _size_median(sizes, "operations"),
        _size_median(sizes, "time_advances"),
        _size_median(sizes, "decisions"),
        f"{trigger.operations} / {trigger.time_advances} / {trigger.decisions}",
        DASH if total is None else f"{total:g} / {trigger.total}",
    ]


def _size_median(sizes: list[ScenarioSize], attribute: str) -> str:
    return median_max([float(getattr(size, attribute)) for size in sizes])


def shrunk_operations(session: Session, bug: str) -> list[int]:
    """Shrunk operation counts for ``bug`` (best strategy), for the peer table."""
    strategy = session.best_strategy(bug)
    return [m.size.operations for m in session.shrunk(bug, strategy) if m.size is not None]
