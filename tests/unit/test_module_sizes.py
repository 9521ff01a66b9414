"""Small modules with one job: none of the app's, the host's, the stack's or training's modules reaches 300 lines."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("shared", "blueprints", "devhost", "devstack", "training", "emulators", "emulator_formats")
LIMIT = 300


def test_no_module_reaches_the_limit():
    too_long = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines >= LIMIT:
                too_long[str(path.relative_to(ROOT))] = lines
    assert too_long == {}, f"modules of {LIMIT} lines or more: {too_long}"
