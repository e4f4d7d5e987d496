"""Named fuzz targets: a state machine plus its parameters.

Targets are found in two places, both by name only:

- installed packages declare them under the ``fuzzer.targets`` entry-point
  group (this project's own ``limiter`` is declared so in ``pyproject.toml``);
- a user's project declares them in its ``pyproject.toml``::

      [tool.fuzzer.targets]
      mything = "my_package.fuzzing:TARGET"

A report names its target by this name, and the registry resolves it; opening a
report therefore never imports anything the report itself names.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from fuzzer.machine import TrioStateMachine

ENTRY_POINT_GROUP = "fuzzer.targets"


class TargetError(Exception):
    """An unknown target, or parameters a target does not accept."""


@dataclass(frozen=True)
class Target:
    """A fuzz target.

    ``build(parameters)`` returns the state machine class for those parameters.
    ``variants`` names switchable variants (for the limiter: the seeded bugs, by
    id), selected with ``--bug ID`` and stored as ``parameters["bugs"]``.
    """

    name: str
    summary: str
    build: Callable[[Mapping[str, Any]], type[TrioStateMachine]]
    variants: Mapping[str, str] = field(default_factory=dict)

    def parameters(self, bugs: list[str]) -> dict[str, Any]:
        """Parameters for ``--bug`` values: ids, ``all``, or ``none``."""
        if not bugs or bugs == ["none"]:
            return {"bugs": []}
        if not self.variants:
            raise TargetError(f"target {self.name!r} has no seeded bugs to switch on")
        chosen = sorted(self.variants) if "all" in bugs else sorted(set(bugs))
        unknown = [b for b in chosen if b not in self.variants]
        if unknown:
            raise TargetError(
                f"unknown bug {', '.join(unknown)} for target {self.name!r}; "
                f"known: {', '.join(sorted(self.variants))}, all, none"
            )
        return {"bugs": chosen}

    def machine(self, parameters: Mapping[str, Any]) -> type[TrioStateMachine]:
        bugs = parameters.get("bugs", [])
        if not isinstance(bugs, list) or any(b not in self.variants for b in bugs):
            raise TargetError(f"parameters {dict(parameters)!r} do not fit target {self.name!r}")
        return self.build(parameters)


def discover(project: Path | None = None) -> dict[str, Target]:
    """Every registered target: entry points first, then ``project``'s pyproject."""
    found: dict[str, Target] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = _checked(entry.name, entry.load())
    for name, spec in _pyproject_targets(project or Path.cwd()).items():
        found[name] = _checked(name, _import(spec))
    return found


def get_target(name: str, project: Path | None = None) -> Target:
    targets = discover(project)
    if name not in targets:
        known = ", ".join(sorted(targets)) or "none registered"
        raise TargetError(f"unknown target {name!r} (known: {known})")
    return targets[name]


def _pyproject_targets(project: Path) -> dict[str, str]:
    path = project / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise TargetError(f"cannot read {path}: {error}") from None
    targets = config.get("tool", {}).get("fuzzer", {}).get("targets", {})
    if not isinstance(targets, dict) or not all(isinstance(v, str) for v in targets.values()):
        raise TargetError(f'{path}: [tool.fuzzer.targets] must map names to "module:attribute"')
    return targets


def _import(spec: str) -> object:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise TargetError(f'target {spec!r} is not of the form "module:attribute"')
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise TargetError(f"cannot load target {spec!r}: {error}") from None


def _checked(name: str, target: object) -> Target:
    if not isinstance(target, Target):
        raise TargetError(f"target {name!r} is not a fuzzer.registry.Target")
    if target.name != name:
        raise TargetError(f"target registered as {name!r} calls itself {target.name!r}")
    return target
