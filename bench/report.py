"""The document: the command, the machine, the parameters, then every section."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib.metadata import version

from bench.config import STRATEGIES, BenchConfig

NOTE_ON_COUNTING = (
    "**How first failures are counted.** The fuzzer's runner notes an example as failing "
    "when its world recorded any failure, including Hypothesis's own control-flow "
    "exceptions (`StopTest` when an example overruns its choice budget, `Frozen`), which "
    "Hypothesis discards rather than reports. Its `first_failure_examples` can therefore "
    "name an overrun that came before the real failure, and a run that found nothing is "
    "stretched by the shrink grace. Every figure here counts only failures Hypothesis "
    "reports (`bench/firstfail.py`); once the runner counts the same way the two agree."
)


def document(
    command: str, config: BenchConfig, parts: list[tuple[str, str, float]], total: float
) -> str:
    """The whole Markdown file."""
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{command}` (from the repository root).",
        "",
        machine_facts(),
        "",
        parameters(config),
        "",
        timings(parts, total),
        "",
        NOTE_ON_COUNTING,
        "",
    ]
    for _, text, _ in parts:
        lines.extend([text, ""])
    return "\n".join(lines)


def machine_facts() -> str:
    """Python, trio and Hypothesis versions, CPUs, platform and date."""
    facts = [
        ("Python", platform.python_version()),
        ("trio", version("trio")),
        ("Hypothesis", version("hypothesis")),
        ("CPUs", str(os.cpu_count())),
        ("platform", f"{platform.system()} {platform.machine()}"),
        ("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("code", code_version()),
    ]
    return "\n".join(f"- {name}: {value}" for name, value in facts)


def code_version() -> str:
    """The git commit measured, and whether the working tree had changes."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {head}" + (" with uncommitted changes" if dirty else "")


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=True, timeout=10)
    return done.stdout.strip()


def parameters(config: BenchConfig) -> str:
    """The budgets this run used."""
    mode = "quick (CI)" if config.quick else "full"
    return (
        f"Mode: {mode}. Bugs: {', '.join(config.bugs)}. Strategies: "
        f"{', '.join(config.strategies)}. Seeds: {config.seeds}. Budget per fuzzing run: "
        f"{config.budget:g} s or {config.max_examples:,} examples. Shrink runs: "
        f"up to {config.shrink_seeds} finding seed(s) per bug, {config.shrink_grace:g} s to "
        "shrink. Stress: "
        f"{config.stress_seeds} campaign(s) of {config.stress_budget:g} s per bug. "
        f"Parallel fuzzing/stress runs: {config.jobs} (wall-clock seconds in sections 1 and 2 "
        "include that contention; example counts do not depend on it)." + _left_out(config)
    )


def _left_out(config: BenchConfig) -> str:
    """Why a strategy is missing from the full run, if one is."""
    missing = [s for s in STRATEGIES if s not in config.strategies]
    if config.quick or missing != ["preemption_bounded"]:
        return ""
    return (
        " `preemption_bounded` is left out to keep the run under 25 minutes on this 2-core "
        "machine: an earlier full run with all five strategies at the same budget spent over "
        "25 minutes in section 1 alone, and there `preemption_bounded` found the fewest "
        "(B05 2/10, B07 1/10, B08 1/10, B09 1/10). The portfolio still draws it; "
        "`--strategies uniform,pct,preemption_bounded,pos,portfolio` puts it back."
    )


def timings(parts: list[tuple[str, str, float]], total: float) -> str:
    """How long each section and the whole run took."""
    each = ", ".join(f"{name} {seconds:,.0f} s" for name, _, seconds in parts)
    return f"Wall time: {total / 60:.1f} min in total ({each})."
