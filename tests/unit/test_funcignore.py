""".funcignore: the app package keeps every module the app imports at runtime and the training
code it uploads as the Azure ML job's code, and leaves out tests, tooling, data and docs."""
from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the deployed app needs: the entry point, the host's files, and the remote build's input.
SHIPPED_FILES = ["function_app.py", "host.json", "requirements.txt"]
# The grammar this file keeps to (a subset of gitignore's, matched exactly below).
PATTERN = re.compile(r"/[\w.-]+/?|[\w.-]+/|\*\.\w+")


def patterns() -> list[str]:
    lines = [l.strip() for l in (ROOT / ".funcignore").read_text().splitlines()]
    return [l for l in lines if l and not l.startswith("#")]


def ignored(path: str) -> bool:
    """gitignore semantics for the patterns of PATTERN: `path` is relative, with '/' (a trailing
    one: a folder, whether or not it exists here)."""
    is_dir = path.endswith("/") or (ROOT / path).is_dir()
    parts = path.rstrip("/").split("/")
    for pattern in patterns():
        if pattern.startswith("*."):
            if parts[-1].endswith(pattern[1:]):
                return True
        elif pattern.startswith("/"):
            name = pattern.strip("/")
            if parts[0] == name and (not pattern.endswith("/") or len(parts) > 1 or is_dir):
                return True
        else:  # name/: a folder of that name at any depth
            name = pattern.rstrip("/")
            folders = parts if is_dir else parts[:-1]
            if name in folders:
                return True
    return False


def files_under(folder: str) -> list[str]:
    return [p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts]


def first_party_imports(paths: list[Path]) -> set[str]:
    """Top-level first-party packages/modules imported (anywhere in the code, lazy imports too)."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return {n for n in names if (ROOT / n).is_dir() or (ROOT / f"{n}.py").is_file()}


def runtime_packages() -> set[str]:
    """function_app.py's first-party imports, followed through every first-party package they import."""
    seen, todo = set(), {"function_app"}
    while todo:
        name = todo.pop()
        seen.add(name)
        paths = [ROOT / f"{name}.py"] if (ROOT / f"{name}.py").is_file() else list((ROOT / name).rglob("*.py"))
        todo |= first_party_imports(paths) - seen
    return seen


def test_the_patterns_keep_to_the_grammar_the_checks_match():
    assert patterns(), ".funcignore is empty"
    for pattern in patterns():
        assert PATTERN.fullmatch(pattern), f".funcignore: {pattern!r} is outside the checked grammar"


def test_the_matcher_follows_gitignore_for_these_patterns():
    assert ignored("tests/unit/test_infra.py") and ignored("tests")
    assert ignored("shared/__pycache__/x.cpython-311.pyc") and ignored("shared/x.pyc")
    assert not ignored("shared/ports/__init__.py") and not ignored("training/README.md")  # /README.md is anchored


def test_every_module_the_app_imports_at_runtime_is_shipped():
    packages = runtime_packages()
    assert {"function_app", "blueprints", "shared"} <= packages
    assert "tests" not in packages and "devstack" not in packages and "devhost" not in packages
    for package in packages:
        paths = [f"{package}.py"] if (ROOT / f"{package}.py").is_file() else files_under(package)
        assert paths and not [p for p in paths if ignored(p)], f"{package}: shipped code is ignored"
    for name in SHIPPED_FILES:
        assert (ROOT / name).is_file() and not ignored(name), name


def test_the_training_code_the_app_uploads_as_the_job_code_is_shipped():
    from shared.adapters.azure_ml.config import AzureMLConfig

    code = AzureMLConfig("s", "rg", "ws").training_code_dir
    assert code == ROOT / "training"
    files = files_under("training")
    assert "training/train.py" in files and "training/environment/conda.yml" in files
    assert not [f for f in files if ignored(f)]


@pytest.mark.parametrize("left_out", [
    "tests/", "tests/training/", "devstack/", "devhost/", "emulators/", "data/", "docs/", "bench/", "infra/",
    "node_modules/", ".venv/", ".venv-train/", ".github/", "local.settings.json", "local.settings.sample.json",
    "package.json", "Makefile", "requirements-test.txt", "README.md",
])
def test_tooling_tests_data_and_docs_are_left_out(left_out):
    assert ignored(left_out), left_out
    if left_out.endswith("/") and (ROOT / left_out).is_dir():
        assert all(ignored(f) for f in files_under(left_out)[:200]), left_out


def test_every_top_level_entry_is_shipped_or_left_out_on_purpose():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    top = {line.split("/")[0] for line in tracked.splitlines() if line}
    shipped = runtime_packages() | {"training", *SHIPPED_FILES, "function_app.py"}
    shipped_names = {n if (ROOT / n).exists() else f"{n}.py" for n in shipped}
    unclassified = {n for n in top if n not in shipped_names and not ignored(n)}
    assert not unclassified, f"add these to .funcignore or to the shipped list of this test: {sorted(unclassified)}"
