"""The local backend's tools run in the training environment (LOCAL_TRAINING_PYTHON): the app and
the dev stack resolve the same interpreter, a missing one fails fast naming the variable, and the
job runner and the scoring servers start the processes with exactly that interpreter (real
processes: a stand-in interpreter records how it was called)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack import training_env
from devstack.processes import azurite_connection_string, training_python
from emulator_formats import job_folder
from shared.adapters.local_ml.processes import REPO_ROOT
from shared.adapters.local_ml.scoring_servers import ScoringServers
from shared.bootstrap import BACKENDS
from shared.settings import SettingsError
from tests.builders import unit_settings

RECORDER = """#!/bin/sh
# Stands in for an interpreter: records its arguments and PATH, writes the job's result if asked.
printf '%s\\n' "$@" > "{record}"
printf '%s\\n' "$PATH" >> "{record}"
for argument in "$@"; do
  if [ "$previous" = "--output-file" ]; then echo '{{"model_version": "7", "run_id": "r"}}' > "$argument"; fi
  previous="$argument"
done
"""


@pytest.fixture
def recorder(tmp_path) -> tuple[Path, Path]:
    """An executable that records how it was started: (its path, its record file)."""
    record = tmp_path / "record.txt"
    python = tmp_path / "env" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(RECORDER.format(record=record))
    python.chmod(0o755)
    return python, record


def test_by_default_the_local_backend_gets_the_repos_training_environment():
    platform, endpoints = BACKENDS["local"](unit_settings())
    expected = REPO_ROOT / ".venv-train" / "bin" / "python"  # never resolved: a venv's python is a symlink
    assert platform.training_python == endpoints.servers.python == expected
    assert expected == training_env.training_python() == training_python({}), "what make setup builds, devstack's too"


def test_an_absolute_interpreter_is_taken_as_given(recorder):
    python, _ = recorder
    platform, endpoints = BACKENDS["local"](unit_settings(LOCAL_TRAINING_PYTHON=str(python)))
    assert platform.training_python == endpoints.servers.python == python
    assert training_python({"LOCAL_TRAINING_PYTHON": str(python)}) == python


@pytest.mark.parametrize("value", ["no-such-env/bin/python", "/nonexistent/python", "README.md"])
def test_a_missing_interpreter_fails_fast_naming_the_variable(value):
    with pytest.raises(SettingsError, match="LOCAL_TRAINING_PYTHON"):
        BACKENDS["local"](unit_settings(LOCAL_TRAINING_PYTHON=value))
    with pytest.raises(SettingsError, match="LOCAL_TRAINING_PYTHON"):
        training_python({"LOCAL_TRAINING_PYTHON": value})


def run_job(tmp_path: Path, python: str) -> dict:
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    job_folder.write_spec(job_dir, {"job_name": "j", "experiment": "e", "inputs": [], "python": python,
                                    "command": ["train.py", "--output-file", str(job_folder.result_file(job_dir))]})
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "AzureWebJobsStorage": azurite_connection_string(1)}
    env.pop("LOCAL_JOB_EVENTS_URL", None)
    subprocess.run([sys.executable, "-m", "emulators.local_ml.job_runner", str(job_dir)], env=env, cwd=REPO_ROOT,
                   timeout=60, capture_output=True)
    return job_folder.read_status(job_dir)


def test_the_job_runner_runs_the_command_with_the_specs_interpreter(tmp_path, recorder):
    python, record = recorder
    status = run_job(tmp_path, str(python))
    assert status["status"] == job_folder.COMPLETED and status["model_version"] == "7"
    assert record.read_text().splitlines()[0] == "train.py"


def test_a_job_whose_interpreter_is_gone_fails_naming_it(tmp_path):
    status = run_job(tmp_path, str(tmp_path / "gone" / "python"))
    assert status["status"] == job_folder.FAILED
    assert "gone/python" in status["error"]


def test_scoring_servers_run_mlflow_in_the_given_interpreter(tmp_path, recorder):
    python, record = recorder
    servers = ScoringServers("http://127.0.0.1:9", python)
    process, port, _ = servers.start(tmp_path / "endpoint", "blue", "model", "3", "test")
    assert process.wait(timeout=30) == 0
    *arguments, path = record.read_text().splitlines()
    assert arguments[:4] == ["-m", "mlflow", "models", "serve"]
    assert arguments[arguments.index("-m", 1) + 1] == "models:/model/3" and "--env-manager" in arguments
    assert path.split(os.pathsep)[0] == str(python.parent), "mlflow finds uvicorn beside that interpreter"

