"""The command line: ``python -m fuzzer list | run | show | replay | ci``.

Exit codes are the same everywhere: 0 nothing failed, 1 failures found (reports
written, or a replay reproduced), 2 a usage or setup problem (one line on
stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from hypothesis.database import ExampleDatabase

from fuzzer.databases import DatabaseError, open_databases
from fuzzer.parallel import WorkerError, fuzz_target
from fuzzer.registry import Target, TargetError, discover, get_target
from fuzzer.report import Report, ReportError, load_report, report_from_run, write_report
from fuzzer.runner import FuzzConfig, FuzzResult, Progress
from strategies.schedules import DEFAULT_STRATEGY, STRATEGY_NAMES

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
DEFAULT_DATABASE = Path(".fuzzer/examples")
DEFAULT_REPORTS = Path("reports")


class UsageError(Exception):
    """A problem with the command's input: reported in one line, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except (UsageError, TargetError, ReportError, DatabaseError, WorkerError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE


# -- list -------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    for name, target in sorted(discover().items()):
        print(f"{name}: {target.summary}")
        for bug_id, bug_name in target.variants.items():
            print(f"    --bug {bug_id}  {bug_name}")
    return EXIT_OK


# -- run ----------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    target = get_target(args.target)
    parameters = target.parameters(args.bug or [])
    config = _config(args)
    result = _fuzz(target, parameters, config, args, show_progress=not args.json)
    paths = _write_reports(target, config, result, Path(args.report_dir))
    summary = _summary(target, parameters, config, result, paths, args.workers)
    if args.json:
        print(json.dumps(summary))
    else:
        _print_summary(summary)
    return EXIT_FAILURES if result.failures else EXIT_OK


def _config(args: argparse.Namespace) -> FuzzConfig:
    if args.budget is not None and args.budget <= 0:
        raise UsageError(f"--budget must be a positive number of seconds, got {args.budget:g}")
    if args.max_examples is not None and args.max_examples <= 0:
        raise UsageError(f"--max-examples must be positive, got {args.max_examples}")
    _check_workers(args.workers)
    return FuzzConfig(
        max_examples=args.max_examples or (10**9 if args.budget else 2000),
        budget_seconds=args.budget,
        shrink_grace_seconds=args.shrink_grace,
        seed=args.seed,
        strategy=args.strategy,
        steps_per_example=args.steps,
        database=_database(args),
        keep_going=args.keep_going,
    )


def _database(args: argparse.Namespace) -> ExampleDatabase | None:
    """The databases ``--database`` and ``--read-from`` name (the specs stay on
    ``args``, so a worker process can reopen them)."""
    return open_databases(args.database, args.read_from)


def _fuzz(
    target: Target,
    parameters: dict[str, Any],
    config: FuzzConfig,
    args: argparse.Namespace,
    *,
    show_progress: bool,
) -> FuzzResult:
    reporter = _ProgressLine(enabled=show_progress and sys.stderr.isatty())
    with _GracefulInterrupts() as progress_slot:

        def on_progress(progress: Progress) -> None:
            progress_slot.attach(progress)
            reporter.update(progress)

        result = fuzz_target(
            target,
            parameters,
            config,
            workers=args.workers,
            database=args.database,
            read_from=args.read_from,
            on_progress=on_progress,
        )
    reporter.close()
    return result


def _check_workers(workers: int) -> None:
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")


def _write_reports(
    target: Target, config: FuzzConfig, result: FuzzResult, directory: Path
) -> list[Path]:
    paths = []
    for found in result.failures:
        if found.run.failure is None:
            continue
        report = report_from_run(
            found.run,
            target=target.name,
            seed=config.seed,
            strategy=config.strategy,
            examples_to_failure=result.first_failure_examples,
            seconds_to_failure=result.first_failure_seconds,
        )
        paths.append(write_report(report, directory))
    return paths


def _summary(
    target: Target,
    parameters: dict[str, Any],
    config: FuzzConfig,
    result: FuzzResult,
    paths: list[Path],
    workers: int,
) -> dict[str, Any]:
    failures = []
    for found, path in zip(result.failures, paths, strict=False):
        run = found.run
        assert run.failure is not None
        failures.append(
            {
                "invariant": run.failure.title,
                "kind": run.failure.kind,
                "message": run.failure.message,
                "report": str(path),
                "examples_to_first_failure": result.first_failure_examples,
                "seconds_to_first_failure": result.first_failure_seconds,
                "operations": len(run.operations),
                "non_default_decisions": sum(1 for d in run.decisions if d),
            }
        )
    return {
        "target": target.name,
        "bugs": parameters.get("bugs", []),
        "seed": config.seed,
        "strategy": config.strategy,
        "workers": workers,
        "per_worker": [dataclasses.asdict(w) for w in result.workers],
        "examples": result.examples,
        "seconds": round(result.seconds, 3),
        "interrupted": result.interrupted,
        "budget_exhausted": result.budget_exhausted,
        "failures": failures,
    }


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False)
    bugs = ", ".join(summary["bugs"]) or "none"
    rate = summary["examples"] / max(summary["seconds"], 1e-9)
    console.print(
        f"fuzzed {summary['target']} (bugs: {bugs}): {summary['examples']} examples "
        f"in {summary['seconds']:.1f}s ({rate:.0f}/s), {len(summary['failures'])} failure(s)"
        + (" - interrupted" if summary["interrupted"] else ""),
        markup=False,
    )
    for worker in summary["per_worker"]:
        console.print(
            f"  worker {worker['index']}: {worker['strategy']}, "
            f"seed {'random' if worker['seed'] is None else worker['seed']}, "
            f"{worker['examples']} examples, {worker['failures']} failure(s)",
            markup=False,
        )
    if not summary["failures"]:
        return
    table = Table("invariant", "ops", "surprises", "report")
    for failure in summary["failures"]:
        table.add_row(
            failure["invariant"],
            str(failure["operations"]),
            str(failure["non_default_decisions"]),
            failure["report"],
        )
    console.print(table)
    console.print(
        "open one with: python -m fuzzer show REPORT   (or --html OUT.html)", markup=False
    )


class _ProgressLine:
    """A one-line progress display on a terminal, redrawn at most 4 times a second."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._last = 0.0

    def update(self, progress: Progress) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self._last < 0.25:
            return
        self._last = now
        rate = progress.examples / max(progress.elapsed, 1e-9)
        sys.stderr.write(
            f"\r{progress.examples} examples | {progress.elapsed:.1f}s | {rate:.0f}/s | "
            f"failures: {progress.failing_examples}   "
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


class _ProgressSlot:
    """Lets the signal handler reach the running fuzzer's progress counters."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.stop_pending = False  # a stop asked for before the first example began

    def attach(self, progress: Progress) -> None:
        """Called at every example; a stop asked for earlier reaches the first."""
        if self.progress is None and self.stop_pending:
            progress.stop_requested = True
        self.progress = progress

    def request_stop(self) -> bool:
        """Ask the run to stop after its current example; False if already asked."""
        if self.stop_pending or (self.progress is not None and self.progress.stop_requested):
            return False
        self.stop_pending = True
        if self.progress is not None:
            self.progress.stop_requested = True
        return True


class _GracefulInterrupts:
    """First Ctrl-C / SIGTERM: stop after the current example, keep everything found.

    A second one interrupts at once (KeyboardInterrupt), which the runner also
    handles by replaying what the example database saved.
    """

    def __enter__(self) -> _ProgressSlot:
        self.slot = _ProgressSlot()
        self._previous: dict[int, Any] = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self.slot

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.slot.request_stop():
            raise KeyboardInterrupt()
        print("\nstopping: finishing the current example (Ctrl-C again to abort)", file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


# -- show / replay --------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    report = load_report(Path(args.report))
    get_target(report.target)  # the report must name a registered target
    if args.pytest:
        from fuzzer.render_pytest import render_pytest

        print(render_pytest(report, args.report))
        return EXIT_OK
    if args.html:
        from fuzzer.render_html import render_html

        Path(args.html).write_text(render_html(report), encoding="utf-8")
        print(f"wrote {args.html}")
        return EXIT_OK
    from rich.console import Console

    from fuzzer.render_text import render_text

    render_text(report, Console())
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    report = load_report(Path(args.report))
    target = get_target(report.target)
    parameters = target.parameters(args.bug) if args.bug else report.parameters
    reproduced, message = replay_and_compare(report, target, parameters)
    print(message)
    return EXIT_FAILURES if reproduced else EXIT_OK


def replay_and_compare(
    report: Report, target: Target, parameters: dict[str, Any]
) -> tuple[bool, str]:
    """Replay ``report`` with ``parameters``; (reproduced?, one-line verdict)."""
    from fuzzer.replay import replay_report

    result = replay_report(report, target.machine(parameters))
    expected = report.failure
    if result.reproduces(expected):
        return True, f"reproduced: {expected.title} at step {expected.step}"
    if result.failure is None:
        return (
            False,
            f"not reproduced: the schedule now runs without failure ({expected.title} fixed?)",
        )
    got = result.failure
    return False, (
        f"not reproduced: expected {expected.title} at step {expected.step}, "
        f"got {got.title} at step {got.step}"
    )


# -- ci ---------------------------------------------------------------------------


def cmd_ci(args: argparse.Namespace) -> int:
    from fuzzer.ci import run_ci

    _check_workers(args.workers)
    return run_ci(
        budget=args.budget,
        report_dir=Path(args.report_dir),
        database=_database(args),
        database_specs=(args.database, tuple(args.read_from)),
        junit=Path(args.junit),
        seed=args.seed,
        workers=args.workers,
    )


# -- parser -----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fuzzer",
        description="Property-based race finding for trio programs.",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    _add(sub, "list", cmd_list, "list registered targets and their seeded bugs")
    _add_run(sub)
    show = _add(sub, "show", cmd_show, "render a report in the terminal, as HTML, or as a test")
    show.add_argument("report", help="a report JSON file")
    show.add_argument("--html", metavar="OUT.html", help="write a self-contained HTML page")
    show.add_argument("--pytest", action="store_true", help="print a regression test")
    replay = _add(sub, "replay", cmd_replay, "re-run a report's exact schedule")
    replay.add_argument("report", help="a report JSON file")
    replay.add_argument(
        "--bug", action="append", help="replay with these seeded bugs instead (none: no bugs)"
    )
    ci = _add(sub, "ci", cmd_ci, "the CI fuzz job: replay known failures, fuzz every target")
    ci.add_argument("--budget", type=float, default=300.0, help="seconds in all (default 300)")
    ci.add_argument("--report-dir", default=str(DEFAULT_REPORTS))
    _add_database_options(ci)
    ci.add_argument("--junit", default="fuzz-results.xml", help="JUnit XML summary path")
    ci.add_argument("--seed", type=int, default=None)
    _add_workers_option(ci)
    return parser


def _add(
    sub: Any, name: str, handler: Callable[[argparse.Namespace], int], help_text: str
) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    command.set_defaults(handler=handler)
    return command


def _add_database_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--database",
        metavar="SPEC",
        default=str(DEFAULT_DATABASE),
        help="where failures are saved and replayed from: a directory (default "
        f"{DEFAULT_DATABASE}), redis://HOST:PORT/DB (shared between machines), or none",
    )
    command.add_argument(
        "--read-from",
        metavar="SPEC",
        action="append",
        default=[],
        help="also replay failures from this read-only source, repeatable: a directory, "
        "redis://HOST:PORT/DB, or github:OWNER/REPO[/ARTIFACT_NAME] (the fuzz workflow's "
        "artifact; needs GITHUB_TOKEN)",
    )


def _add_workers_option(command: argparse.ArgumentParser) -> None:
    cores = os.cpu_count() or 1
    command.add_argument(
        "--workers",
        type=int,
        default=cores,
        metavar="N",
        help=f"fuzzing processes sharing the example database (default: cores, {cores}); "
        "with --strategy portfolio each explores with its own strategy",
    )


def _add_run(sub: Any) -> None:
    run = _add(sub, "run", cmd_run, "fuzz a target and write a report per failure")
    run.add_argument("target")
    run.add_argument("--bug", action="append", help="seeded bug id, repeatable; all; none")
    run.add_argument("--budget", type=float, help="wall-clock seconds for the search")
    run.add_argument("--max-examples", type=int, help="examples to try (default 2000)")
    run.add_argument("--seed", type=int, help="fix the random seed (reproducible search)")
    run.add_argument("--strategy", default=DEFAULT_STRATEGY, choices=STRATEGY_NAMES)
    run.add_argument("--report-dir", default=str(DEFAULT_REPORTS))
    _add_database_options(run)
    run.add_argument("--steps", type=int, default=50, help="rules per example (default 50)")
    run.add_argument("--shrink-grace", type=float, default=30.0, help="extra seconds to shrink")
    run.add_argument("--keep-going", action="store_true", help="collect distinct failures")
    run.add_argument("--json", action="store_true", help="last line of stdout: a JSON summary")
    _add_workers_option(run)
