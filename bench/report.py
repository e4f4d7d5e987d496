"""The document: the command, the machine, the parameters, then every section.

Each section starts with a marker line (``<!-- bench section: NAME -->``,
invisible in rendered Markdown), so ``--only NAME`` can replace that section
in an existing document and keep the others (:func:`splice`).
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version

from bench.config import STRATEGIES, BenchConfig

NOTE_ON_COUNTING = (
    "**How first failures are counted.** An example counts as failing when Hypothesis "
    "reports its failure: an example Hypothesis discards (it ran out of choice data, "
    "`StopTest`/`Frozen`) is not counted, even though its world recorded the overrun. "
    "Examples up to and including the first failing one are counted, shrinking excluded."
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
    for name, text, _ in parts:
        lines.extend([section_marker(name), text, ""])
    return "\n".join(lines)


def machine_facts() -> str:
    """Python, trio and Hypothesis versions, CPUs, platform and date."""
    return "\n".join(f"- {name}: {value}" for name, value in _facts())


def _facts() -> list[tuple[str, str]]:
    return [
        ("Python", platform.python_version()),
        ("trio", version("trio")),
        ("Hypothesis", version("hypothesis")),
        ("CPUs", str(os.cpu_count())),
        ("platform", f"{platform.system()} {platform.machine()}"),
        ("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("code", code_version()),
    ]


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


# -- replacing one section of an existing document (``--only``) ----------------------

_MARKER = re.compile(r"^<!-- bench section: (\S+) -->$")
RERUNS_INTRO = (
    "Sections run again on their own since (`--only`); their tables below come from these runs:"
)


def section_marker(name: str) -> str:
    """The line that starts section ``name`` in the document."""
    return f"<!-- bench section: {name} -->"


@dataclass
class Block:
    """One section of a document: its name (None if unrecognised) and its lines."""

    name: str | None
    lines: list[str] = field(default_factory=list)
    marked: bool = False  # started by a marker line (else by its ``## `` heading)


def split_document(text: str, titles: Mapping[str, str]) -> tuple[list[str], list[Block]]:
    """The lines before the first section, then the sections.

    A section starts at its marker line.  Documents written before markers
    existed are split at their ``## `` headings, each named by ``titles``
    (section name to heading) when its heading is one of them.
    """
    names = {title: name for name, title in titles.items()}
    preamble: list[str] = []
    blocks: list[Block] = []
    for line in text.splitlines():
        marker = _MARKER.match(line)
        if marker:
            blocks.append(Block(marker.group(1), marked=True))
            continue
        if line.startswith("## ") and not _awaiting_heading(blocks):
            blocks.append(Block(names.get(line.strip())))
        (blocks[-1].lines if blocks else preamble).append(line)
    return preamble, blocks


def _awaiting_heading(blocks: list[Block]) -> bool:
    """The last block was started by a marker and has no text yet."""
    return bool(blocks) and blocks[-1].marked and not any(line.strip() for line in blocks[-1].lines)


def join_document(preamble: list[str], blocks: list[Block]) -> str:
    """The inverse of :func:`split_document` (every named section gets its marker)."""
    lines = [*_trimmed(preamble), ""]
    for block in blocks:
        if block.name is not None:
            lines.append(section_marker(block.name))
        lines.extend([*_trimmed(block.lines), ""])
    return "\n".join(lines)


def _trimmed(lines: list[str]) -> list[str]:
    """``lines`` without blank lines at either end."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def splice(
    existing: str,
    name: str,
    text: str,
    rerun: str,
    order: Sequence[str],
    titles: Mapping[str, str],
) -> str:
    """``existing`` with section ``name`` replaced by ``text`` (or added, in ``order``).

    The facts at the top describe the run that wrote the whole document; the
    line ``rerun`` (see :func:`rerun_note`) is added to (or replaces ``name``'s
    line in) a list of sections run again since.
    """
    preamble, blocks = split_document(existing, titles)
    new = Block(name, text.splitlines(), marked=True)
    found = [i for i, block in enumerate(blocks) if block.name == name]
    if found:  # the first copy is replaced, any later one dropped
        blocks = [new if i == found[0] else b for i, b in enumerate(blocks) if i not in found[1:]]
    else:
        blocks.insert(_insertion_point(blocks, name, order), new)
    return join_document(_with_rerun(preamble, name, rerun), blocks)


def _insertion_point(blocks: list[Block], name: str, order: Sequence[str]) -> int:
    """Before the first section that comes after ``name`` in ``order``, else at the end."""
    rank = order.index(name) if name in order else len(order)
    for index, block in enumerate(blocks):
        if block.name in order and order.index(block.name) > rank:
            return index
    return len(blocks)


def _with_rerun(preamble: list[str], name: str, rerun: str) -> list[str]:
    """The preamble with ``rerun`` in the list of sections run again."""
    lines = _trimmed(preamble)
    prefix = f"- `{name}`:"
    if RERUNS_INTRO in lines:
        start = lines.index(RERUNS_INTRO) + 1
        while start < len(lines) and not lines[start].strip():
            start += 1
        end = start
        while end < len(lines) and lines[end].startswith("- `"):
            end += 1
        entries = [line for line in lines[start:end] if not line.startswith(prefix)]
        return [*lines[:start], *entries, rerun, *lines[end:]]
    after = next(
        (i + 1 for i, line in enumerate(lines) if line.startswith("Wall time:")), len(lines)
    )
    return [*lines[:after], "", RERUNS_INTRO, "", rerun, *lines[after:]]


def rerun_note(name: str, command: str, seconds: float) -> str:
    """The line naming the command, date, code and versions that section ``name`` came from."""
    facts = dict(_facts())
    return (
        f"- `{name}`: `{command}`, {facts['date']}, {facts['code']}, Python {facts['Python']}, "
        f"trio {facts['trio']}, Hypothesis {facts['Hypothesis']}, {facts['CPUs']} CPUs, "
        f"{seconds:,.0f} s."
    )
