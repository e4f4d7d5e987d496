"""The CI fuzz job: replay every known failure, then fuzz every registered target.

Known failures come from two places: the example database (Hypothesis replays
its saved failing examples first, in every run) and the report directory (each
report of a target's default configuration is replayed exactly).  Reports made
with seeded bugs switched on are demonstrations, not regressions, and are
listed as skipped.  The remaining budget is split evenly between targets; each
target's share covers generating (80%) and shrinking (20%) so the job ends on
time.  Results go to stdout and to a JUnit XML file CI systems understand.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from hypothesis.database import ExampleDatabase

from fuzzer.parallel import fuzz_target
from fuzzer.registry import Target, discover
from fuzzer.report import ReportError, load_report, report_from_run, write_report
from fuzzer.runner import FuzzConfig

EXIT_OK, EXIT_FAILURES = 0, 1


@dataclass
class Case:
    """One line of the CI summary and one JUnit test case."""

    name: str
    outcome: str  # "passed" | "failed" | "skipped" | "error"
    message: str
    seconds: float = 0.0


def run_ci(
    *,
    budget: float,
    report_dir: Path,
    database: ExampleDatabase | None,
    database_specs: tuple[str, tuple[str, ...]] = ("none", ()),
    junit: Path,
    seed: int | None,
    workers: int = 1,
) -> int:
    """Replay known failures, then fuzz every target; ``database`` is opened from
    ``database_specs`` (the ``--database`` and ``--read-from`` values), which
    worker processes reopen."""
    started = time.perf_counter()
    targets = discover()
    cases = _replay_known(report_dir, targets)
    remaining = max(budget - (time.perf_counter() - started), 1.0)
    share = remaining / max(len(targets), 1)
    for target in targets.values():
        config = FuzzConfig(
            max_examples=10**9,
            budget_seconds=share * 0.8,
            shrink_grace_seconds=share * 0.2,
            seed=seed,
            database=database,
        )
        cases.append(_fuzz_target(target, config, report_dir, database_specs, workers))
    _write_junit(cases, junit)
    for case in cases:
        print(f"{case.outcome.upper():8} {case.name}: {case.message}")
    failed = [c for c in cases if c.outcome in ("failed", "error")]
    print(f"{len(cases)} checks, {len(failed)} failed, in {time.perf_counter() - started:.1f}s")
    return EXIT_FAILURES if failed else EXIT_OK


def _replay_known(report_dir: Path, targets: dict[str, Target]) -> list[Case]:
    from fuzzer.cli import replay_and_compare

    cases = []
    for path in sorted(report_dir.glob("*.json")):
        started = time.perf_counter()
        name = f"replay {path.name}"
        try:
            report = load_report(path)
        except ReportError as error:
            cases.append(Case(name, "error", str(error)))
            continue
        target = targets.get(report.target)
        if target is None:
            cases.append(Case(name, "error", f"unknown target {report.target!r}"))
            continue
        if report.parameters.get("bugs"):
            bugs = ", ".join(report.parameters["bugs"])
            cases.append(Case(name, "skipped", f"made with seeded bugs {bugs} (a demonstration)"))
            continue
        reproduced, message = replay_and_compare(report, target, report.parameters)
        outcome = "failed" if reproduced else "passed"
        cases.append(Case(name, outcome, message, time.perf_counter() - started))
    return cases


def _fuzz_target(
    target: Target,
    config: FuzzConfig,
    report_dir: Path,
    database_specs: tuple[str, tuple[str, ...]],
    workers: int,
) -> Case:
    parameters = target.parameters([])
    database, read_from = database_specs
    result = fuzz_target(
        target, parameters, config, workers=workers, database=database, read_from=read_from
    )
    name = f"fuzz {target.name}"
    if not result.failures:
        message = f"{result.examples} examples, no failure"
        return Case(name, "passed", message, result.seconds)
    paths = []
    for found in result.failures:
        if found.run.failure is not None:
            report = report_from_run(
                found.run,
                target=target.name,
                seed=config.seed,
                strategy=config.strategy,
                examples_to_failure=result.first_failure_examples,
                seconds_to_failure=result.first_failure_seconds,
            )
            paths.append(str(write_report(report, report_dir)))
    return Case(name, "failed", f"failures, reports: {', '.join(paths)}", result.seconds)


def _write_junit(cases: list[Case], path: Path) -> None:
    failures = sum(c.outcome == "failed" for c in cases)
    errors = sum(c.outcome == "error" for c in cases)
    skipped = sum(c.outcome == "skipped" for c in cases)
    suite = ET.Element(
        "testsuite",
        name="fuzz",
        tests=str(len(cases)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
    )
    for case in cases:
        element = ET.SubElement(
            suite, "testcase", classname="fuzz", name=case.name, time=f"{case.seconds:.3f}"
        )
        if case.outcome in ("failed", "error", "skipped"):
            tag = {"failed": "failure", "error": "error", "skipped": "skipped"}[case.outcome]
            ET.SubElement(element, tag, message=case.message)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
