"""``python -m bench --quick`` runs end to end and writes every section's table.

No timing is asserted: the quick run only proves the benchmark still works
against the current fuzzer (CI runs it).  ``--only`` is tested on small fake
documents, with a fake section (nothing is measured).
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import hypothesis.errors
import pytest

import bench.__main__ as bench_main
from bench import find, overhead, peer, scaling, stress, workers
from bench.config import STRATEGIES
from bench.markdown import header_line
from bench.report import section_marker, splice, split_document
from fuzzer.runner import FuzzConfig, fuzz_machine
from targets.limiter_machine import limiter_machine

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
    workers.THROUGHPUT_HEADER,
    workers.FIND_HEADER,
]
TITLES = [find.TITLE, stress.TITLE, overhead.TITLE, scaling.TITLE, peer.TITLE, workers.TITLE]


def test_quick_benchmark_writes_every_table(tmp_path: Path) -> None:
    out = tmp_path / "b.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
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
    for name in bench_main.SECTIONS:
        assert section_marker(name) in text
    assert "Machine at the start: " in text  # the workers section's cores and load


ORDER = list(bench_main.SECTIONS)

# A document as written before section markers existed: sections start at their headings.
LEGACY = f"""# Benchmarks

Produced by `python -m bench` (from the repository root).

- date: 2026-01-01 00:00 UTC

Wall time: 20.0 min in total (find 1,000 s, peer 0 s).

{find.TITLE}

old find table

### a subsection of find

more of find

{peer.TITLE}

old peer table
"""


def _rerun(name: str) -> str:
    return f"- `{name}`: `python -m bench --only {name}`, 1 s."


def test_splice_replaces_one_section_of_a_document_without_markers() -> None:
    new_peer = f"{peer.TITLE}\n\nnew peer table"
    text = splice(LEGACY, "peer", new_peer, _rerun("peer"), ORDER, bench_main.TITLES)
    assert "old peer table" not in text
    assert "new peer table" in text
    assert "old find table" in text and "more of find" in text  # find kept, subsection too
    assert text.index(section_marker("find")) < text.index(find.TITLE)
    assert text.index(section_marker("peer")) < text.index(peer.TITLE) < text.index("new peer")
    assert text.count(peer.TITLE) == 1
    # the facts of the run that wrote the document stay; the re-run is recorded
    assert "Produced by `python -m bench` (from the repository root)." in text
    assert "- date: 2026-01-01 00:00 UTC" in text
    assert text.index("Wall time:") < text.index(_rerun("peer")) < text.index(find.TITLE)


def test_splice_adds_a_missing_section_in_order_and_replaces_it_again() -> None:
    first = splice(
        LEGACY, "workers", f"{workers.TITLE}\n\nfirst", _rerun("workers"), ORDER, bench_main.TITLES
    )
    assert first.index(peer.TITLE) < first.index(section_marker("workers")) < first.index("first")
    stress_text = f"{stress.TITLE}\n\nstress table"
    second = splice(first, "stress", stress_text, _rerun("stress"), ORDER, bench_main.TITLES)
    assert second.index("more of find") < second.index("stress table") < second.index(peer.TITLE)
    third = splice(
        second,
        "workers",
        f"{workers.TITLE}\n\nsecond",
        "- `workers`: again",
        ORDER,
        bench_main.TITLES,
    )
    assert "first" not in third and third.count(workers.TITLE) == 1
    assert third.endswith("second\n")
    assert _rerun("workers") not in third
    assert third.count("- `workers`: again") == 1 and _rerun("stress") in third
    _, blocks = split_document(third, bench_main.TITLES)
    assert [b.name for b in blocks] == ["find", "stress", "peer", "workers"]


def test_only_replaces_its_section_of_the_existing_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text(LEGACY, encoding="utf-8")
    monkeypatch.setitem(bench_main.SECTIONS, "peer", lambda session: f"{peer.TITLE}\n\nfresh")
    assert bench_main.main(["--quick", "--only", "peer", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "old find table" in text and "fresh" in text and "old peer table" not in text
    assert "- `peer`: `python -m bench --quick --only peer --out " in text
    assert text.startswith("# Benchmarks\n\nProduced by `python -m bench` (from")

    fresh = tmp_path / "new.md"  # no file yet: a document with just that section
    assert bench_main.main(["--quick", "--only", "peer", "--out", str(fresh)]) == 0
    written = fresh.read_text(encoding="utf-8")
    assert "`python -m bench --quick --only peer --out " in written
    assert "fresh" in written and find.TITLE not in written


HYPOTHESIS_EXCEPTIONS = frozenset(
    name
    for name, cls in inspect.getmembers(hypothesis.errors, inspect.isclass)
    if issubclass(cls, BaseException)
)


def test_the_runner_counts_only_failures_hypothesis_reports() -> None:
    # Before the runner ignored discarded examples, an overrun at example 3 was
    # counted as B11's first failure on this seed (the genuine one came at 47).
    # The machine below counts on its own: the first example whose failure is
    # not one of Hypothesis's control-flow exceptions.
    examples = 0
    genuine_at: list[int] = []
    base = limiter_machine(frozenset({"B11"}))

    class Watched(base):  # type: ignore[valid-type, misc]
        def __init__(self) -> None:
            nonlocal examples
            examples += 1
            super().__init__()

        def teardown(self) -> None:
            try:
                super().teardown()
            finally:
                failure = self.world.failure
                if failure is not None and failure.title not in HYPOTHESIS_EXCEPTIONS:
                    genuine_at.append(examples)

    config = FuzzConfig(
        max_examples=20_000, budget_seconds=60, shrink_grace_seconds=1, seed=0, shrink=False
    )
    result = fuzz_machine(Watched, config)
    assert result.failures and genuine_at
    assert result.first_failure_examples == genuine_at[0]
