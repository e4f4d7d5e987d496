"""Markdown tables and number formatting shared by every section."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

DASH = "\N{EN DASH}"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table (one header row, a separator, then the rows)."""
    lines = [_row(header), _row(["---"] * len(header))]
    lines.extend(_row([str(cell) for cell in row]) for row in rows)
    return "\n".join(lines)


def header_line(header: Sequence[str]) -> str:
    """The first line of :func:`table` for ``header`` (what the tests look for)."""
    return _row(header)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def median_max(values: Sequence[float], digits: int = 0) -> str:
    """``median (max)``, or a dash when there are no values."""
    if not values:
        return DASH
    return f"{number(statistics.median(values), digits)} ({number(max(values), digits)})"


def number(value: float, digits: int = 0) -> str:
    """A number with thousands separators and ``digits`` decimals (integers stay integers)."""
    if digits == 0:
        return f"{round(value):,}" if value == round(value) or value >= 10 else f"{value:.1f}"
    return f"{value:,.{digits}f}"


def ratio(numerator: float | None, denominator: float | None, digits: int = 2) -> str:
    """``numerator / denominator`` as ``1.23x``, a dash if either is missing or zero."""
    if numerator is None or denominator is None or denominator == 0:
        return DASH
    return f"{numerator / denominator:.{digits}f}x"


def median_or_none(values: Sequence[float]) -> float | None:
    """``statistics.median`` of ``values``, None when empty."""
    return statistics.median(values) if values else None


def censored_median(values: Sequence[float | None]) -> float | None:
    """The median over every run, a run that found nothing counting as infinite.

    None unless more than half the runs found the bug: the median is then beyond
    the budget, and a median over the finding runs alone would flatter.
    """
    if not values:
        return None
    middle = statistics.median([math.inf if v is None else v for v in values])
    return None if math.isinf(middle) else middle


def seconds(value: float | None, digits: int = 3) -> str:
    """Seconds with a fixed number of decimals, a dash for None."""
    return DASH if value is None else f"{value:.{digits}f}"
