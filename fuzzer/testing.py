"""Helpers for regression tests generated from reports (``show REPORT --pytest``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fuzzer.registry import get_target
from fuzzer.replay import ReplayResult, replay_choices
from fuzzer.report import decode_choices


def replay(target: str, parameters: Mapping[str, Any], choices: list[Any]) -> ReplayResult:
    """Replay encoded ``choices`` (as stored in a report) on a registered target."""
    registered = get_target(target)
    return replay_choices(registered.machine(parameters), decode_choices(choices))


def assert_no_failure(target: str, parameters: Mapping[str, Any], choices: list[Any]) -> None:
    """Fail if the recorded schedule still breaks something."""
    result = replay(target, parameters, choices)
    if result.failure is not None:
        failure = result.failure
        raise AssertionError(
            f"still fails at step {failure.step}: {failure.title}: {failure.message}"
        )
