"""``python -m bench --quick`` runs end to end and writes every section's table.

No timing is asserted: the quick run only proves the benchmark still works
against the current fuzzer (CI runs it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import find, overhead, peer, scaling, stress
from bench.config import STRATEGIES
from bench.markdown import header_line

ROOT = Path(__file__).resolve().parent.parent

HEADERS = [
    find.HEADER,
    find.summary_header(STRATEGIES),
    find.SHRINK_HEADER,
    stress.HEADER,
    overhead.HEADER,
    overhead.RATIO_HEADER,
    scaling.HEADER,
    scaling.PROGRAM_HEADER,
    peer.HEADER,
]
TITLES = [find.TITLE, stress.TITLE, overhead.TITLE, scaling.TITLE, peer.TITLE]


def test_quick_benchmark_writes_every_table(tmp_path: Path) -> None:
    out = tmp_path / "b.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks")
    assert "`python -m bench --quick --out " in text
    for title in TITLES:
        assert title in text
    for header in HEADERS:
        assert header_line(header) in text, header
    assert header_line(stress.HEADER) in done.stdout
