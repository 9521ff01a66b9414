"""Azure ML's MLflow API on the emulator (served in this process over real HTTPS) with a real
backing MLflow server and a real Azurite: a train-like job (.venv-train, the job's environment:
azureml:// tracking URI, MLFLOW_RUN_ID = the job's name, MLFLOW_TRACKING_TOKEN) logs params,
metrics, artifacts and a model through azureml-mlflow and registers it; the app's own adapter
(.venv, managed identity) then reads the version through ARM (MLClient) and the model through
MLflow (models:/ downloads, the gate's evaluation)."""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.azure_emulator.test_mlflow_api_support import APP_PYTHON, TRAIN_PYTHON, mlflow_world, run_script

pytestmark = pytest.mark.integration

TRAIN = """
import json, sys
import mlflow
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from training.run_logging import log_heldout, log_json, log_model, register

name = sys.argv[1]
X = pd.DataFrame({"Age": [20, 30, 40, 50, 60, 70, 25, 65], "BMI": [20, 22, 25, 31, 33, 35, 21, 34]})
y = pd.Series([0, 0, 0, 1, 1, 1, 0, 1], name="Diabetic")
model = Pipeline([("clf", LogisticRegression())]).fit(X, y)
with mlflow.start_run() as active:
    run_id = active.info.run_id
    mlflow.log_params({"reg_rate": 0.01})
    mlflow.log_metrics({"auc": 0.93})
    mlflow.set_tags({"job_name": run_id})
    log_json({"columns": ["Age", "BMI"]}, "baseline_profile.json")
    log_heldout(X, y)
    log_model(model, X, model.predict(X))
    tags = {"job_name": run_id, "metric.auc": "0.930000"}
    version = register(name, run_id, tags)  # the training code's own registration
print(json.dumps({"run_id": run_id, "version": version.version, "artifact_uri": active.info.artifact_uri,
                  "source": version.source}))
"""

APP = """
import json, os, sys
from azure.identity import ManagedIdentityCredential
from shared.adapters.azure_ml.client import build_azure_ml
from shared.adapters.azure_ml.config import AzureMLConfig

name, version = sys.argv[1], sys.argv[2]
settings = AzureMLConfig(os.environ["AZURE_SUBSCRIPTION_ID"], os.environ["AZURE_RESOURCE_GROUP"],
                         os.environ["AZUREML_WORKSPACE"])
platform, _ = build_azure_ml(settings, credential=ManagedIdentityCredential())
info = platform.get_model_version(name, version)
listed = platform.list_model_versions(name)
import mlflow
client = mlflow.MlflowClient(platform.tracking_uri())
searched = client.search_model_versions(f"name='{name}'")
run = client.get_run(info.run_id)
print(json.dumps({
    "info": {"run_id": info.run_id, "tags": info.tags, "metrics": info.metrics, "created_by": info.created_by,
             "source": info.source},
    "listed": [v.version for v in listed],
    "searched": [v.version for v in searched],
    "run": {"id": run.info.run_id, "params": run.data.params, "metrics": run.data.metrics,
            "artifact_uri": run.info.artifact_uri},
    # First, before anything sets MLflow's global tracking URI: the digest names its registry itself.
    "digest": platform.model_artifact_digest(name, version),
    "example": platform.get_input_example(name, version),
    "profile": platform.get_baseline_profile(name, version),
    "evaluation": platform.evaluate_models(name, [version], version),
}))
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with mlflow_world(tmp_path_factory.mktemp("mlflow-api")) as built:
        yield built


@pytest.fixture(scope="module")
def trained(world, tmp_path_factory):
    """A job's run made by the emulator, a train-like script logging and registering into it."""
    job = f"job-{uuid.uuid4().hex[:10]}"
    model = f"diabetes-{uuid.uuid4().hex[:6]}"
    jobs = world.emulator.context.extras["mlflow"]
    jobs.create_job_run("diabetes-training", job, {"source": "test"})
    folder = tmp_path_factory.mktemp("job")
    out = run_script(TRAIN_PYTHON, TRAIN, world.job_env(job, "diabetes-training"), folder, model)
    jobs.end_job_run(job, "FINISHED")
    return {"job": job, "model": model, **json.loads(out.strip().splitlines()[-1])}


def arm(world, path: str, **params) -> requests.Response:
    return requests.get(f"{world.config.base_url}{world.config.workspace_id}{path}",
                        params={"api-version": "2024-10-01", **params},
                        headers={"Authorization": f"Bearer {world.app_token()}"},
                        verify=str(world.stack.ca_file), timeout=30)


def mlflow_api(world, method: str, endpoint: str, token: str | None = None, **kwargs) -> requests.Response:
    host = f"{world.config.location}.api.azureml.localhost:{world.config.https_port}"
    url = f"https://{host}/mlflow/v2.0{world.config.workspace_id}/api/2.0/mlflow/{endpoint}"
    headers = {"Authorization": f"Bearer {token or world.app_token()}"}
    return requests.request(method, url, headers=headers, verify=str(world.stack.ca_file), timeout=30, **kwargs)


def test_the_job_logs_into_the_run_named_by_the_job_and_registers_a_version(world, trained):
    assert trained["run_id"] == trained["job"]
    assert trained["version"] == "1"
    assert trained["artifact_uri"].startswith(f"azureml://{world.config.location}.api.azureml.localhost:")
    assert trained["artifact_uri"].endswith(f"/runs/{trained['job']}/artifacts")
    run = world.emulator.context.extras["mlflow"].backing.call("GET", "runs/get", run_id=trained["job"])["run"]
    assert run["info"]["status"] == "FINISHED"
    assert {p["key"]: p["value"] for p in run["data"]["params"]} == {"reg_rate": "0.01"}
    # the artifacts are in the workspace blob store, where Azure ML keeps a run's files
    blobs = world.stack.blob_service().get_container_client(world.config.workspace_container)
    names = {b.name for b in blobs.list_blobs(name_starts_with=f"ExperimentRun/dcid.{trained['job']}/")}
    assert f"ExperimentRun/dcid.{trained['job']}/model/MLmodel" in names
    assert f"ExperimentRun/dcid.{trained['job']}/evaluation/heldout.csv" in names


def test_the_training_code_registers_its_version_from_the_run_artifacts(trained):
    """training.run_logging.register names the run's model/ folder by its artifact URI: MLflow 3's
    runs:/<run>/model registration would list the run's whole artifact container (azureml-mlflow) and
    then ask the logged-models API, which Azure ML has not."""
    assert trained["version"] == "1"
    assert trained["source"] == f"{trained['artifact_uri'].rstrip('/')}/model"
    assert trained["source"].startswith("azureml://")


def test_the_version_is_an_arm_model_version_with_the_tags_and_the_job(world, trained):
    answer = arm(world, f"/models/{trained['model']}/versions/1")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["name"] == "1"
    assert body["properties"]["tags"]["job_name"] == trained["job"]
    assert body["properties"]["jobName"] == trained["job"]
    assert body["properties"]["modelType"] == "mlflow_model"
    assert "sklearn" in body["properties"]["flavors"]
    assert body["properties"]["modelUri"].endswith(f"/paths/ExperimentRun/dcid.{trained['job']}/model")
    assert body["systemData"]["createdBy"]  # the job's identity
    listed = arm(world, f"/models/{trained['model']}/versions").json()
    assert [v["name"] for v in listed["value"]] == ["1"]
    container = arm(world, f"/models/{trained['model']}").json()
    assert container["properties"]["latestVersion"] == "1"
    assert arm(world, f"/models/{trained['model']}/versions/7").status_code == 404
    assert world.emulator.context.extras["registry"].get_version(trained["model"], "1")["name"] == "1"
    assert world.emulator.context.extras["registry"].get_version(trained["model"], "7") is None


def test_model_registered_is_published_with_the_versions_tags(world, trained):
    events = [e for topic, e in world.events.published
              if e["eventType"] == "Microsoft.MachineLearningServices.ModelRegistered"
              and e["data"]["modelName"] == trained["model"]]
    assert len(events) == 1
    event = events[0]
    assert event["subject"] == f"models/{trained['model']}:1"
    assert event["topic"] == world.config.workspace_id
    assert event["data"]["modelVersion"] == "1"
    assert event["data"]["modelTags"]["job_name"] == trained["job"]


def test_the_backing_registry_serves_the_model_files_too(world, trained):
    """The scoring servers load models:/<name>/<version> from the backing server."""
    backing = world.emulator.context.extras["mlflow"].backing
    uri = backing.call("GET", "model-versions/get-download-uri", name=trained["model"], version="1")["artifact_uri"]
    assert uri.startswith("mlflow-artifacts:/")
    path = uri[len("mlflow-artifacts:/"):]
    answer = backing.send("GET", f"/api/2.0/mlflow-artifacts/artifacts/{path}/MLmodel")
    assert answer.status == 200 and b"sklearn" in answer.body


def test_the_app_reads_the_version_and_the_model_through_arm_and_mlflow(world, trained, tmp_path):
    out = run_script(APP_PYTHON, APP, world.app_env(), tmp_path, trained["model"], "1")
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["info"]["run_id"] == trained["job"]
    assert seen["info"]["tags"]["job_name"] == trained["job"]
    assert seen["info"]["metrics"] == {"auc": 0.93}
    assert seen["info"]["created_by"]
    assert seen["listed"] == ["1"] and seen["searched"] == ["1"]
    assert seen["run"]["id"] == trained["job"] and seen["run"]["params"] == {"reg_rate": "0.01"}
    assert seen["run"]["metrics"] == {"auc": 0.93}
    assert seen["digest"].startswith("sha256:")
    assert seen["example"][0] == ["Age", "BMI"]
    assert seen["profile"] == {"columns": ["Age", "BMI"]}
    assert seen["evaluation"]["1"]["rows"] == 8


def test_logged_models_and_webhooks_are_not_azure_ml_apis(world):
    for method, endpoint in (("POST", "logged-models/search"), ("GET", "logged-models/abc"),
                             ("POST", "webhooks"), ("GET", "webhooks")):
        answer = mlflow_api(world, method, endpoint, json={})
        assert answer.status_code == 404, (endpoint, answer.text)
        assert answer.json()["error"]["code"] == "UserError"


def test_the_mlflow_api_needs_a_token(world):
    host = f"{world.config.location}.api.azureml.localhost:{world.config.https_port}"
    answer = requests.get(f"https://{host}/mlflow/v2.0{world.config.workspace_id}/api/2.0/mlflow/experiments/search",
                          verify=str(world.stack.ca_file), timeout=30)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "AuthenticationFailed"


def test_another_workspace_is_not_found(world):
    host = f"{world.config.location}.api.azureml.localhost:{world.config.https_port}"
    other = world.config.workspace_id.replace(world.config.workspace, "other-ws")
    answer = requests.get(f"https://{host}/mlflow/v2.0{other}/api/2.0/mlflow/experiments/search",
                          headers={"Authorization": f"Bearer {world.app_token()}"},
                          verify=str(world.stack.ca_file), timeout=30)
    assert answer.status_code == 404
