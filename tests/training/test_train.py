"""training/train.py end to end against a temporary SQLite MLflow store."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.training.conftest import SAMPLE_CSV
from training import train
from training.model_contract import METRIC_NAMES
from training.run_logging import version_tags
from training.training_set import file_sha256, training_set_id

ROOT = Path(__file__).resolve().parents[2]
MODEL = "diabetes-test"
MANIFEST = {
    "id": "f" * 64,
    "batches": [
        {"name": "landing/2026/11/batch-001.csv", "etag": '"0x8DC1"', "sha256": "a" * 64},
        {"name": "landing/2026/11/batch-002.csv", "etag": '"0x8DC2"', "sha256": "b" * 64},
    ],
}


@pytest.fixture(scope="module")
def trained(tracking_uri, tmp_path_factory):
    """One registered gradient-boosting run on the 600-row fixture, with a given manifest."""
    work = tmp_path_factory.mktemp("trained")
    manifest = work / "training_set.json"
    manifest.write_text(json.dumps(MANIFEST))
    output = work / "out" / "result.json"
    code = train.main([
        "--data", str(SAMPLE_CSV), "--model-name", MODEL, "--training-set", str(manifest),
        "--job-name", "job-123", "--output-file", str(output),
    ])
    assert code == 0
    return json.loads(output.read_text())


def client(uri):
    from mlflow import MlflowClient

    return MlflowClient(uri)


def test_output_file_and_plausible_metrics(trained):
    assert trained["model_name"] == MODEL
    assert trained["model_version"] == "1"
    assert trained["training_set_id"] == MANIFEST["id"]
    metrics = trained["metrics"]
    assert set(metrics) == {"accuracy", "auc", "precision", "recall", "f1"}
    assert metrics["auc"] > 0.8
    assert 0.7 < metrics["accuracy"] <= 1.0
    assert all(0.0 <= value <= 1.0 for value in metrics.values())


def test_run_has_params_metrics_and_training_set_tag(trained, tracking_uri):
    run = client(tracking_uri).get_run(trained["run_id"])
    assert run.data.tags["training_set_id"] == MANIFEST["id"]
    params = run.data.params
    assert params["algorithm"] == "gradient_boosting"
    assert params["n_estimators"] == "100" and params["learning_rate"] == "0.1" and params["max_depth"] == "3"
    assert params["seed"] == "42" and params["test_size"] == "0.3"
    assert params["rows"] == "600" and params["training_set_batches"] == "2"
    assert params["training_set_id"] == MANIFEST["id"]
    assert run.data.metrics["auc"] == pytest.approx(trained["metrics"]["auc"])
    experiment = client(tracking_uri).get_experiment(run.info.experiment_id)
    assert experiment.name == "diabetes-training"


def test_model_version_created_with_tags(trained, tracking_uri):
    version = client(tracking_uri).get_model_version(MODEL, trained["model_version"])
    tags = version.tags
    assert version.run_id == trained["run_id"]
    assert tags["training_set_id"] == MANIFEST["id"]
    assert tags["training_set_batches"] == "2"
    assert json.loads(tags["training_set"]) == [{"name": b["name"], "etag": b["etag"]} for b in MANIFEST["batches"]]
    assert tags["job_name"] == "job-123"
    assert tags["algorithm"] == "gradient_boosting"
    for name, value in trained["metrics"].items():
        assert float(tags[f"metric.{name}"]) == pytest.approx(value, abs=1e-6)


def test_artifacts(trained, tracking_uri, tmp_path):
    import mlflow

    names = {a.path for a in client(tracking_uri).list_artifacts(trained["run_id"])}
    assert {"roc_curve.png", "confusion_matrix.png", "training_set.json", "baseline_profile.json", "model"} <= names
    model_files = {a.path for a in client(tracking_uri).list_artifacts(trained["run_id"], "model")}
    assert {"model/MLmodel", "model/model.skops", "model/input_example.json", "model/requirements.txt"} <= model_files
    # plain run artifacts: no logged model (the API Azure ML does not have) was created
    experiment_id = client(tracking_uri).get_run(trained["run_id"]).info.experiment_id
    assert list(client(tracking_uri).search_logged_models([experiment_id])) == []
    local = Path(mlflow.artifacts.download_artifacts(run_id=trained["run_id"], dst_path=str(tmp_path)))
    for image in ("roc_curve.png", "confusion_matrix.png"):
        assert (local / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((local / "training_set.json").read_text()) == MANIFEST
    profile = json.loads((local / "baseline_profile.json").read_text())
    assert set(profile["features"]) == {
        "Pregnancies", "PlasmaGlucose", "DiastolicBloodPressure", "TricepsThickness",
        "SerumInsulin", "BMI", "DiabetesPedigree", "Age",
    }
    assert profile["rows"] == 420  # training split of 600 rows at test size 0.3
    assert profile["features"]["Age"]["dtype"] == "int64"
    assert profile["features"]["BMI"]["dtype"] == "float64"
    assert (local / "baseline_profile.json").stat().st_size < 100_000
    heldout = (local / "evaluation" / "heldout.csv").read_text().splitlines()
    assert heldout[0].endswith(",Diabetic") and "PatientID" not in heldout[0]
    assert len(heldout) == 1 + 180  # the 30% held-out split of 600 rows


def test_registered_model_loads_and_predicts_its_input_example(trained):
    import mlflow
    from mlflow.models import Model

    uri = f"models:/{MODEL}/{trained['model_version']}"
    example = Model.load(uri).load_input_example(mlflow.artifacts.download_artifacts(uri))
    assert isinstance(example, pd.DataFrame) and len(example) == 5
    predictions = mlflow.pyfunc.load_model(uri).predict(example)
    assert set(pd.Series(predictions).unique()) <= {0, 1}
    # rows as the CSVs have them (integer columns) pass the signature
    raw = pd.read_csv(SAMPLE_CSV).drop(columns=["PatientID", "Diabetic"]).head(3)
    assert set(mlflow.pyfunc.load_model(uri).predict(raw)) <= {0, 1}


def test_folder_of_two_csvs_trains_on_both(tracking_uri, tmp_path):
    frame = pd.read_csv(SAMPLE_CSV)
    folder = tmp_path / "landing"
    (folder / "day2").mkdir(parents=True)
    frame.iloc[:250].to_csv(folder / "a.csv", index=False)
    frame.iloc[250:].to_csv(folder / "day2" / "b.csv", index=False)
    (folder / "notes.txt").write_text("not data")
    output = tmp_path / "result.json"
    assert train.main(["--data", str(folder), "--model-name", MODEL, "--output-file", str(output)]) == 0
    result = json.loads(output.read_text())
    run = client(tracking_uri).get_run(result["run_id"])
    assert run.data.params["rows"] == "600"
    assert run.data.params["training_set_batches"] == "2"
    version = client(tracking_uri).get_model_version(MODEL, result["model_version"])
    assert json.loads(version.tags["training_set"]) == [{"name": "a.csv", "etag": None}, {"name": "day2/b.csv", "etag": None}]
    # the built manifest: names relative to --data, content hashes, id over them
    assert version.tags["training_set_id"] == result["training_set_id"] == training_set_id([
        {"name": "a.csv", "sha256": file_sha256(folder / "a.csv")},
        {"name": "day2/b.csv", "sha256": file_sha256(folder / "day2" / "b.csv")},
    ])


@pytest.mark.parametrize("algorithm", ["logistic_regression", "random_forest"])
def test_other_algorithms_without_registering(tracking_uri, tmp_path, algorithm):
    output = tmp_path / "result.json"
    code = train.main([
        "--data", str(SAMPLE_CSV), "--model-name", "unregistered", "--algorithm", algorithm,
        "--no-register", "--experiment", "other-algorithms", "--output-file", str(output),
    ])
    assert code == 0
    result = json.loads(output.read_text())
    assert result["model_version"] is None
    assert result["metrics"]["auc"] > 0.8
    params = client(tracking_uri).get_run(result["run_id"]).data.params
    assert params["algorithm"] == algorithm
    assert ("reg_rate" in params) == (algorithm == "logistic_regression")


def test_training_set_id_matches_the_service(tmp_path):
    from shared.domain.batches import BatchRef
    from shared.domain.training import training_set_id as service_training_set_id

    refs = [BatchRef("c", "x/b.csv", "e1", "1" * 64), BatchRef("c", "a.csv", "e2", "2" * 64)]
    assert training_set_id([{"name": r.name, "sha256": r.sha256} for r in refs]) == service_training_set_id(refs)


def test_long_training_set_tag_is_omitted():
    metrics = dict.fromkeys(METRIC_NAMES, 0.5)
    many = {"id": "x", "batches": [{"name": f"landing/batch-{i:05d}.csv", "etag": '"0x8DC0000000000"'} for i in range(100)]}
    tags = version_tags(many, metrics, "job", "gradient_boosting")
    assert "training_set" not in tags and tags["training_set_batches"] == "100"
    few = {"id": "x", "batches": many["batches"][:3]}
    assert len(json.loads(version_tags(few, metrics, "job", "gradient_boosting")["training_set"])) == 3
    assert all(isinstance(value, str) for value in tags.values())


# ----------------------------------------------------------------- bad input


def _csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def sample():
    return pd.read_csv(SAMPLE_CSV)


BAD_INPUTS = {
    "no_csv": (lambda tmp, df: (tmp / "empty").mkdir() or tmp / "empty", "no CSV found"),
    "missing_path": (lambda tmp, df: tmp / "nowhere.csv", "no CSV found"),
    "missing_label": (lambda tmp, df: _csv(tmp / "d.csv", df.drop(columns=["Diabetic"])), "missing label column 'Diabetic'"),
    "few_rows": (lambda tmp, df: _csv(tmp / "d.csv", df.head(19)), "fewer than 20 rows"),
    "one_class": (lambda tmp, df: _csv(tmp / "d.csv", df[df.Diabetic == 0]), "only one class"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line(case, tmp_path, sample, capsys, tracking_uri):
    make, message = BAD_INPUTS[case]
    data = make(tmp_path, sample)
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--data", str(data), "--model-name", MODEL])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_bad_manifest_exits_2(tmp_path, capsys, tracking_uri):
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"batches": []}))
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--data", str(SAMPLE_CSV), "--model-name", MODEL, "--training-set", str(manifest)])
    assert exit_info.value.code == 2
    assert "has no string 'id'" in capsys.readouterr().err


def test_runs_as_a_script_from_its_folder(tmp_path):
    """As Azure ML runs it (code: training/, `python train.py`): bad input → exit 2, one stderr line."""
    (tmp_path / "empty").mkdir()
    done = subprocess.run(
        [sys.executable, "train.py", "--data", str(tmp_path / "empty"), "--model-name", MODEL],
        cwd=ROOT / "training", capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [f"train.py: error: no CSV found in {tmp_path / 'empty'}"]


def test_job_yml_command_matches_the_cli():
    """Every ${{inputs.X}} in training/job.yml is defined, and the resolved command parses."""
    import re
    import shlex

    import yaml

    job = yaml.safe_load((ROOT / "training" / "job.yml").read_text())
    assert job["type"] == "command" and job["code"] == "."
    assert job["inputs"]["training_data"]["type"] == "uri_folder"
    assert job["inputs"]["training_data"]["mode"] == "ro_mount"
    assert (ROOT / "training" / job["environment"]["conda_file"]).is_file()
    referenced = set(re.findall(r"\$\{\{inputs\.(\w+)\}\}", job["command"]))
    assert referenced == set(job["inputs"])
    values = {name: str(value) for name, value in job["inputs"].items() if name != "training_data"}
    values["training_data"] = "/mnt/azureml/inputs/training_data"
    command = re.sub(r"\$\{\{inputs\.(\w+)\}\}", lambda m: values[m.group(1)], job["command"])
    argv = shlex.split(command)
    assert argv[:2] == ["python", "train.py"]
    args = train.parse_args(argv[2:])
    assert args.algorithm == "gradient_boosting" and args.register and args.max_depth == 3
