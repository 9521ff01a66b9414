"""local.settings.json: made from the sample on first use, with fresh secrets; read like `func start` does."""
from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

from devstack.processes import REPO_ROOT

SAMPLE = REPO_ROOT / "local.settings.sample.json"
SETTINGS = REPO_ROOT / "local.settings.json"


def ensure_local_settings(path: Path = SETTINGS) -> Path:
    if path.exists():
        return path
    sample = json.loads(SAMPLE.read_text())
    master = secrets.token_urlsafe(24)
    for name, value in sample["Values"].items():
        if value == "<generated:master>":
            sample["Values"][name] = master
        elif value == "<generated>":
            sample["Values"][name] = secrets.token_urlsafe(24)
    path.write_text(json.dumps(sample, indent=2) + "\n")
    return path


def load_values(path: Path = SETTINGS) -> dict[str, str]:
    return {k: str(v) for k, v in json.loads(ensure_local_settings(path).read_text())["Values"].items()}


if __name__ == "__main__":
    print(f"{ensure_local_settings()} ready", file=sys.stderr)
