"""The limiter as a registered fuzz target (``python -m fuzzer run limiter``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fuzzer.registry import Target
from targets.bugs import BUGS
from targets.limiter_machine import LimiterMachine, limiter_machine


def _build(parameters: Mapping[str, Any]) -> type[LimiterMachine]:
    return limiter_machine(frozenset(parameters.get("bugs", [])))


TARGET = Target(
    name="limiter",
    summary="token-bucket rate limiter (correct, or with seeded bugs B01-B11)",
    build=_build,
    variants={bug_id: info.name for bug_id, info in sorted(BUGS.items())},
)
