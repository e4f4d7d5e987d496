"""``python -m bench``: every benchmark table, printed and written to docs/benchmarks.md.

Sections (``--only NAME`` runs one): ``find`` (time to each bug, per strategy,
and shrunk sizes), ``stress`` (the stress-testing baseline), ``overhead``
(throughput and the cost of control), ``scaling`` (cost as programs grow),
``peer`` (fast-check's figures beside ours), ``workers`` (one worker process
against two; always run one measurement at a time, whatever ``--jobs`` says).
``--quick`` runs everything small enough for CI (about a minute).

With ``--only NAME`` and an existing output file, only that section of the file
is replaced (or added); the other sections and the facts of the run that wrote
them stay, and a line at the top records where the new section came from.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import find, overhead, peer, scaling, stress, workers
from bench.config import FULL_STRATEGIES, STRATEGIES, BenchConfig, full_config, quick_config
from bench.report import document, rerun_note, splice
from bench.session import Session

SECTIONS: dict[str, Callable[[Session], str]] = {
    "find": find.run,
    "stress": stress.run,
    "overhead": overhead.run,
    "scaling": scaling.run,
    "peer": peer.run,
    "workers": workers.run,
}
TITLES: dict[str, str] = {
    "find": find.TITLE,
    "stress": stress.TITLE,
    "overhead": overhead.TITLE,
    "scaling": scaling.TITLE,
    "peer": peer.TITLE,
    "workers": workers.TITLE,
}
"""Each section's heading: finds it in a document written before section markers."""


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seeds", type=int, default=10, help="seeds per bug and strategy")
    parser.add_argument("--quick", action="store_true", help="tiny budgets, 3 bugs (CI)")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument(
        "--only",
        choices=sorted(SECTIONS),
        help="run one section; replaces just that section of an existing --out file",
    )
    parser.add_argument(
        "--budget", type=float, default=None, help="seconds per fuzzing run (default 10; quick 2)"
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="parallel fuzzing runs"
    )
    parser.add_argument(
        "--strategies",
        type=_strategy_list,
        default=None,
        help=f"comma-separated, from {','.join(STRATEGIES)} (full default: "
        f"{','.join(FULL_STRATEGIES)}; quick: all)",
    )
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        parser.error("--seeds and --jobs must be at least 1")
    return args


def _strategy_list(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in STRATEGIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown strategies {unknown}; choose from {STRATEGIES}")
    return names


def make_config(args: argparse.Namespace) -> BenchConfig:
    """The full or quick configuration the arguments ask for."""
    make = quick_config if args.quick else full_config
    return make(args.seeds, args.jobs, args.budget, args.strategies)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen sections, print each table as it is done, then write the file."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    session = Session(make_config(args))
    started = time.perf_counter()
    parts: list[tuple[str, str, float]] = []
    names = [args.only] if args.only else list(SECTIONS)
    for name in names:
        section_started = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        text = SECTIONS[name](session)
        print(file=sys.stderr)
        print(text + "\n", flush=True)
        parts.append((name, text, time.perf_counter() - section_started))
    command = shlex.join(["python", "-m", "bench", *argv])
    if args.only and args.out.is_file():
        name, section, seconds = parts[0]
        existing = args.out.read_text(encoding="utf-8")
        note = rerun_note(name, command, seconds)
        text = splice(existing, name, section, note, list(SECTIONS), TITLES)
    else:
        text = document(command, session.config, parts, time.perf_counter() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"[bench] wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
