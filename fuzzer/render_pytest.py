"""A failure report as a pytest regression test that replays its exact schedule.

The generated module is plain data plus one call to
:func:`fuzzer.testing.assert_no_failure`.  Untrusted text from the report (the
failure's title and message, versions) only appears in ``#`` comments written
with :func:`ascii`, which escapes every newline, control and non-ASCII
character, so nothing from the report can end the comment; the target,
parameters and choices are embedded as Python literals checked to round-trip
(:func:`ast.literal_eval`), or failing that as a JSON string literal.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
from pathlib import PurePath
from typing import Any

from fuzzer.report import Report, encode_choices

LINE_WIDTH = 88


def render_pytest(report: Report, report_path: str | None = None) -> str:
    """Source of a pytest module that fails while the reported bug is still there."""
    file_name = PurePath(report_path).name if report_path else report.file_name()
    name = regression_test_name(file_name)
    failure = report.failure
    data = "\n".join(
        [
            f"TARGET = {literal(report.target)}",
            f"PARAMETERS = {literal(report.parameters)}",
            f"CHOICES = {_choices_literal(encode_choices(report.choices))}",
        ]
    )
    lines = [
        f"# Regression test for {file_name!a}: replays the exact schedule that failed.",
        f"# Failure: {failure.title!a} ({failure.kind}) at step {int(failure.step)}",
        f"# Message: {_shorten(failure.message)!a}",
    ]
    if report.versions:
        lines.append(f"# Recorded with: {report.versions!a}")
    lines += [
        "# Regenerate with: python -m fuzzer show REPORT --pytest",
        *(["import json", ""] if "json.loads(" in data else []),
        "from fuzzer.testing import assert_no_failure",
        "",
        data,
        "",
        "",
        f"def {name}() -> None:",
        "    assert_no_failure(TARGET, PARAMETERS, CHOICES)",
        "",
    ]
    return "\n".join(lines)


def regression_test_name(file_name: str) -> str:
    """``limiter-i2-bounds-1a2b3c4d.json`` → ``test_limiter_i2_bounds_1a2b3c4d``."""
    stem = file_name[: -len(".json")] if file_name.endswith(".json") else file_name
    words = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")[:80].rstrip("_")
    name = f"test_{words or 'report'}"
    return name if name.isidentifier() and not keyword.iskeyword(name) else "test_report"


def literal(value: Any) -> str:
    """``value`` (plain JSON data) as a Python expression that evaluates back to it.

    A ``repr`` when it round-trips; otherwise (NaN, infinities) a ``json.loads``
    call on a string literal, which needs ``import json``.
    """
    text = repr(value)
    try:
        if ast.literal_eval(text) == value:
            return text
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    return f"json.loads({json.dumps(value)!r})"


def _choices_literal(choices: list[list[Any]]) -> str:
    """The encoded choices, several ``[tag, value]`` pairs per line."""
    items = [literal(item) for item in choices]
    if not items:
        return "[]"
    lines: list[str] = []
    current = "   "
    for item in items:
        if len(current) + len(item) + 2 > LINE_WIDTH and current.strip():
            lines.append(current.rstrip())
            current = "   "
        current += f" {item},"
    lines.append(current.rstrip())
    return "[\n" + "\n".join(lines) + "\n]"


def _shorten(text: str, limit: int = 200) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
