"""train.py as an Azure ML job runs it, against a real MLflow server behind a proxy that answers
404 to the logged-models API as Azure ML's tracking server does: the run still logs its model
and registers a version with its tags, and never calls that API."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.http_receiver import post_receiver
from tests.training.azure_like_proxy import AzureLikeProxy
from tests.training.conftest import SAMPLE_CSV
from tests.training.test_train import MANIFEST

pytestmark = pytest.mark.integration

TRAINING = Path(__file__).resolve().parents[2] / "training"
CREATE_VERSION = "/api/2.0/mlflow/model-versions/create"


@pytest.fixture
def proxy(mlflow_server):
    with AzureLikeProxy(int(mlflow_server.rsplit(":", 1)[1])) as running:
        yield running


@pytest.fixture
def webhook_deliveries(mlflow_server):
    """(headers, body) of the `model_version.created` deliveries the real server sends while the test runs."""
    from mlflow import MlflowClient

    with post_receiver() as (url, received):
        client = MlflowClient(mlflow_server)
        webhook = client.create_webhook(f"hb-{uuid.uuid4().hex[:6]}", url, events=["model_version.created"],
                                        secret=uuid.uuid4().hex)
        yield received
        client.delete_webhook(webhook.webhook_id)


def azure_ml_job_run(tracking_uri: str) -> str:
    """The run Azure ML creates for a command job before the script starts (MLFLOW_RUN_ID)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment(f"azure-job-{uuid.uuid4().hex[:8]}")
    return client.create_run(experiment).info.run_id


def run_script(args: list[str], tracking_uri: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """`python train.py ...` from training/ as job.yml's command runs it (code: ., only that folder)."""
    return subprocess.run(
        [sys.executable, "train.py", *args], cwd=TRAINING, capture_output=True, text=True, timeout=300,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
             "MLFLOW_TRACKING_URI": tracking_uri, **env},
    )


def test_job_registers_a_tagged_version_without_the_logged_models_api(proxy, mlflow_server, webhook_deliveries, tmp_path):
    from mlflow import MlflowClient

    model = f"azure-like-{uuid.uuid4().hex[:6]}"
    run_id = azure_ml_job_run(mlflow_server)
    (tmp_path / "training_set.json").write_text(json.dumps(MANIFEST))
    done = run_script(["--data", str(SAMPLE_CSV), "--model-name", model, "--training-set", str(tmp_path / "training_set.json"),
                       "--output-file", str(tmp_path / "result.json")],
                      proxy.url, tmp_path, MLFLOW_RUN_ID=run_id, AZUREML_RUN_ID=run_id)
    assert done.returncode == 0, done.stderr[-3000:]

    assert proxy.traffic.refused == []  # not one call to the API Azure ML does not have
    forwarded = proxy.traffic.forwarded
    assert any(s.method == "PUT" and s.path.endswith(f"/{run_id}/artifacts/model/MLmodel") for s in forwarded)
    (create,) = [s for s in forwarded if s.path == CREATE_VERSION]
    assert create.body["source"].endswith(f"/{run_id}/artifacts/model") and not create.body.get("model_id")

    result = json.loads((tmp_path / "result.json").read_text())
    assert (result["run_id"], result["model_version"]) == (run_id, "1")  # attached to the job's run
    version = MlflowClient(mlflow_server).get_model_version(model, "1")
    assert version.run_id == run_id
    assert version.tags["job_name"] == run_id and version.tags["training_set_id"] == MANIFEST["id"]
    assert set(version.tags) >= {"training_set_batches", "training_set", "algorithm", "metric.auc", "metric.f1"}
    # tags at creation: the create call carried them, and so does the registry's webhook
    assert {t["key"]: t["value"] for t in create.body["tags"]} == version.tags
    _, body = webhook_deliveries.get(timeout=30)
    delivery = json.loads(body)
    assert (delivery["data"]["name"], delivery["data"]["version"]) == (model, "1")
    assert delivery["data"]["tags"] == version.tags


def test_the_proxy_refuses_what_log_model_needs(proxy, tmp_path):
    """The premise: behind this proxy `mlflow.sklearn.log_model` fails with Azure ML's 404."""
    script = (
        "import mlflow, mlflow.sklearn\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])\n"
        "mlflow.set_experiment('premise')\n"
        "with mlflow.start_run():\n"
        "    mlflow.sklearn.log_model(model, name='model', pip_requirements=['scikit-learn'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
                               "MLFLOW_TRACKING_URI": proxy.url})
    assert done.returncode != 0
    assert "/api/2.0/mlflow/logged-models failed with error code 404" in done.stderr
    assert [(s.method, s.path) for s in proxy.traffic.refused] == [("POST", "/api/2.0/mlflow/logged-models")]
