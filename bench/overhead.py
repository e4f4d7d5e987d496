"""Section 3: throughput, and what controlling the schedule costs.

(a) A small program (five tasks, five checkpoints each: about 35 scheduler
steps) run three ways in this process: under Hypothesis with every scheduling
decision drawn (``run_program`` with ``HypothesisDecisions``), under Hypothesis
with an uncontrolled ``trio.run`` (one integer drawn, so Hypothesis does its
usual per-example work), and a plain ``trio.run`` loop.

(b) The limiter machine on the correct limiter (``fuzz_machine``), against the
same rules and oracle run uncontrolled (`bench.uncontrolled`).

Each figure is the median over several rounds, the modes interleaved round by
round so that machine load hits them alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import trio
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from bench.markdown import number, ratio, table
from bench.programs import small_program
from bench.session import Session
from bench.uncontrolled import run_uncontrolled
from fuzzer.decisions import DecisionSource, DefaultDecisions
from fuzzer.program import run_program
from fuzzer.runner import FuzzConfig, fuzz_machine
from strategies.schedules import schedules
from targets.limiter_machine import limiter_machine

TITLE = "## 3. Throughput and the cost of control"
HEADER = ("workload", "mode", "examples/s, median", "ms per example", "vs. uncontrolled")
RATIO_HEADER = ("ratio", "value", "target")
PROGRAM_TARGET = 500.0  # controlled examples/s on the small program
CONTROL_TARGET = 1.5  # controlled time per example / uncontrolled under Hypothesis


@dataclass(frozen=True)
class Rate:
    """Examples per second over the rounds of one mode."""

    workload: str
    mode: str
    rates: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.rates)


def run(session: Session) -> str:
    """Measure and render section 3."""
    config = session.config
    program = _program_rates(config.program_examples, config.rounds)
    machine = _machine_rates(config.machine_examples, config.rounds)
    session.throughput = machine[0].median
    return "\n\n".join(
        [
            TITLE,
            _intro(config.program_examples, config.machine_examples, config.rounds),
            table(HEADER, _rows(program) + _rows(machine)),
            table(RATIO_HEADER, _ratio_rows(program, machine)),
            _notes(program, machine),
        ]
    )


def _intro(program_examples: int, machine_examples: int, rounds: int) -> str:
    steps = _program_steps()
    return (
        f"(a) the small program ({steps} scheduler steps per run), {program_examples} examples "
        f"per mode and round; (b) the limiter machine ({STEPS} steps per example, correct "
        "limiter), "
        f"{machine_examples} examples per mode and round; {rounds} rounds, modes interleaved, "
        "medians shown."
    )


def _program_steps() -> int:
    result = run_program(small_program, DefaultDecisions())
    return sum(1 for entry in result.trace.entries if entry.kind == "step")


# -- (a) the small program ------------------------------------------------------


def _program_rates(examples: int, rounds: int) -> list[Rate]:
    modes: dict[str, Callable[[int, int], float]] = {
        "controlled (run_program + HypothesisDecisions)": _controlled_program,
        "uncontrolled trio.run under Hypothesis": _hypothesis_trio_run,
        "plain trio.run loop": _plain_trio_run,
    }
    return _interleaved("small program", modes, examples, rounds)


def _interleaved(
    workload: str, modes: dict[str, Callable[[int, int], float]], examples: int, rounds: int
) -> list[Rate]:
    """Each mode once per round, in turn; rates collected per mode."""
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    for round_ in range(rounds):
        for mode, measure in modes.items():
            rates[mode].append(measure(examples, round_))
    return [Rate(workload, mode, tuple(values)) for mode, values in rates.items()]


def _hypothesis_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def _controlled_program(examples: int, round_: int) -> float:
    """Examples/s with every decision drawn by Hypothesis (no bias: "hypothesis")."""
    count = [0]

    @seed(round_)
    @_hypothesis_settings(examples)
    @given(schedules("hypothesis"))
    def test(source: DecisionSource) -> None:
        count[0] += 1
        run_program(small_program, source).raise_failure()

    return _rate(test, count)


def _hypothesis_trio_run(examples: int, round_: int) -> float:
    """Examples/s of the same program under Hypothesis, scheduled by trio itself."""
    count = [0]

    @seed(round_)
    @_hypothesis_settings(examples)
    @given(st.integers(0, 2**16))
    def test(_: int) -> None:
        count[0] += 1
        trio.run(small_program)

    return _rate(test, count)


def _plain_trio_run(examples: int, round_: int) -> float:
    """Examples/s of a bare loop of ``trio.run``."""
    started = time.perf_counter()
    for _ in range(examples):
        trio.run(small_program)
    return examples / (time.perf_counter() - started)


def _rate(test: Callable[[], None], count: list[int]) -> float:
    started = time.perf_counter()
    test()
    return count[0] / (time.perf_counter() - started)


# -- (b) the limiter machine ---------------------------------------------------------


def _machine_rates(examples: int, rounds: int) -> list[Rate]:
    modes: dict[str, Callable[[int, int], float]] = {
        "controlled (fuzz_machine, portfolio)": _controlled_machine,
        "same rules and oracle, uncontrolled trio.run": _uncontrolled_machine,
    }
    return _interleaved("limiter machine", modes, examples, rounds)


STEPS = FuzzConfig().steps_per_example
"""Rules per example in both modes of (b): the fuzzer's default."""


def _controlled_machine(examples: int, round_: int) -> float:
    config = FuzzConfig(max_examples=examples, seed=round_, shrink=False, steps_per_example=STEPS)
    result = fuzz_machine(limiter_machine(frozenset()), config)
    return result.examples / result.seconds


def _uncontrolled_machine(examples: int, round_: int) -> float:
    ran, seconds, _ = run_uncontrolled(examples, round_, STEPS)
    return ran / seconds


# -- rendering ----------------------------------------------------------------------


def _rows(rates: list[Rate]) -> list[list[str]]:
    """One row per mode; the last column compares with the uncontrolled Hypothesis mode."""
    baseline = rates[1].median
    return [
        [r.workload, r.mode, number(r.median), f"{1000 / r.median:.2f}", ratio(baseline, r.median)]
        for r in rates
    ]


def _ratio_rows(program: list[Rate], machine: list[Rate]) -> list[list[str]]:
    controlled, hypothesis_run, plain = (r.median for r in program)
    machine_controlled, machine_uncontrolled = (r.median for r in machine)
    return [
        [
            "small program: controlled examples/s",
            number(controlled),
            f">= {PROGRAM_TARGET:g} {_met(controlled >= PROGRAM_TARGET)}",
        ],
        [
            "small program: cost of control (controlled / uncontrolled, both under Hypothesis)",
            ratio(hypothesis_run, controlled),
            f"<= {CONTROL_TARGET:g}x {_met(hypothesis_run / controlled <= CONTROL_TARGET)}",
        ],
        [
            "small program: cost of Hypothesis (under Hypothesis / plain trio.run)",
            ratio(plain, hypothesis_run),
            "",
        ],
        ["small program: controlled / plain trio.run", ratio(plain, controlled), ""],
        [
            "limiter machine: cost of control (controlled / uncontrolled)",
            ratio(machine_uncontrolled, machine_controlled),
            f"<= {CONTROL_TARGET:g}x "
            f"{_met(machine_uncontrolled / machine_controlled <= CONTROL_TARGET)}",
        ],
    ]


def _met(ok: bool) -> str:
    return "(met)" if ok else "(missed)"


def _notes(program: list[Rate], machine: list[Rate]) -> str:
    spread = "; ".join(
        f"{r.mode}: {min(r.rates):,.0f}-{max(r.rates):,.0f}/s" for r in program + machine
    )
    return (
        "Ratios are of time per example (higher: slower). The controlled program draws one "
        "integer per scheduling decision and steps trio's run loop from outside; the "
        "uncontrolled one draws a single integer. In (b) the uncontrolled machine draws the "
        "same rules and arguments but no schedule, and runs them in one `trio.run` with a "
        "`MockClock` (autojump) at the example's end, with the same oracle after every task "
        f"step. Range over the rounds: {spread}."
    )
