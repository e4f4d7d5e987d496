"""Failure reports: one JSON file per failure, plain data, written atomically.

A report holds everything needed to read a failure and to replay it exactly:
the target's registered name and parameters (never an import path, so opening a
report cannot run arbitrary code), library versions, the Hypothesis choice
sequence (which fixes the operations, their arguments, time advances and every
scheduling decision), the decisions alone, the operations, the detailed trace,
and the failure.  A ``checksum`` over the rest detects truncation and edits.

Loading validates everything and raises :class:`ReportError` with a one-line
message naming the problem.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import trio

from fuzzer.failures import FailureInfo
from fuzzer.trace import Trace

FORMAT_VERSION = 1
_REQUIRED = ("format_version", "target", "parameters", "choices", "decisions", "trace", "failure")


class ReportError(Exception):
    """A report file that cannot be used: the message says why, in one line."""


@dataclass(slots=True)
class Report:
    """A failure report in memory."""

    target: str
    parameters: dict[str, Any]
    choices: list[Any]
    decisions: list[int]
    operations: list[str]
    trace: Trace
    failure: FailureInfo
    seed: int | None = None
    strategy: str | None = None
    policy: str | None = None
    examples_to_failure: int | None = None
    seconds_to_failure: float | None = None
    versions: dict[str, str] | None = None
    created: str | None = None

    @property
    def surprises(self) -> int:
        """Non-default scheduling decisions in the shrunk schedule."""
        return sum(1 for d in self.decisions if d)

    def file_name(self) -> str:
        digest = hashlib.sha256(json.dumps(encode_choices(self.choices)).encode()).hexdigest()
        return f"{_slug(self.target)}-{_slug(self.failure.title)}-{digest[:8]}.json"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "target": self.target,
            "parameters": self.parameters,
            "versions": self.versions or current_versions(),
            "created": self.created or _now(),
            "seed": self.seed,
            "strategy": self.strategy,
            "policy": self.policy,
            "examples_to_failure": self.examples_to_failure,
            "seconds_to_failure": self.seconds_to_failure,
            "choices": encode_choices(self.choices),
            "decisions": self.decisions,
            "operations": self.operations,
            "failure": self.failure.to_json(),
            "trace": self.trace.to_json(),
        }
        body["checksum"] = _checksum(body)
        return body

    @classmethod
    def from_json(cls, data: Any) -> Report:
        _validate(data)
        try:
            return cls(
                target=data["target"],
                parameters=dict(data["parameters"]),
                choices=decode_choices(data["choices"]),
                decisions=[int(d) for d in data["decisions"]],
                operations=[str(o) for o in data.get("operations", [])],
                trace=Trace.from_json(data["trace"]),
                failure=FailureInfo.from_json(data["failure"]),
                seed=data.get("seed"),
                strategy=data.get("strategy"),
                policy=data.get("policy"),
                examples_to_failure=data.get("examples_to_failure"),
                seconds_to_failure=data.get("seconds_to_failure"),
                versions=data.get("versions"),
                created=data.get("created"),
            )
        except (TypeError, ValueError, KeyError) as error:
            raise ReportError(f"malformed report: {error}") from None


def _slug(text: str) -> str:
    """Letters, digits and dashes only: safe as part of a file name, whatever the input."""
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()[:60] or "x"


def write_report(report: Report, directory: Path) -> Path:
    """Write ``report`` into ``directory`` atomically; returns its path.

    The JSON goes to a temporary file in the same directory, is flushed to
    disk, then renamed over the final name: a reader never sees half a file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / report.file_name()
    text = json.dumps(report.to_json(), indent=1, allow_nan=False)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_report(path: Path) -> Report:
    """Read and validate a report file, or raise :class:`ReportError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"no such report: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ReportError(f"cannot read {path}: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(f"{path} is not valid JSON (truncated?): {error.msg}") from None
    return Report.from_json(data)


def _validate(data: Any) -> None:
    if not isinstance(data, dict):
        raise ReportError("not a report: the JSON is not an object")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ReportError(
            f"unsupported report format_version {version!r} (this fuzzer reads {FORMAT_VERSION})"
        )
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise ReportError(f"report lacks {', '.join(missing)}")
    if data.get("checksum") != _checksum(data):
        raise ReportError("report was modified after it was written (checksum mismatch)")


def _checksum(body: dict[str, Any]) -> str:
    content = {k: v for k, v in body.items() if k != "checksum"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def encode_choices(choices: list[Any]) -> list[list[Any]]:
    """Hypothesis choices as JSON: ``[tag, value]`` pairs, exact for every type."""
    encoded: list[list[Any]] = []
    for choice in choices:
        if isinstance(choice, bool):
            encoded.append(["b", choice])
        elif isinstance(choice, int):
            encoded.append(["i", str(choice) if abs(choice) >= 2**53 else choice])
        elif isinstance(choice, float):
            encoded.append(["f", choice.hex()])
        elif isinstance(choice, str):
            encoded.append(["s", choice])
        elif isinstance(choice, bytes):
            encoded.append(["y", base64.b64encode(choice).decode()])
        else:
            raise TypeError(f"cannot encode choice {choice!r}")
    return encoded


def decode_choices(encoded: Any) -> list[Any]:
    if not isinstance(encoded, list):
        raise ReportError("malformed report: choices is not a list")
    decoders = {
        "b": bool,
        "i": int,
        "f": float.fromhex,
        "s": str,
        "y": base64.b64decode,
    }
    choices: list[Any] = []
    for item in encoded:
        if not (isinstance(item, list) and len(item) == 2 and item[0] in decoders):
            raise ReportError(f"malformed report: bad choice {item!r}")
        choices.append(decoders[item[0]](item[1]))  # type: ignore[operator]
    return choices


def current_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("trio-race-fuzzer")
    except PackageNotFoundError:
        ours = "unknown"
    return {
        "python": platform.python_version(),
        "trio": trio.__version__,
        "hypothesis": hypothesis.__version__,
        "fuzzer": ours,
    }


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def report_from_run(
    run: Any,
    *,
    target: str,
    seed: int | None,
    strategy: str | None,
    examples_to_failure: int | None,
    seconds_to_failure: float | None,
) -> Report:
    """A :class:`Report` for a final run (:class:`fuzzer.machine.FinalRun`)."""
    if run.failure is None:
        raise ValueError("this run did not fail: nothing to report")
    return Report(
        target=target,
        parameters=dict(run.parameters),
        choices=list(run.choices),
        decisions=list(run.decisions),
        operations=list(run.operations),
        trace=run.trace,
        failure=run.failure,
        seed=seed,
        strategy=strategy,
        policy=run.policy,
        examples_to_failure=examples_to_failure,
        seconds_to_failure=seconds_to_failure,
    )
