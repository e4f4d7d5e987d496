"""Throw-away user projects for tests that run the fuzzer as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

USER_TARGET = (Path(__file__).parent / "counter_machine.py").read_text()


def user_project(path: Path) -> Path:
    """A project in ``path`` that declares the racy counter as target ``counter``."""
    (path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "user-project"
            version = "0"

            [tool.fuzzer.targets]
            counter = "user_target:TARGET"
            """
        )
    )
    (path / "user_target.py").write_text(USER_TARGET)
    return path


def run_fuzzer(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``python -m fuzzer ARGS`` in ``cwd`` (created if missing), importing from ``cwd``."""
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "fuzzer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(cwd), **(env or {})},
    )


def last_json(output: str) -> dict[str, object]:
    """The JSON summary ``--json`` prints as the last line of stdout."""
    value: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return value
