"""Section 5: fast-check's scheduler on the same limiter, beside our figures.

The peer's figures are hard-coded from ``/work/shared/spec/peer-fastcheck.md``
(a JavaScript port of the limiter fuzzed with fast-check 4.11's scheduler, one
property for all bugs, 20 seeds per bug, client programs of up to 10
operations).  Ours: the default strategy (portfolio, also one configuration
for all bugs) from section 1, and the shrunk sizes of section 1's shrink runs.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.find import shrunk_operations
from bench.markdown import DASH, censored_median, median_max, number, ratio, table
from bench.session import Session
from fuzzer.runner import FuzzConfig

TITLE = "## 5. Beside fast-check (peer)"
HEADER = (
    "bug",
    "peer: runs to 1st failure, median (max)",
    "ours: examples to 1st failure, median (max)",
    "ours / peer (examples)",
    "peer: shrunk ops, median (max)",
    "ours: shrunk ops, median (max)",
    "ours / peer (shrunk ops)",
)
PEER_THROUGHPUT = 12_244.0  # runs/s on the correct limiter (peer-fastcheck.md)


@dataclass(frozen=True)
class PeerFigures:
    """One row of the peer's table: medians and maxima over 20 seeds (all found)."""

    runs_median: float
    runs_max: float
    seconds_median: float
    seconds_max: float
    ops_median: float
    ops_max: float
    steps_median: float
    steps_max: float


# From /work/shared/spec/peer-fastcheck.md (fast-check 4.11, Node 20, 20 seeds per bug,
# every bug found in 20/20): runs, seconds, shrunk ops, shrunk scheduled steps.
PEER: dict[str, PeerFigures] = {
    "B01": PeerFigures(11, 70, 0.002, 0.022, 2, 3, 3, 4),
    "B02": PeerFigures(659, 1698, 0.044, 0.197, 5, 9, 8, 15),
    "B03": PeerFigures(7, 46, 0.001, 0.010, 1, 2, 1, 2),
    "B04": PeerFigures(186, 929, 0.017, 0.191, 4, 5, 7, 9),
    "B05": PeerFigures(92, 216, 0.011, 0.058, 3, 6, 8, 10),
    "B06": PeerFigures(2, 8, 0.000, 0.015, 1, 1, 3, 3),
    "B07": PeerFigures(26, 150, 0.003, 0.034, 4, 6, 7, 9),
    "B08": PeerFigures(83, 227, 0.007, 0.037, 4, 7, 7, 12),
    "B09": PeerFigures(281, 1171, 0.022, 0.140, 6, 7, 9, 10),
    "B10": PeerFigures(2, 5, 0.001, 0.005, 1, 1, 1, 1),
    "B11": PeerFigures(31, 143, 0.004, 0.022, 2, 3, 2, 3),
}


def run(session: Session) -> str:
    """Render section 5 (measuring whatever section 1 has not already)."""
    rows = [_row(session, bug) for bug in session.config.bugs]
    return "\n\n".join([TITLE, _intro(session), table(HEADER, rows), _throughput(session)])


def _intro(session: Session) -> str:
    return (
        "Peer: 20 seeds per bug, all found. Ours: section 1's default strategy (portfolio) over "
        f"{session.config.seeds} seed(s), median (max) over the seeds that found the bug "
        "(found/seeds in brackets); shrunk operations from section 1's shrink runs (best "
        "strategy). The examples ratio uses our median over all seeds, a seed that found "
        "nothing counting as infinite, so it is shown only where more than half the seeds found "
        "the bug (the peer found every bug in 20/20). Below 1, we need fewer. The peer's "
        "scenarios are client programs "
        "of at most 10 operations; ours are state-machine examples of up to "
        f"{FuzzConfig().steps_per_example} rules, "
        "scheduling decisions and moves of time included, so one of our examples is "
        "a larger unit than one of the peer's runs."
    )


def _row(session: Session, bug: str) -> list[str]:
    peer = PEER[bug]
    runs = session.default_strategy(bug)
    examples = [float(m.examples) for m in runs if m.examples is not None]
    operations = [float(n) for n in shrunk_operations(session, bug)]
    ours = f"{median_max(examples)} [{len(examples)}/{len(runs)}]" if examples else DASH
    overall = censored_median([None if m.examples is None else float(m.examples) for m in runs])
    return [
        bug,
        f"{number(peer.runs_median)} ({number(peer.runs_max)})",
        ours,
        ratio(overall, peer.runs_median),
        f"{number(peer.ops_median)} ({number(peer.ops_max)})",
        median_max(operations),
        ratio(_median(operations), peer.ops_median),
    ]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _throughput(session: Session) -> str:
    peer = f"Throughput on the correct limiter: peer {PEER_THROUGHPUT:,.0f} runs/s"
    if session.throughput is None:
        return peer + " (ours: see section 3, not run here)."
    return (
        f"{peer}, ours {session.throughput:,.0f} examples/s (section 3b): "
        f"{ratio(PEER_THROUGHPUT, session.throughput, 1)} in the peer's favour per example."
    )
