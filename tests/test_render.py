"""Rendering reports: terminal text, self-contained HTML, pytest regression snippets.

Uses a real report kept as a fixture (``tests/data/sample-report.json``: B04 on
the seeded limiter), a report fuzzed afresh for replaying, and reports built here
with hostile strings everywhere the code under test controls text.  The browser
test opens the HTML in headless Chromium (installed by
``tools/ensure_chromium.sh`` when missing) and fails, never skips, without it.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fuzzer.failures import FailureInfo
from fuzzer.render_html import render_html
from fuzzer.render_pytest import regression_test_name, render_pytest
from fuzzer.render_text import MAX_ROWS, deviations, render_text_to_str
from fuzzer.report import Report, encode_choices, load_report
from fuzzer.trace import Trace, TraceEntry

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "sample-report.json"
ENSURE_CHROMIUM = ROOT / "tools" / "ensure_chromium.sh"
CHROMIUM = Path("/usr/bin/chromium")

SCRIPT = "<script>alert(1)</script>"
MARKUP = "[bold red]x[/]"
QUOTES = 'it\'s "quoted" \'\'\'triple\'\'\' """too""" `tick`'
NEWLINES = "line one\nline two\r\n\x1b[31mred\x1b[0m"
URL = "https://evil.example/x.js"


# ----------------------------------------------------------------------------- reports


@pytest.fixture(scope="module")
def sample() -> Report:
    return load_report(SAMPLE)


def _step(step: int, task: int, name: str, **fields: Any) -> TraceEntry:
    return TraceEntry("step", step, fields.pop("time", 0.0), task, name, **fields)


def hostile_report() -> Report:
    """A report whose every piece of text from the code under test is hostile."""
    evil_task = SCRIPT
    other_task = MARKUP + "\n" + QUOTES
    state_a = {MARKUP: SCRIPT, "queue": [QUOTES, NEWLINES], "n": 0}
    state_b = {MARKUP: SCRIPT, "queue": [], "n": -1}
    entries = [
        TraceEntry("spawn", 1, 0.0, 1, evil_task, label=f"{MARKUP} {QUOTES} {URL}"),
        TraceEntry("spawn", 1, 0.0, 2, other_task, label=SCRIPT),
        TraceEntry("call", 1, 0.0, 0, "driver", label=NEWLINES),
        _step(1, 1, evil_task, choice=0, candidates=2, resumed_from="start",
              suspended_at=f"{SCRIPT}/{MARKUP}.py:7", state=state_a),
        _step(2, 2, other_task, choice=1, candidates=2, resumed_from="start",
              suspended_at=f"{QUOTES}.py:9", state=state_a),
        TraceEntry("time", 3, 2.5, label="time -> 2.5"),
        TraceEntry("note", 3, 2.5, label=SCRIPT + NEWLINES),
        _step(3, 2, other_task, time=2.5, candidates=1, resumed_from=f"{QUOTES}.py:9",
              suspended_at="exited", state=state_b),
    ]  # fmt: skip
    failure = FailureInfo(
        kind="invariant",
        title=MARKUP + SCRIPT,
        message=f"{SCRIPT} {MARKUP} {QUOTES} {NEWLINES}",
        step=3,
        task=other_task,
        location=f"{SCRIPT}.py:1",
        traceback=f"Traceback:\n  {SCRIPT}\n  {MARKUP}\nBoom: {QUOTES}\n",
    )
    return Report(
        target=f"lim'iter\"{SCRIPT}",
        parameters={"bugs": [MARKUP, SCRIPT], QUOTES: NEWLINES},
        choices=[0, 1, True, 2.5, QUOTES + NEWLINES, b"\x00<"],
        decisions=[0, 1],
        operations=[f"{MARKUP} {QUOTES}", SCRIPT, NEWLINES],
        trace=Trace(entries),
        failure=failure,
        seed=7,
        strategy=SCRIPT,
        policy=MARKUP,
        versions={"python": SCRIPT},
    )


def long_report(steps: int = 300) -> Report:
    """Many steps of two tasks, one preemption in the middle, failing near the end."""
    entries = [TraceEntry("spawn", 1, 0.0, 1, "a", label="run a()")]
    entries.append(TraceEntry("spawn", 1, 0.0, 2, "b", label="run b()"))
    for step in range(1, steps + 1):
        choice = 1 if step == steps // 2 else 0
        entries.append(
            _step(step, 1 + step % 2, "ab"[step % 2], choice=choice, candidates=2,
                  resumed_from="x.py:1", suspended_at="x.py:2", state={"n": step})
        )  # fmt: skip
    failure = FailureInfo("exception", "ValueError", "boom", steps - 3, "b", "x.py:3")
    return Report("long", {}, [0], [0, 1], ["run a()", "run b()"], Trace(entries), failure)


def deadlock_report() -> Report:
    """Two tasks wait for each other: the failure is at no step, both are blocked."""
    entries = [
        TraceEntry("spawn", 1, 0.0, 1, "left", label="left()"),
        TraceEntry("spawn", 1, 0.0, 2, "right", label="right()"),
        _step(1, 1, "left", choice=0, candidates=2, resumed_from="start",
              suspended_at="locks.py:10", state={"held": ["A"]}),
        _step(2, 2, "right", candidates=1, resumed_from="start",
              suspended_at="locks.py:20", state={"held": ["A", "B"]}),
    ]  # fmt: skip
    blocked = [{"task": "left", "at": "locks.py:11"}, {"task": "right", "at": "locks.py:21"}]
    failure = FailureInfo(
        "deadlock", "Deadlock", "2 task(s) blocked forever", 2, None, None, None, blocked
    )
    return Report("locks", {}, [0], [0], ["left()", "right()"], Trace(entries), failure)


# ----------------------------------------------------------------------------- terminal


def test_text_sample_shows_failure_scenario_schedule_and_violation(sample: Report) -> None:
    out = render_text_to_str(sample)
    assert "I2 bounds: tokens = -1, outside [0, capacity 1]" in out
    assert "#0 acquire(cost=1, on_settle=acquire_on_grant)" in out
    assert "start()" in out
    assert "time jumps to 1" in out
    assert "step 3: ran refill_loop instead of starter (preemption; choice 1 of 2)" in out
    assert "16 examples" in out and "seed 1" in out and "portfolio" in out
    violating = [line for line in out.splitlines() if line.startswith("✘")]
    assert len(violating) == 1
    assert re.search(r"\b5\b", violating[0]) and "limiter.py:449" in violating[0]
    assert "tokens=-1" in violating[0]
    assert "✔ exited" in out
    assert len(out.splitlines()) < 60  # one screen


def test_text_sample_fits_narrow_terminals(sample: Report) -> None:
    out = render_text_to_str(sample, width=72)
    assert all(len(line) <= 72 for line in out.splitlines())
    assert "I2 bounds" in out
    assert "▶ limiter.py:449" in out  # lanes keep their width: the state moves under its step
    assert "↳ tokens=-1 queue=[] granted=2 ticks=1" in out


def test_text_shows_hostile_strings_literally() -> None:
    out = render_text_to_str(hostile_report(), width=200)
    assert SCRIPT in out
    assert MARKUP in out  # markup was not interpreted
    assert "\x1b" not in out  # no escape sequence from the report reaches the terminal
    assert "\\x1b[31mred" in out
    assert "line one\\nline two" in out
    assert 'it\'s "quoted"' in out


def test_text_default_order_everywhere(sample: Report) -> None:
    entries = [e for e in sample.trace.entries if e.choice != 1]
    calm = Report("t", {}, [0], [0], [], Trace(entries), sample.failure, examples_to_failure=None)
    assert "default order everywhere\n" in render_text_to_str(calm)


def test_text_elides_long_traces_but_keeps_what_matters() -> None:
    report = long_report()
    out = render_text_to_str(report)
    lines = out.splitlines()
    assert len(lines) < MAX_ROWS + 40
    assert "elided" in out
    (deviation,) = deviations(report)
    assert f"step {deviation.step}: ran" in out
    assert any(line.startswith("✘") and f" {report.failure.step} " in line for line in lines)


def test_text_deadlock_lists_blocked_tasks() -> None:
    out = render_text_to_str(deadlock_report())
    assert "left waits at locks.py:11" in out
    assert "right waits at locks.py:21" in out
    assert "blocked forever" in out


# ----------------------------------------------------------------------------- HTML


class _Tags(HTMLParser):
    """Collects start tags and their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _tags(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _assert_self_contained(page: str) -> None:
    for tag, attrs in _tags(page):
        for name, value in attrs:
            assert name not in ("src", "href", "srcset", "action", "xlink:href"), (tag, name)
            assert not name.startswith("on"), (tag, name)
            assert not re.search(r"https?://", value or ""), (tag, name, value)
        assert tag not in ("link", "iframe", "object", "embed", "img", "base"), tag
    assert "@import" not in page and "url(" not in page


def _json_block(page: str) -> Any:
    match = re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', page, re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_html_sample_marks_the_violation(sample: Report) -> None:
    page = render_html(sample)
    assert page.count('id="violation"') == 1
    assert "I2 bounds" in page
    assert "step 3: ran refill_loop instead of starter" in page
    assert "<svg" in page and "<title>" in page
    assert "http://" not in page and "https://" not in page
    _assert_self_contained(page)


def test_html_script_is_allowed_by_its_csp_hash(sample: Report) -> None:
    page = render_html(sample)
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    csp = [dict(attrs) for tag, attrs in _tags(page) if tag == "meta"]
    policy = next(m["content"] for m in csp if m.get("http-equiv") == "Content-Security-Policy")
    assert f"script-src 'sha256-{digest}'" in (policy or "")
    assert "default-src 'none'" in (policy or "")
    assert "innerHTML" not in scripts[0]


def test_html_escapes_hostile_strings() -> None:
    report = hostile_report()
    page = render_html(report)
    assert "<script>alert" not in page
    assert page.count("<script") == 2  # the JSON data block and the page's own script
    assert [t for t, _ in _tags(page)].count("script") == 2
    assert html.escape(SCRIPT, quote=False) in page  # shown, as text
    assert page.count('id="violation"') == 1
    _assert_self_contained(page)
    data = json.dumps(_json_block(page))
    assert json.dumps(SCRIPT)[1:-1] in data  # the data survived, escaped, in the JSON block


def test_html_deadlock_has_a_violation_mark() -> None:
    page = render_html(deadlock_report())
    assert page.count('id="violation"') == 1
    assert "locks.py:21" in page and "deadlock" in page


# ----------------------------------------------------------------------------- pytest snippet


def _module(source: str) -> ast.Module:
    compile(source, "<generated>", "exec")
    return ast.parse(source)


def _assignments(module: ast.Module) -> dict[str, Any]:
    found = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def test_pytest_snippet_for_sample(sample: Report) -> None:
    source = render_pytest(sample, str(SAMPLE))
    module = _module(source)
    functions = [n for n in module.body if isinstance(n, ast.FunctionDef)]
    assert [f.name for f in functions] == ["test_sample_report"]
    values = _assignments(module)
    assert values["CHOICES"] == sample.to_json()["choices"]
    assert values["TARGET"] == "limiter"
    assert values["PARAMETERS"] == {"bugs": ["B04"]}
    assert "I2 bounds" in source


def test_pytest_snippet_replays_the_failure(fresh_report: Report) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(render_pytest(fresh_report), "<generated>", "exec"), namespace)
    (name,) = [k for k in namespace if k.startswith("test_")]
    step = fresh_report.failure.step
    with pytest.raises(AssertionError, match=f"still fails at step {step}: I6 timing contract"):
        namespace[name]()  # the seeded bug B10 is still there


@pytest.fixture(scope="module")
def fresh_report() -> Report:
    """A report fuzzed now, so its choices replay on the current engine."""
    from fuzzer.report import report_from_run
    from fuzzer.runner import FuzzConfig, fuzz_machine
    from targets.limiter_machine import limiter_machine

    result = fuzz_machine(
        limiter_machine(frozenset({"B10"})),
        FuzzConfig(max_examples=500, seed=1, steps_per_example=20),
    )
    return report_from_run(
        result.failures[0].run,
        target="limiter",
        seed=1,
        strategy="portfolio",
        examples_to_failure=result.first_failure_examples,
        seconds_to_failure=result.first_failure_seconds,
    )


def test_pytest_snippet_with_hostile_strings() -> None:
    report = hostile_report()
    source = render_pytest(report, f"reports/{SCRIPT}\n{QUOTES}.json")
    module = _module(source)
    kinds = [type(node).__name__ for node in module.body]
    assert kinds == ["ImportFrom", "Assign", "Assign", "Assign", "FunctionDef"]
    values = _assignments(module)
    assert values["TARGET"] == report.target
    assert values["PARAMETERS"] == report.parameters
    assert values["CHOICES"] == encode_choices(report.choices)
    name = module.body[-1].name  # type: ignore[attr-defined]
    assert name.isidentifier() and name.startswith("test_")


def test_pytest_snippet_with_nan_parameters(sample: Report) -> None:
    sample_copy = load_report(SAMPLE)
    sample_copy.parameters = {"rate": float("nan"), "cap": float("inf")}
    namespace: dict[str, Any] = {}
    exec(compile(render_pytest(sample_copy), "<generated>", "exec"), namespace)
    assert namespace["PARAMETERS"]["cap"] == float("inf")


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("limiter-i2-bounds-1a2b3c4d.json", "test_limiter_i2_bounds_1a2b3c4d"),
        ("--.json", "test_report"),
        ("Über Käse!.json", "test_ber_k_se"),
        ("9lives.json", "test_9lives"),
    ],
)
def test_regression_test_names(file_name: str, expected: str) -> None:
    assert regression_test_name(file_name) == expected


# ----------------------------------------------------------------------------- the browser


def chromium() -> str:
    """The Chromium binary, installed with ``tools/ensure_chromium.sh`` if missing."""
    if not CHROMIUM.exists():
        result = subprocess.run(
            ["bash", str(ENSURE_CHROMIUM)], capture_output=True, text=True, timeout=900
        )
        if result.returncode != 0 or not CHROMIUM.exists():
            pytest.fail(
                f"headless Chromium is required for the browser test and could not be "
                f"installed with {ENSURE_CHROMIUM} (exit {result.returncode}):\n"
                f"{result.stderr[-2000:]}"
            )
    return shutil.which(str(CHROMIUM)) or str(CHROMIUM)


def run_chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on ``page`` with networking off; 60 s at most."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def page_console(stderr: str) -> list[str]:
    """Lines of the page's own console output (errors, CSP violations, logs)."""
    return [
        line
        for line in stderr.splitlines()
        if ("CONSOLE" in line and "source: file://" in line) or "Uncaught" in line
    ]


@pytest.mark.parametrize("which", ["sample", "hostile", "deadlock"])
def test_browser_renders_without_console_errors(which: str, sample: Report, tmp_path: Path) -> None:
    report = {"sample": sample, "hostile": hostile_report(), "deadlock": deadlock_report()}[which]
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    result = run_chromium(page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert 'id="violation"' in dom
    assert 'data-ready="true"' in dom, "the page's script did not run (CSP?)"
    assert html.escape(report.failure.title, quote=False) in dom
    assert page_console(result.stderr) == []
    assert [tag for tag, _ in _tags(dom)].count("script") == 2
