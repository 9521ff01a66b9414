"""EmulatorConfig from a JSON file (what devstack writes) or command-line overrides, and back."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from emulators.azure.context import EmulatorConfig

PATH_FIELDS = {"root", "repo_root", "training_python"}


def from_dict(values: dict[str, Any]) -> EmulatorConfig:
    """An EmulatorConfig from JSON-able values (unknown keys are an error, missing required ones too)."""
    known = {f.name: f for f in dataclasses.fields(EmulatorConfig)}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown emulator settings: {sorted(unknown)}")
    converted = {}
    for name, value in values.items():
        if name in PATH_FIELDS:
            value = Path(value)
        elif known[name].type in ("int", int):
            value = int(value)
        elif known[name].type in ("float", float):
            value = float(value)
        converted[name] = value
    return EmulatorConfig(**converted)


def to_dict(config: EmulatorConfig) -> dict[str, Any]:
    """JSON-able values of `config` (paths as strings)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(config).items()}


def load(path: Path, overrides: dict[str, Any] | None = None) -> EmulatorConfig:
    """The config in the JSON file `path`, with `overrides` (e.g. from the command line) on top."""
    values = json.loads(Path(path).read_text(encoding="utf-8"))
    return from_dict({**values, **(overrides or {})})


def save(config: EmulatorConfig, path: Path) -> Path:
    """Write `config` to `path`, readable by its owner only (it holds the storage key, the identity
    header and the host's system keys)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # a file that existed keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(to_dict(config), indent=2))
    return path


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """`--set name=value` pairs → {name: value} (converted by `from_dict`)."""
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set needs name=value, got {pair!r}")
        overrides[name.strip()] = value
    return overrides
