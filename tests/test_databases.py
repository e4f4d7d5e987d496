"""One shared memory of failures: real fuzzing processes, a real Redis server, and a
stand-in for the CI artifact, on this machine only (no network)."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fuzzer.databases import ARTIFACT_NAME, REDIS_KEY_PREFIX
from tests.projects import run_fuzzer, user_project

# One worker process each: a single deterministic search per run.
SEEDED = ["run", "limiter", "--bug", "B03", "--max-examples", "400", "--workers", "1", "--json"]
# One example under seed 2 does not meet B03: only a database can make it fail.
ONE_EXAMPLE = ["run", "limiter", "--bug", "B03", "--seed", "2", "--max-examples", "1"]
ONE_EXAMPLE += ["--workers", "1", "--json"]


def summary_failures(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    import json

    failures: list[dict[str, object]] = json.loads(result.stdout.strip().splitlines()[-1])[
        "failures"
    ]
    return failures


# -- a throw-away Redis server ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[int]:
    """A real ``redis-server`` on a free loopback port, nothing persisted; its port."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run tools/ensure_redis.sh (it uses apt-get)")
    workdir = tmp_path / "redis"
    workdir.mkdir()
    port = _free_port()
    log = (workdir / "log").open("w")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(workdir)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start: {(workdir / 'log').read_text()}")
                time.sleep(0.05)
        client.close()
        yield port
    finally:
        server.kill()
        server.wait(timeout=10)
        log.close()


# -- two machines, one database ----------------------------------------------------------


@pytest.fixture(params=["redis", "directory"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(a database spec both machines use, an empty database of the same kind)."""
    if request.param == "redis":
        port = request.getfixturevalue("redis_server")
        return f"redis://127.0.0.1:{port}/0", f"redis://127.0.0.1:{port}/1"
    return str(tmp_path / "shared"), str(tmp_path / "empty")


def test_a_failure_found_on_one_machine_is_replayed_first_on_another(
    tmp_path: Path, shared: tuple[str, str]
) -> None:
    spec, empty = shared
    first = run_fuzzer(
        *SEEDED, "--seed", "1", "--database", spec, "--report-dir", "reports",
        cwd=tmp_path / "machine-a",
    )  # fmt: skip
    assert first.returncode == 1, first.stderr
    found = summary_failures(first)[0]

    second = run_fuzzer(*ONE_EXAMPLE, "--database", spec, cwd=tmp_path / "machine-b")
    assert second.returncode == 1, second.stderr
    replayed = summary_failures(second)[0]
    assert replayed["examples_to_first_failure"] == 1
    assert replayed["invariant"] == found["invariant"]

    control = run_fuzzer(*ONE_EXAMPLE, "--database", empty, cwd=tmp_path / "machine-c")
    assert control.returncode == 0, control.stdout + control.stderr
    assert summary_failures(control) == []

    if spec.startswith("redis://"):
        import redis

        client = redis.Redis.from_url(spec)
        keys = client.keys("*")
        client.close()
        assert keys and all(key.startswith(REDIS_KEY_PREFIX) for key in keys)


# -- CI to laptop ------------------------------------------------------------------------------


def upload_artifact(database: Path, laptop: Path) -> Path:
    """Zip ``database`` as actions/upload-artifact does (its files at the zip root), into
    the laptop's download cache under a fresh timestamp, as if just downloaded."""
    cache = laptop / ".hypothesis" / "github-artifacts" / ARTIFACT_NAME
    cache.mkdir(parents=True)
    timestamp = datetime.now(UTC).isoformat().replace(":", "_")
    artifact = cache / f"{timestamp}.zip"
    with zipfile.ZipFile(artifact, "w") as archive:
        for path in sorted(database.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(database).as_posix())
    return artifact


def test_a_laptop_replays_what_ci_found_from_the_artifact_without_writing_to_it(
    tmp_path: Path,
) -> None:
    ci = tmp_path / "ci"
    found = run_fuzzer(*SEEDED, "--seed", "1", "--database", "ci-examples", cwd=ci)
    assert found.returncode == 1, found.stderr
    laptop = tmp_path / "laptop"
    artifact = upload_artifact(ci / "ci-examples", laptop)
    before = hashlib.sha256(artifact.read_bytes()).hexdigest()
    offline = {
        "GITHUB_TOKEN": "bogus-token",  # never sent: the cached artifact is fresh
        "https_proxy": "http://127.0.0.1:9",  # and any attempt to fetch fails at once
        "HYPOTHESIS_STORAGE_DIRECTORY": str(laptop / ".hypothesis"),
    }

    replayed = run_fuzzer(
        *ONE_EXAMPLE, "--database", "local", "--read-from", "github:owner/repo",
        cwd=laptop, env=offline,
    )  # fmt: skip
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    assert summary_failures(replayed)[0]["examples_to_first_failure"] == 1
    assert "Warning" not in replayed.stderr, replayed.stderr
    assert list(artifact.parent.iterdir()) == [artifact]
    assert hashlib.sha256(artifact.read_bytes()).hexdigest() == before
    assert any((laptop / "local").rglob("*")), "the laptop keeps the failure locally"


# -- bad specs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "spec", "message"),
    [
        ("--database", "redis://127.0.0.1:{closed}/0", "cannot use the Redis database"),
        ("--read-from", "redis://127.0.0.1:{closed}/0", "Connection refused"),
        ("--read-from", "github:owner-only", "expected github:OWNER/REPO"),
        ("--database", "github:owner/repo", "is read-only"),
        ("--database", "http://example.com/db", "unsupported database"),
    ],
)
def test_a_bad_database_spec_is_one_line_and_exit_2(
    tmp_path: Path, option: str, spec: str, message: str
) -> None:
    spec = spec.format(closed=_free_port())  # nothing listens there
    result = run_fuzzer("run", "limiter", option, spec, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "reports").exists()


# -- pytest replays what the command line found -------------------------------------------------


def test_pytest_replays_a_failure_the_command_line_found(pytester: pytest.Pytester) -> None:
    project = user_project(pytester.path)
    found = run_fuzzer(
        "run", "counter", "--seed", "1", "--max-examples", "300", "--workers", "1", "--json",
        "--database", "ci-examples",
        cwd=project, env={"PYTHONPATH": str(project)},
    )  # fmt: skip
    assert found.returncode == 1, found.stderr
    # Replay only: the test fails only if a database delivers the failing example.
    pytester.makeconftest(
        """
        from hypothesis import Phase, settings

        settings.register_profile(
            "replay-only", phases=[Phase.explicit, Phase.reuse], database=None, deadline=None
        )
        settings.load_profile("replay-only")
        """
    )
    pytester.makepyfile(
        test_counter="from user_target import CounterMachine\nTestCounter = CounterMachine.TestCase\n"
    )

    control = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    control.assert_outcomes(skipped=1)  # Hypothesis: nothing to replay, no example run

    replayed = pytester.runpytest_subprocess(
        "--fuzz-read-from", "ci-examples", "--fuzz-profile", "dev", "-p", "no:cacheprovider"
    )
    replayed.assert_outcomes(failed=1)
    replayed.stdout.fnmatch_lines(["*lost update*"])

    (project / "pytest.ini").write_text("[pytest]\nfuzz_read_from =\n    ci-examples\n")
    from_ini = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    from_ini.assert_outcomes(failed=1)


def test_pytest_reports_a_bad_database_spec_as_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--fuzz-database", f"redis://127.0.0.1:{_free_port()}/0", "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: cannot use the Redis database*Connection refused*"])
    assert "Traceback" not in result.stderr.str()
