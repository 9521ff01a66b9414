"""The deployed app loads what training saves: train.py runs in the training environment
(.venv-train, training/environment/conda.yml) against a real MLflow server, and this process, on
requirements.txt's set (.venv), loads the versions as the quality gate, the smoke test and the
drift scoring do. The saved model asks only for pinned PyPI packages of the training environment
(plus what Azure ML's scoring script needs)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest
import yaml

from devstack.training_env import pip_requirements, python_version, training_python
from shared.domain.smoke import check_response, payload, sample_rows

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CSV = ROOT / "tests" / "fixtures" / "diabetes-sample.csv"
MODEL = "diabetes-loads"
ALGORITHMS = ("gradient_boosting", "logistic_regression", "random_forest")  # versions 1, 2, 3
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)$")
SAME_PROJECT = {"mlflow": "mlflow-skinny"}  # requirements.txt installs MLflow's client only


def name_of(requirement: str) -> str:
    return re.split(r"[=<>!~ ;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


@pytest.fixture(scope="module")
def trained(mlflow_server, tmp_path_factory) -> dict[str, dict]:
    python = training_python()
    assert python.exists(), f"no training environment at {python.parent.parent}: make setup builds it"
    results = {}
    for algorithm in ALGORITHMS:
        output = tmp_path_factory.mktemp("trained") / "result.json"
        done = subprocess.run(
            [str(python), "train.py", "--data", str(SAMPLE_CSV), "--model-name", MODEL, "--algorithm", algorithm,
             "--job-name", f"job-{algorithm}", "--output-file", str(output)],
            cwd=ROOT / "training", capture_output=True, text=True, timeout=300,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(output.parent),
                 "MLFLOW_TRACKING_URI": mlflow_server},
        )
        assert done.returncode == 0, done.stderr[-3000:]
        results[algorithm] = json.loads(output.read_text())
    return results


def versions(trained) -> list[str]:
    return [trained[a]["model_version"] for a in ALGORITHMS]


def model_file(tracking_uri: str, version: str, name: str) -> str:
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tracking_uri(tracking_uri)
        return Path(mlflow.artifacts.download_artifacts(f"models:/{MODEL}/{version}/{name}", dst_path=tmp)).read_text()


def test_the_gate_evaluates_every_version_with_sklearn(trained, mlflow_server):
    from shared.adapters.mlflow_models import evaluate_models

    first = trained[ALGORITHMS[0]]
    results = evaluate_models(mlflow_server, MODEL, versions(trained), first["model_version"])
    assert set(results) == set(versions(trained))
    assert all(r["rows"] == 180 and r["auc"] > 0.8 for r in results.values())
    # the same held-out split and the same model: the training run's own metrics
    assert results[first["model_version"]]["auc"] == pytest.approx(first["metrics"]["auc"], abs=1e-9)


def test_the_smoke_test_payload_scores_with_pyfunc(trained, mlflow_server):
    import mlflow
    import pandas as pd

    from shared.adapters.mlflow_models import input_example

    recent_columns, recent_rows = sample_rows([SAMPLE_CSV.read_bytes()], 5)
    for version in versions(trained):
        columns, rows = input_example(mlflow_server, MODEL, version)
        assert columns == recent_columns and len(rows) == 5
        body = payload(columns, rows + recent_rows)["input_data"]
        frame = pd.DataFrame(body["data"], columns=body["columns"], index=body["index"])
        model = mlflow.pyfunc.load_model(f"models:/{MODEL}/{version}")  # what a scoring server loads
        predictions = [int(p) for p in model.predict(frame)]
        assert check_response(200, predictions, len(frame), 1.0, 1e9).passed, predictions


def test_drift_scoring_reads_labelled_csv_chunks(trained, mlflow_server):
    from shared.adapters.mlflow_models import score_data

    data = SAMPLE_CSV.read_bytes()
    for version in versions(trained):
        scored = score_data(mlflow_server, MODEL, version, iter([data[:10_000], data[10_000:]]))
        assert scored["rows"] == 600 and scored["auc"] > 0.8


def test_the_model_asks_only_for_pinned_packages_of_the_training_environment(trained, mlflow_server):
    from training.model_requirements import SERVING_ONLY

    training_pins = dict(PINNED.match(p).groups() for p in pip_requirements())
    training_pins = {name_of(n): v for n, v in training_pins.items()}
    allowed = {**training_pins, **{name_of(n): v for n, v in (PINNED.match(p).groups() for p in SERVING_ONLY)}}
    for version in versions(trained):
        lines = [line for line in model_file(mlflow_server, version, "requirements.txt").splitlines() if line.strip()]
        pins = {}
        for line in lines:
            match = PINNED.match(line)
            assert match, f"v{version} requirements.txt: {line!r} is not a pinned PyPI package"
            pins[name_of(match.group(1))] = match.group(2)
        assert pins == {name: allowed[name] for name in pins}, f"v{version}: {pins} vs the training environment"
        assert {"mlflow", "scikit-learn", "skops", "azureml-ai-monitoring"} <= set(pins)
        # the app loads it on the same versions it was saved with
        for name in set(pins) & set(training_pins):
            assert installed_version(SAME_PROJECT.get(name, name)) == pins[name], name

        conda = yaml.safe_load(model_file(mlflow_server, version, "conda.yaml"))
        plain = [d for d in conda["dependencies"] if isinstance(d, str)]
        (pip_list,) = [d["pip"] for d in conda["dependencies"] if isinstance(d, dict)]
        assert pip_list == lines
        assert [d for d in plain if not d.startswith(("python=", "pip"))] == []
        (python,) = [d for d in plain if d.startswith("python=")]
        assert python.split("=", 1)[1].startswith(python_version() + ".")
        assert conda["channels"] == ["conda-forge"]

        flavors = yaml.safe_load(model_file(mlflow_server, version, "MLmodel"))["flavors"]
        assert flavors["sklearn"]["serialization_format"] == "skops" and "python_function" in flavors
