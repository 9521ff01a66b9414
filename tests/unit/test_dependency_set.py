"""One dependency set: the training environment (training/environment/conda.yml, its pip list), the
app's requirements.txt, the pins stated in training/README.md and the app's test tools agree.

NEEDS THE PACKAGE INDEX: the tests named `test_package_index_*` ask the package index (pip's own
configuration: PyPI here and in CI) to resolve a list with `pip install --dry-run --ignore-installed`.
They are never skipped: an index that cannot be reached fails them with a message that says so.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, distribution, version as installed_version
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from devstack.training_env import pip_requirements, python_version
from training.model_requirements import FROM_TRAINING_ENVIRONMENT, SERVING_ONLY

ROOT = Path(__file__).resolve().parents[2]
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)$")
SAME_PROJECT = {"mlflow-skinny": "mlflow"}  # MLflow's client only: the same project, the same versions
RESOLVE_TIMEOUT_SECONDS = 900
UNREACHABLE = ("NewConnectionError", "Failed to establish a new connection", "Max retries exceeded",
               "Temporary failure in name resolution", "Name or service not known", "ConnectTimeout",
               "Read timed out", "Network is unreachable")


def canonical(name: str) -> str:
    name = re.sub(r"[-_.]+", "-", name).lower()
    return SAME_PROJECT.get(name, name)


def pins_of(lines: list[str], where: str) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = PINNED.match(line)
        assert match, f"{where}: {line!r} is not name==version"
        pins[canonical(match.group(1))] = match.group(2)
    return pins


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file, its `-r` includes followed."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            lines += requirement_lines(path.parent / line[3:].strip())
        elif line:
            lines.append(line)
    return lines


def app_pins() -> dict[str, str]:
    return pins_of(requirement_lines(ROOT / "requirements.txt"), "requirements.txt")


def training_pins() -> dict[str, str]:
    return pins_of(pip_requirements(), "conda.yml pip list")


def tool_lines() -> list[str]:
    app = set(requirement_lines(ROOT / "requirements.txt"))
    return [line for line in requirement_lines(ROOT / "requirements-test.txt") if line not in app]


def resolve(requirements: list[str], what: str) -> dict[str, str]:
    """What pip would install for these requirements into an empty environment: {name: version}.
    (The report goes to a file, not stdout: pip then still says what conflicts with what.)"""
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == python_version(), \
        "resolve with the training environment's Python"
    with tempfile.TemporaryDirectory() as tmp:
        report_file = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                   "--disable-pip-version-check", "--report", str(report_file), *requirements]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=RESOLVE_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{what}: pip did not finish resolving in {RESOLVE_TIMEOUT_SECONDS} s (package index slow or unreachable)")
        if done.returncode != 0:
            fail_to_resolve(what, done)
        report = json.loads(report_file.read_text())
    return {canonical(item["metadata"]["name"]): item["metadata"]["version"] for item in report["install"]}


def fail_to_resolve(what: str, done: subprocess.CompletedProcess) -> None:
    said = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("WARNING: Location"))
    if any(marker in said for marker in UNREACHABLE):
        pytest.fail(f"{what}: the package index cannot be reached, so this check cannot run (CI reaches PyPI):\n{said[-1500:]}")
    hint = " (pip saw no version of it at all: a wrong name, or no index reached)" if "(from versions: none)" in said else ""
    why = done.stdout[done.stdout.find("The conflict is caused by"):] if "The conflict is caused by" in done.stdout else ""
    pytest.fail(f"{what} does not resolve{hint}:\n{said[-2000:]}\n{why[:1500]}")


# ------------------------------------------------------------------ (a) the lists resolve


@pytest.mark.package_index
def test_package_index_resolves_the_training_environment():
    """The check that would have caught pandas 3.1.1 beside mlflow 3.15 (which needs pandas < 3)."""
    resolved = resolve(pip_requirements(), "training/environment/conda.yml's pip list")
    for name, pinned in training_pins().items():
        assert resolved.get(name) == pinned, f"{name}: resolved {resolved.get(name)}, pinned {pinned}"


@pytest.mark.package_index
def test_package_index_resolves_the_saved_model_requirements():
    """What Azure ML installs to serve a model: the training pins the model lists, plus SERVING_ONLY."""
    pins = training_pins()
    wanted = [f"{name}=={pins[canonical(name)]}" for name in FROM_TRAINING_ENVIRONMENT] + list(SERVING_ONLY)
    resolved = resolve(wanted, "the model's requirements")
    assert all(resolved.get(canonical(n)) == v for n, v in (PINNED.match(w).groups() for w in wanted)), resolved


@pytest.mark.package_index
def test_package_index_resolves_the_app_alike_alone_and_with_its_test_tools():
    """Test tools change no version of the app's set: requirements.txt resolved alone gives each of
    its packages (direct or not) the same version as with requirements-test.txt."""
    alone = resolve(requirement_lines(ROOT / "requirements.txt"), "requirements.txt")
    together = resolve(requirement_lines(ROOT / "requirements-test.txt"), "requirements-test.txt")
    differ = {name: (v, together.get(name)) for name, v in alone.items() if together.get(name) != v}
    assert differ == {}, f"test tools move the app's packages (alone, with test tools): {differ}"


# ------------------------------------------------------------------ (b) the two lists agree


def test_packages_in_both_lists_have_the_same_version():
    app, training = app_pins(), training_pins()
    assert set(app) & set(training), "no package in common: the comparison is vacuous"
    differ = {name: (training[name], app[name]) for name in set(app) & set(training) if app[name] != training[name]}
    assert differ == {}, f"(conda.yml, requirements.txt) differ: {differ}"


def test_the_app_pins_every_package_the_model_needs_to_load():
    app = app_pins()
    assert {canonical(n) for n in FROM_TRAINING_ENVIRONMENT} <= set(app), sorted(set(map(canonical, FROM_TRAINING_ENVIRONMENT)) - set(app))


def test_every_pin_is_a_plain_pypi_pin():
    for line in pip_requirements() + requirement_lines(ROOT / "requirements.txt") + tool_lines() + list(SERVING_ONLY):
        assert PINNED.match(line), f"{line!r}: not a name==version pin (no URL, path or range)"


# ------------------------------------------------------------------ (c) the README states them


def readme_pins() -> dict[str, tuple[str, str]]:
    """training/README.md's pins table: {package: (conda.yml version, requirements.txt version or '—')}."""
    text = (ROOT / "training" / "README.md").read_text()
    section = text.split("## The training environment and its pins", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith(("| package", "| ---"))]
    table = {}
    for row in rows:
        package, training, app = (cell.strip() for cell in row.strip("|").split("|"))
        table[package] = (training, app.split(" ", 1)[0])
    return table


def test_the_readme_states_the_same_pins():
    table, app = readme_pins(), app_pins()
    assert table.pop("python") == (python_version(), "—")
    assert {name: training for name, (training, _) in table.items()} == training_pins()
    assert {name: shown for name, (_, shown) in table.items()} == {name: app.get(name, "—") for name in table}
    text = (ROOT / "training" / "README.md").read_text()
    assert all(f"`{extra}`" in text for extra in SERVING_ONLY)


# ------------------------------------------------------------------ (d) test tools are test tools only


def closure(names: set[str]) -> set[str]:
    """The installed distributions these need, transitively (their extras not counted)."""
    environment = {**default_environment(), "extra": ""}
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                todo.append(re.sub(r"[-_.]+", "-", requirement.name).lower())
    return seen


def test_requirements_test_adds_only_test_tools():
    tools = {canonical(PINNED.match(line).group(1)) for line in tool_lines()}
    assert {"pytest", "pytest-xdist"} <= tools
    app_names = {re.sub(r"[-_.]+", "-", PINNED.match(line).group(1)).lower() for line in requirement_lines(ROOT / "requirements.txt")}
    assert tools & set(app_pins()) == set(), "requirements-test.txt pins a package of requirements.txt"
    assert tools & closure(app_names) == set(), "requirements-test.txt pins a dependency of the app's packages"


def test_dot_venv_has_requirements_txt_exactly():
    """The app's tests run on the deployed versions: no test tool pulled another one in."""
    differ = {}
    for line in requirement_lines(ROOT / "requirements.txt"):
        name, pinned = PINNED.match(line).groups()
        if installed_version(name) != pinned:
            differ[name] = (installed_version(name), pinned)
    assert differ == {}, f"(installed, pinned) in this environment: {differ}"
