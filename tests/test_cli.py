"""The command line, run for real in subprocesses: exit codes, JSON, budget,
persistence, interrupts, the CI job, and a user's own target."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.projects import last_json, run_fuzzer, user_project

PYTHON = sys.executable


def test_list_shows_the_limiter_and_its_bugs(tmp_path: Path) -> None:
    result = run_fuzzer("list", cwd=tmp_path)
    assert result.returncode == 0
    assert "limiter:" in result.stdout
    assert "--bug B04  re-entrant drain" in result.stdout


def test_run_finds_a_seeded_bug_writes_a_report_and_exits_1(tmp_path: Path) -> None:
    result = run_fuzzer(
        "run", "limiter", "--bug", "B10", "--seed", "1", "--max-examples", "400", "--workers", "1",
        "--database", "none", "--report-dir", "out", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    summary = last_json(result.stdout)
    assert summary["target"] == "limiter" and summary["bugs"] == ["B10"]
    assert summary["seed"] == 1
    failures = summary["failures"]
    assert isinstance(failures, list) and len(failures) == 1
    failure = failures[0]
    assert failure["invariant"] == "I6 timing contract"
    assert (tmp_path / failure["report"]).is_file()
    assert failure["examples_to_first_failure"] >= 1
    assert failure["operations"] >= 1


def test_run_on_the_correct_limiter_exits_0(tmp_path: Path) -> None:
    result = run_fuzzer(
        "run", "limiter", "--seed", "2", "--max-examples", "150", "--database", "none", "--json",
        "--workers", "1",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = last_json(result.stdout)
    assert summary["failures"] == [] and summary["examples"] >= 150
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "nosuch"], "unknown target 'nosuch'"),
        (["run", "limiter", "--bug", "B99"], "unknown bug B99"),
        (["run", "limiter", "--budget", "-1"], "--budget must be a positive"),
        (["run", "limiter", "--strategy", "magic"], "invalid choice"),
        (["show", "missing.json"], "no such report"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_fuzzer(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_budget_is_kept(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_fuzzer(
        "run", "limiter", "--budget", "3", "--database", "none", "--json", cwd=tmp_path
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    summary = last_json(result.stdout)
    assert summary["budget_exhausted"] is True
    assert elapsed < 3 + 8, f"took {elapsed:.1f}s for a 3s budget"


def test_failures_persist_and_are_replayed_first(tmp_path: Path) -> None:
    args = [
        "run",
        "limiter",
        "--bug",
        "B03",
        "--workers",
        "1",
        "--seed",
        "3",
        "--max-examples",
        "400",
        "--json",
    ]
    first = run_fuzzer(*args, cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    assert (tmp_path / ".fuzzer" / "examples").is_dir()
    again = run_fuzzer(*args[:-3], "--seed", "4", "--max-examples", "400", "--json", cwd=tmp_path)
    assert again.returncode == 1
    failures = last_json(again.stdout)["failures"]
    assert isinstance(failures, list)
    assert failures[0]["examples_to_first_failure"] == 1  # the saved example runs first


@pytest.mark.parametrize(
    ("signum", "workers"), [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGINT, 2)]
)
def test_an_interrupt_stops_quickly_and_keeps_what_was_found(
    tmp_path: Path, signum: signal.Signals, workers: int
) -> None:
    process = subprocess.Popen(
        [PYTHON, "-m", "fuzzer", "run", "limiter", "--bug", "all", "--keep-going",
         "--budget", "120", "--seed", "5", "--workers", str(workers), "--json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    time.sleep(6)
    process.send_signal(signum)
    sent = time.monotonic()
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 20, "did not stop promptly"
    summary = last_json(stdout)
    assert summary["interrupted"] is True or summary["budget_exhausted"] is True, stderr
    assert process.returncode == 1
    failures = summary["failures"]
    assert isinstance(failures, list) and failures
    assert all((tmp_path / f["report"]).is_file() for f in failures)


def test_a_users_own_target_is_listed_fuzzed_reported_and_replayed(tmp_path: Path) -> None:
    project = user_project(tmp_path)
    listed = run_fuzzer("list", cwd=project)
    assert "counter: a racy counter" in listed.stdout
    result = run_fuzzer(
        "run", "counter", "--seed", "1", "--max-examples", "300", "--workers", "1", "--json",
        cwd=project,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    failure = last_json(result.stdout)["failures"][0]  # type: ignore[index]
    assert "lost update" in failure["message"]
    replayed = run_fuzzer("replay", failure["report"], cwd=project)
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    assert "reproduced" in replayed.stdout


def test_ci_job_fuzzes_every_target_writes_junit_and_fails_on_a_new_failure(
    tmp_path: Path,
) -> None:
    project = user_project(tmp_path)
    started = time.monotonic()
    result = run_fuzzer("ci", "--budget", "12", "--seed", "1", "--junit", "junit.xml", cwd=project)
    assert time.monotonic() - started < 12 + 15
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED   fuzz counter" in result.stdout
    assert "PASSED   fuzz limiter" in result.stdout
    junit = (project / "junit.xml").read_text()
    assert 'name="fuzz counter"' in junit and "<failure" in junit
    assert list((project / "reports").glob("counter-*.json"))
    again = run_fuzzer("ci", "--budget", "8", "--seed", "2", cwd=project)
    assert again.returncode == 1
    assert "FAILED   replay counter-" in again.stdout  # the known failure is replayed first


def _valid_report(tmp_path: Path) -> Path:
    result = run_fuzzer(
        "run", "limiter", "--bug", "B10", "--seed", "1", "--max-examples", "300", "--workers", "1",
        "--database", "none", "--report-dir", "out", "--steps", "20", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    report = last_json(result.stdout)["failures"][0]["report"]  # type: ignore[index]
    return tmp_path / str(report)


def test_bad_reports_give_one_line_and_exit_2(tmp_path: Path) -> None:
    good = _valid_report(tmp_path)
    text = good.read_text()
    data = json.loads(text)
    cases = {
        "truncated.json": text[: len(text) // 2],
        "not-json.json": "this is not a report",
        "wrong-version.json": json.dumps({**data, "format_version": 99}),
        "tampered.json": json.dumps({**data, "decisions": [*data["decisions"], 1]}),
        "unknown-target.json": _resealed({**data, "target": "nosuch"}),
    }
    expected = {
        "truncated.json": "not valid JSON",
        "not-json.json": "not valid JSON",
        "wrong-version.json": "unsupported report format_version 99",
        "tampered.json": "checksum mismatch",
        "unknown-target.json": "unknown target 'nosuch'",
    }
    for name, content in cases.items():
        (tmp_path / name).write_text(content)
        for command in ("show", "replay"):
            result = run_fuzzer(command, name, cwd=tmp_path)
            assert result.returncode == 2, (name, command, result.stdout, result.stderr)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and expected[name] in lines[0], (name, command, lines)


def _resealed(data: dict[str, object]) -> str:
    """A report edited and given a matching checksum (a well-formed but foreign report)."""
    from fuzzer.report import _checksum

    data = {k: v for k, v in data.items() if k != "checksum"}
    return json.dumps({**data, "checksum": _checksum(data)})


def test_replay_exit_codes_on_the_seeded_and_the_correct_limiter(tmp_path: Path) -> None:
    report = _valid_report(tmp_path)
    seeded = run_fuzzer("replay", str(report), cwd=tmp_path)
    assert seeded.returncode == 1 and "reproduced" in seeded.stdout
    fixed = run_fuzzer("replay", str(report), "--bug", "none", cwd=tmp_path)
    assert fixed.returncode == 0 and "not reproduced" in fixed.stdout
    shown = run_fuzzer("show", str(report), cwd=tmp_path)
    assert shown.returncode == 0 and "I6 timing contract" in shown.stdout
    html = run_fuzzer("show", str(report), "--html", "r.html", cwd=tmp_path)
    assert html.returncode == 0 and 'id="violation"' in (tmp_path / "r.html").read_text()
