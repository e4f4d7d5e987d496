"""Parallel fuzzing: how a job is split into workers, how their results merge,
and real multi-process runs of the command line and of pytest-xdist."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from fuzzer.failures import FailureInfo
from fuzzer.machine import FinalRun
from fuzzer.parallel import SEED_STRIDE, WORKER_STRATEGIES, _merge, _WorkerOutcome, worker_jobs
from fuzzer.runner import FoundFailure, FuzzConfig, FuzzResult, Progress
from fuzzer.trace import Trace
from tests.projects import last_json, run_fuzzer

COUNTER = (Path(__file__).parent / "counter_machine.py").read_text()


# -- splitting and merging ---------------------------------------------------------


def test_portfolio_gives_each_worker_its_own_strategy_seed_and_share() -> None:
    config = FuzzConfig(max_examples=1001, seed=7, strategy="portfolio", budget_seconds=30)
    jobs = worker_jobs("limiter", {"bugs": ["B01"]}, config, workers=5, database="db")
    assert [job.config.strategy for job in jobs] == [*WORKER_STRATEGIES, WORKER_STRATEGIES[0]]
    assert [job.config.seed for job in jobs] == [7 + i * SEED_STRIDE for i in range(5)]
    assert all(job.config.max_examples == 201 for job in jobs)  # 1001 / 5, rounded up
    assert all(job.config.database is None and job.database == "db" for job in jobs)
    assert len({job.deadline for job in jobs}) == 1  # one wall-clock deadline for all


def test_a_named_strategy_is_kept_by_every_worker_and_one_worker_keeps_the_portfolio() -> None:
    pct = worker_jobs("t", {}, FuzzConfig(strategy="pct"), workers=3, database="none")
    assert {job.config.strategy for job in pct} == {"pct"}
    alone = worker_jobs("t", {}, FuzzConfig(), workers=1, database="none")
    assert alone[0].config.strategy == "portfolio" and alone[0].config.seed is None
    with pytest.raises(ValueError, match="at least 1"):
        worker_jobs("t", {}, FuzzConfig(), workers=0, database="none")


def _found(title: str, location: str, length: int) -> FoundFailure:
    failure = FailureInfo(kind="invariant", title=title, message="m", step=1, location=location)
    run = FinalRun("M", {}, [0] * length, [], Trace(), failure, "policy")
    return FoundFailure(run)


def _outcome(index: int, failures: list[FoundFailure], first: float | None) -> _WorkerOutcome:
    result = FuzzResult(
        examples=100,
        seconds=5.0,
        failures=failures,
        first_failure_examples=None if first is None else 10 + index,
        first_failure_seconds=first,
        budget_exhausted=first is None,
        seed=index,
    )
    return _WorkerOutcome(index, WORKER_STRATEGIES[index], started=0.0, result=result)


def test_merging_keeps_one_failure_per_signature_the_smallest_and_the_earliest_first() -> None:
    outcomes = [
        _outcome(0, [_found("I1", "a.py:1", 9), _found("I3", "a.py:2", 4)], first=2.0),
        _outcome(1, [_found("I1", "a.py:1", 5)], first=1.0),
        _outcome(2, [], first=None),
    ]
    merged = _merge(outcomes, Progress())
    sizes = {f.run.failure.title: len(f.run.choices) for f in merged.failures if f.run.failure}
    assert sizes == {"I1": 5, "I3": 4}
    assert merged.examples == 300
    assert merged.first_failure_examples == 11  # worker 1 failed first (its own count)
    assert not merged.budget_exhausted  # only worker 2 ran out of budget
    assert [w.strategy for w in merged.workers] == list(WORKER_STRATEGIES[:3])


# -- real runs ---------------------------------------------------------------------


def test_two_workers_find_a_bug_share_the_work_and_report_it_once(tmp_path: Path) -> None:
    result = run_fuzzer(
        "run", "limiter", "--bug", "B10", "--seed", "1", "--max-examples", "600",
        "--workers", "2", "--database", "none", "--json", "--report-dir", "out",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    summary = last_json(result.stdout)
    assert summary["workers"] == 2
    per_worker = summary["per_worker"]
    assert isinstance(per_worker, list)
    assert [w["strategy"] for w in per_worker] == list(WORKER_STRATEGIES[:2])
    assert all(w["examples"] >= 1 for w in per_worker)  # both really ran
    assert summary["examples"] == sum(w["examples"] for w in per_worker)
    failures = summary["failures"]
    assert isinstance(failures, list) and len(failures) == 1
    assert failures[0]["invariant"] == "I6 timing contract"
    assert len(list((tmp_path / "out").glob("*.json"))) == 1


def test_workers_with_keep_going_merge_distinct_failures(tmp_path: Path) -> None:
    result = run_fuzzer(
        "run", "limiter", "--bug", "all", "--keep-going", "--budget", "12", "--shrink-grace", "5",
        "--seed", "3", "--workers", "2", "--database", "db", "--json", "--report-dir", "out",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    failures = last_json(result.stdout)["failures"]
    assert isinstance(failures, list) and len(failures) >= 3
    reports = [json.loads(Path(tmp_path / f["report"]).read_text()) for f in failures]
    signatures = [
        (r["failure"]["kind"], r["failure"]["title"], r["failure"]["location"]) for r in reports
    ]
    assert len(set(signatures)) == len(signatures)  # no failure reported twice


def test_a_crashing_worker_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fuzzer.targets]\nbroken = "broken:TARGET"\n')
    (tmp_path / "broken.py").write_text(
        textwrap.dedent(
            """
            import multiprocessing
            from fuzzer.registry import Target
            from counter_machine import CounterMachine

            def build(parameters):
                if multiprocessing.parent_process() is not None:
                    raise RuntimeError("this target cannot be built in a worker")
                return CounterMachine

            TARGET = Target("broken", "fails in workers", build=build)
            """
        )
    )
    (tmp_path / "counter_machine.py").write_text(COUNTER)
    result = run_fuzzer("run", "broken", "--workers", "2", "--max-examples", "10", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "worker 0 crashed" in lines[0] and "cannot be built in a worker" in lines[0]


def test_pytest_xdist_runs_fuzz_tests_in_parallel_with_the_plugins_reports(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_counter=COUNTER
        + "\nTestRacyCounter = CounterMachine.TestCase\n"
        + "TestSafeCounter = SafeCounterMachine.TestCase\n"
    )
    result = pytester.runpytest_subprocess(
        "-n", "2", "--fuzz-profile", "dev", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*2 workers*", "*fuzzer: shrunk failure*", "*lost update*"])
    assert len(list((pytester.path / "reports").glob("*.json"))) == 1
