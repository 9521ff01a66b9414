"""local.settings.json: made from the sample on first use, with fresh secrets; read like `func start` does."""
from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

from devstack.processes import REPO_ROOT

SAMPLE = REPO_ROOT / "local.settings.sample.json"
SETTINGS = REPO_ROOT / "local.settings.json"


def generated_values(**overrides: str) -> dict[str, str]:
    """The sample's values with fresh secrets in place of its <generated> placeholders."""
    values = {k: str(v) for k, v in json.loads(SAMPLE.read_text())["Values"].items()}
    master = secrets.token_urlsafe(24)
    for name, value in values.items():
        if value == "<generated:master>":
            values[name] = master
        elif value == "<generated>":
            values[name] = secrets.token_urlsafe(24)
    return {**values, **overrides}


def ensure_local_settings(path: Path = SETTINGS) -> Path:
    """Create the file from the sample, or add the settings a newer sample introduced (keeping yours)."""
    sample = json.loads(SAMPLE.read_text())
    current = json.loads(path.read_text()) if path.exists() else {**sample, "Values": {}}
    missing = {k: v for k, v in generated_values().items() if k not in current["Values"]}
    if missing or not path.exists():
        current["Values"].update(missing)
        path.write_text(json.dumps(current, indent=2) + "\n")
    return path


def load_values(path: Path = SETTINGS) -> dict[str, str]:
    return {k: str(v) for k, v in json.loads(ensure_local_settings(path).read_text())["Values"].items()}


if __name__ == "__main__":
    print(f"{ensure_local_settings()} ready", file=sys.stderr)
