"""Shrink quality per bug: ``python -m bench.shrink_table [--seeds K] [--out PATH]``.

For each seeded bug, fuzz the limiter with that bug alone (portfolio strategy,
fixed seeds), let Hypothesis shrink the failure, and measure the shrunk
scenario: client operations, time advances and non-default scheduling
decisions, beside the size of the spec's trigger (``targets.bugs.TRIGGER_SIZES``).
Writes a Markdown table (default ``docs/shrinking.md``) and prints it.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import hypothesis
import trio

from bench.measure import Measurement, find_bug
from targets.bugs import BUGS, TRIGGER_SIZES


def measure(bug: str, seeds: int, budget: float, max_tries: int = 8) -> list[Measurement]:
    """Shrunk failures from the first ``seeds`` seeds (of 0..max_tries-1) that find the bug."""
    runs: list[Measurement] = []
    for seed in range(max_tries):
        runs.append(find_bug(bug, "portfolio", seed, budget=budget, shrink=True))
        if sum(m.found for m in runs) >= seeds:
            break
    return runs


def row(bug: str, runs: list[Measurement]) -> str:
    trigger = TRIGGER_SIZES[bug]
    sized = [m.size for m in runs if m.size is not None]
    if not sized:
        return f"| {bug} | {BUGS[bug].name} | not found | | | | {trigger.total} | - |"
    ops = statistics.median(s.operations for s in sized)
    advances = statistics.median(s.time_advances for s in sized)
    decisions = statistics.median(s.decisions for s in sized)
    total = statistics.median(s.total for s in sized)
    worst = max(s.total for s in sized)
    verdict = "yes" if worst <= 2 * trigger.total else f"no (max {worst})"
    invariants = ", ".join(sorted({m.invariant or "?" for m in runs if m.found}))
    return (
        f"| {bug} | {BUGS[bug].name} | {len(sized)}/{len(runs)}: {invariants} | "
        f"{ops:g} / {advances:g} / {decisions:g} | {total:g} (max {worst}) | "
        f"{trigger.operations} / {trigger.time_advances} / {trigger.decisions} | "
        f"{trigger.total} | {verdict} |"
    )


def table(seeds: int, budget: float, bugs: list[str]) -> str:
    started = time.perf_counter()
    lines = [
        "| bug | name | found: invariant | shrunk ops / time advances / decisions (median) "
        "| shrunk total | trigger ops / advances / decisions | trigger total | within 2x |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for bug in bugs:
        lines.append(row(bug, measure(bug, seeds, budget)))
        print(lines[-1], flush=True)
    elapsed = time.perf_counter() - started
    return "\n".join(lines) + f"\n\nMeasured in {elapsed:.0f} s.\n"


def document(command: str, body: str) -> str:
    return (
        "# Shrink quality\n\n"
        f"Produced by `{command}` on Python {platform.python_version()}, "
        f"trio {trio.__version__}, Hypothesis {hypothesis.__version__}.\n\n"
        "Each bug is fuzzed alone on the seeded limiter (portfolio strategy, seeds 0, 1, ... "
        "until K seeds have found it, at most 8 tried; the found column says how many "
        "seeds were tried); "
        "the failure Hypothesis reports is shrunk, and its scenario is measured up to the "
        "failing step: client operations and limiter calls (not counting the harness's "
        "end-of-run stop), moves of virtual time, and non-default scheduling decisions. "
        "The trigger sizes are read off the trigger column of the spec (section 3; "
        "`targets/bugs.py: TRIGGER_SIZES`).\n\n" + body
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shrink_table", description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per search")
    parser.add_argument("--bug", action="append", help="only these bugs (repeatable)")
    parser.add_argument("--out", default="docs/shrinking.md")
    args = parser.parse_args(argv)
    bugs = args.bug or sorted(BUGS)
    command = "python -m bench.shrink_table " + " ".join(sys.argv[1:] if argv is None else argv)
    text = document(command.strip(), table(args.seeds, args.budget, bugs))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
