"""pytest integration: fuzz machines are ordinary tests; failures come with a timeline.

Registered through the ``pytest11`` entry point, so it is active wherever the
package is installed.  It adds:

``--fuzz-profile {dev,ci,deep}``
    Hypothesis settings profiles for fuzz tests: ``dev`` quick (deterministic),
    ``ci`` longer (deterministic), ``deep`` long and random.
``--fuzz-budget SECONDS``
    a wall-clock budget per test: once spent, a machine starts no new example
    and the test ends as passed with what it ran (failures found before the
    budget ran out are reported as usual).
``--fuzz-report-dir DIR``
    where reports of failing fuzz tests are written (default ``reports``).
``--fuzz-database SPEC``, ``--fuzz-read-from SPEC`` (repeatable)
    the example database failures are saved to, and read-only sources they
    are also replayed from, named as for ``python -m fuzzer run``
    (:mod:`fuzzer.databases`): e.g. ``redis://HOST:PORT/DB`` or
    ``github:OWNER/REPO``.  Set once for a project with the ini options
    ``fuzz_database`` and ``fuzz_read_from`` (a list); the command line wins.
    Without ``--fuzz-database`` the loaded profile's database stays the primary.
    The settings profile loaded (``--fuzz-profile``, ``--hypothesis-profile``
    or a conftest's) is kept, with only its database replaced.

When a test that ran a :class:`~fuzzer.machine.TrioStateMachine` fails, the
report of the shrunk failure is written and its short timeline is shown in the
test's failure output, with the path to the report.
"""

from __future__ import annotations

import io
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from fuzzer import machine
from fuzzer.databases import DatabaseError, open_databases, with_sources
from fuzzer.report import report_from_run, write_report

PROFILES: dict[str, dict[str, Any]] = {
    "dev": {"max_examples": 50, "stateful_step_count": 10, "derandomize": True},
    "ci": {"max_examples": 500, "stateful_step_count": 20, "derandomize": True},
    "deep": {"max_examples": 20_000, "stateful_step_count": 30, "derandomize": False},
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fuzzer", "race fuzzing of trio code")
    group.addoption("--fuzz-profile", choices=sorted(PROFILES), help="fuzz settings profile")
    group.addoption("--fuzz-budget", type=float, help="wall-clock seconds per fuzz test")
    group.addoption("--fuzz-report-dir", default="reports", help="where failure reports go")
    group.addoption(
        "--fuzz-database",
        metavar="SPEC",
        help="example database to save failures to: a directory, redis://HOST:PORT/DB, or none",
    )
    group.addoption(
        "--fuzz-read-from",
        metavar="SPEC",
        action="append",
        default=[],
        help="also replay failures from this read-only source, repeatable: a directory, "
        "redis://HOST:PORT/DB, or github:OWNER/REPO[/ARTIFACT_NAME]",
    )
    parser.addini("fuzz_database", "default for --fuzz-database", default=None)
    parser.addini("fuzz_read_from", "default for --fuzz-read-from", type="linelist", default=[])


@pytest.hookimpl(trylast=True)  # after Hypothesis's own plugin loads --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    for name, values in PROFILES.items():
        settings.register_profile(
            f"fuzz-{name}",
            deadline=None,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
            **values,
        )
    profile = config.getoption("--fuzz-profile")
    if profile:
        settings.load_profile(f"fuzz-{profile}")
    _load_databases(config)


def _load_databases(config: pytest.Config) -> None:
    """Load a profile like the current one, with the databases the options name."""
    spec: str | None = config.getoption("--fuzz-database") or config.getini("fuzz_database")
    read_from: list[str] = config.getoption("--fuzz-read-from") or config.getini("fuzz_read_from")
    if not spec and not read_from:
        return
    current = settings.default
    assert current is not None  # a profile is always loaded
    try:
        if spec:
            database = open_databases(spec, read_from)
        else:
            database = with_sources(current.database, read_from)
    except DatabaseError as error:
        raise pytest.UsageError(str(error)) from None
    name = f"{settings.get_current_profile_name()}-with-fuzz-database"
    settings.register_profile(name, parent=current, database=database)
    settings.load_profile(name)


def pytest_runtest_setup(item: pytest.Item) -> None:
    machine.recent_final_runs.clear()
    budget = item.config.getoption("--fuzz-budget")
    machine.example_deadline = None if budget is None else time.perf_counter() + budget


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        yield
    except machine.ExampleBudgetSpent:
        return  # the budget ran out before any failure: the test passes


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    result: pytest.TestReport = outcome.get_result()
    if call.when != "call" or not result.failed:
        return
    directory = Path(item.config.getoption("--fuzz-report-dir"))
    for run in machine.recent_final_runs:
        if run.failure is not None:
            result.sections.append(("fuzzer: shrunk failure", _show(run, directory)))


def _show(run: machine.FinalRun, directory: Path) -> str:
    from rich.console import Console

    from fuzzer.render_text import render_text

    report = report_from_run(
        run,
        target=run.target or run.machine,
        seed=None,
        strategy=None,
        examples_to_failure=None,
        seconds_to_failure=None,
    )
    path = write_report(report, directory)
    buffer = io.StringIO()
    render_text(report, Console(file=buffer, width=120, force_terminal=False))
    return f"{buffer.getvalue()}\nreport: {path}\nopen it: python -m fuzzer show {path} --html out.html"
