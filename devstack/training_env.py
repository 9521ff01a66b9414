"""The local training environment (.venv-train): the pip list of training/environment/conda.yml,
the environment Azure ML builds for the training job, installed into a venv of its own.

    python -m devstack.training_env requirements   # print the pip list
    python -m devstack.training_env install DIR    # create DIR as a venv with that list (+ test tools)

Local training jobs, the MLflow server and the deployments' scoring servers run from it; the app
and its tests run from .venv (requirements.txt + test tools) and never import it.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONDA_FILE = REPO_ROOT / "training" / "environment" / "conda.yml"
TOOLS_FILE = REPO_ROOT / "requirements-train-tools.txt"
DEFAULT_DIR = REPO_ROOT / ".venv-train"


def pip_requirements(conda_file: Path = CONDA_FILE) -> list[str]:
    """The `pip:` list of the conda environment file, in its order."""
    import yaml

    spec = yaml.safe_load(conda_file.read_text())
    for dependency in spec.get("dependencies", []):
        if isinstance(dependency, dict) and "pip" in dependency:
            return [str(item) for item in dependency["pip"]]
    raise ValueError(f"{conda_file}: no pip list under dependencies")


def python_version(conda_file: Path = CONDA_FILE) -> str:
    """The `python=X.Y` pin of the conda environment file."""
    import yaml

    for dependency in yaml.safe_load(conda_file.read_text()).get("dependencies", []):
        if isinstance(dependency, str) and dependency.startswith("python="):
            return dependency.split("=", 1)[1]
    raise ValueError(f"{conda_file}: no python= pin")


def training_python(venv: Path = DEFAULT_DIR) -> Path:
    return venv / "bin" / "python"


def install(venv: Path) -> None:
    wanted = python_version()
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running != wanted:
        raise SystemExit(f"training environment wants Python {wanted}; this is {running}")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(training_python(venv)), "-m", "pip", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    listed = venv / "requirements.txt"
    listed.write_text("\n".join(pip_requirements()) + "\n")
    subprocess.run([*pip, "install", "-r", str(listed), "-r", str(TOOLS_FILE)], check=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["requirements"]:
        print("\n".join(pip_requirements()))
        return 0
    if argv[:1] == ["install"] and len(argv) == 2:
        install(Path(argv[1]).resolve())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
