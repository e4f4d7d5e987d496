#!/usr/bin/env python3
"""Set up the project's virtual environment and run its two jobs.

    python3 dev.py fuzz   # set up, then fuzz the seeded limiter and write reports/
    python3 dev.py test   # set up, then ruff, mypy and the whole pytest suite

Only the standard library is used here, so this works on a fresh machine with
nothing but Python 3.11 and the package registries.  The environment lives in
`.venv/` and is reused; it is reinstalled only when `pyproject.toml` or
`constraints.txt` changes (the stamp file records the hash of what was installed).
`constraints.txt` pins the one Hypothesis version CI and every laptop use, so a
shared example database is readable everywhere.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = ROOT / ".dev-stamp"
PYTHON = VENV / "bin" / "python"


def _run(*argv: str | Path) -> int:
    print("+", " ".join(str(a) for a in argv), flush=True)
    return subprocess.call([str(a) for a in argv], cwd=ROOT)


def setup() -> None:
    """Create `.venv` if missing and install the project into it when needed."""
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes()
    ).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print(f"+ creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    steps = [
        (PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"),
        (PYTHON, "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt",
         "-e", f"{ROOT}[test]"),
    ]  # fmt: skip
    for step in steps:
        if _run(*step) != 0:
            sys.exit(f"setup failed at: {' '.join(map(str, step))}")
    STAMP.write_text(wanted)


def fuzz(extra: list[str]) -> int:
    """The main job: fuzz the seeded limiter with every bug on, write reports.

    Finding failures is the point here (the bugs are seeded), so the fuzzer's
    exit code 1 ("failures found") is success; finding nothing is a failure.
    """
    command = [
        PYTHON, "-m", "fuzzer", "run", "limiter", "--bug", "all", "--keep-going",
        "--budget", "60", "--report-dir", "reports", *extra,
    ]  # fmt: skip
    code = _run(*command)
    if code == 2:
        return 2
    if code == 0:
        print("no failure found: the seeded bugs should have been found", file=sys.stderr)
        return 1
    print(
        "\nReports are in reports/. Open one with:\n"
        "  .venv/bin/python -m fuzzer show reports/FILE.json              # terminal\n"
        "  .venv/bin/python -m fuzzer show reports/FILE.json --html r.html  # browser\n"
        "  .venv/bin/python -m fuzzer replay reports/FILE.json            # replay exactly"
    )
    return 0


def test(extra: list[str]) -> int:
    """Lint, type-check, then run the whole test suite."""
    for check in (
        (PYTHON, "-m", "ruff", "check", "."),
        (PYTHON, "-m", "ruff", "format", "--check", "."),
        (PYTHON, "-m", "mypy"),
    ):
        if _run(*check) != 0:
            return 1
    return _run(PYTHON, "-m", "pytest", *extra)


def main() -> int:
    jobs = {"fuzz": fuzz, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in jobs:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    setup()
    return jobs[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
