"""Jobs on ARM: the app's own command job (TrainingJobBuilder) through the real azure-ai-ml
MLClient onto the router (in-process transport), with a recording runner in place of the
process runner (tests/azure_emulator/test_jobs_runner.py runs jobs for real)."""
from __future__ import annotations

import threading

import pytest
from azure.ai.ml.entities import Environment
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from emulators.azure import jobs
from emulators.azure.http import parse_request
from emulators.azure.jobs.routes import JobRoutes, register_routes
from shared.adapters.azure_ml.config import AzureMLConfig
from shared.adapters.azure_ml.platform import AzureMLPlatform
from shared.adapters.azure_ml.training_job import TrainingJobBuilder
from shared.domain.batches import BatchRef
from shared.ports.ml_platform import TrainingJobRequest
from tests.azure_emulator.test_arm_support import make_context, make_ml_client, make_router

SHA = "ab" * 32


class RecordingRunner:
    """The runner's interface as the routes use it: what was started and cancelled."""

    def __init__(self):
        self.started: list[str] = []
        self.cancelled: list[str] = []

    def start(self, job_id, name):
        self.started.append(name)

    def request_cancel(self, name):
        self.cancelled.append(name)
        return True

    def get(self, name):
        done = threading.Event()
        done.set()
        return type("Run", (), {"done": done})()


@pytest.fixture
def emulated(tmp_path):
    context = make_context(tmp_path)
    router = make_router(context)
    runner = RecordingRunner()
    register_routes(router, JobRoutes(context, runner))
    ml, transport = make_ml_client(context, router)
    ml.environments.create_or_update(Environment(name="diabetes-train-env", version="1", image="base:1"))
    scope = {"resource_group_name": context.config.resource_group, "workspace_name": context.config.workspace}
    ml._code._version_operation.create_or_update(
        name="training", version="1", body={"properties": {"codeUri": "https://devstoreaccount1.blob.localhost:10000/c/training"}},
        **scope)
    return context, router, ml, transport, runner


def app_job(context, ml, name="job-1", **changes):
    """The app's command job for one batch, its code the registered code version (the upload of a
    local folder needs real storage: the runner test covers it)."""
    config = AzureMLConfig(context.config.subscription_id, context.config.resource_group, context.config.workspace)
    builder = TrainingJobBuilder(ml, config)
    request = TrainingJobRequest(name, "diabetes", (BatchRef("data", "in/a.csv", "0x1", SHA, f"_accepted/{SHA}", "0x2"),),
                                 "f" * 64, changes.pop("parameters", {}))
    job = builder.command_job(request, builder.register_training_set(request))
    job.code = f"{context.config.workspace_id}/codes/training/versions/1"
    for key, value in changes.items():
        setattr(job, key, value)
    return job


def call(router, method, path, body=b""):
    return router.dispatch(parse_request(method, path, {"host": "127.0.0.1:8443"}, body))


def test_the_apps_job_is_created_and_read_back_as_the_sdk_sees_it(emulated):
    context, _, ml, transport, runner = emulated
    created = ml.jobs.create_or_update(app_job(context, ml))
    assert (created.name, created.status) == ("job-1", "NotStarted")
    assert created.studio_url.startswith("https://127.0.0.1:8443/_emulator/jobs/job-1?wsid=")
    assert runner.started == ["job-1"]
    put = [s for s in transport.sent if s[0] == "PUT" and s[1].endswith("/jobs/job-1")]
    assert put and put[0][2] == "2025-01-01-preview"

    job = ml.jobs.get("job-1")
    assert job.tags == {"model_name": "diabetes", "training_set_id": "f" * 64}
    assert job.experiment_name == "diabetes-training"
    stored = context.store.get(f"{context.config.workspace_id}/jobs/job-1")["properties"]
    assert stored["inputs"]["batch_000"] == {"uri": f"azureml://datastores/retraindata/paths/_accepted/{SHA}",
                                             "mode": "ReadOnlyMount", "jobInputType": "uri_file"}
    assert stored["inputs"]["model_name"] == {"value": "diabetes", "jobInputType": "literal"}
    assert stored["services"]["Tracking"]["endpoint"].startswith("azureml://eastus.api.azureml.localhost:8443/mlflow/v1.0/")
    assert [j.name for j in ml.jobs.list()] == ["job-1"]


def test_the_platform_reads_a_new_jobs_status_as_queued(emulated):
    context, _, ml, _, _ = emulated
    ml.jobs.create_or_update(app_job(context, ml))
    platform = AzureMLPlatform(ml, AzureMLConfig(context.config.subscription_id, context.config.resource_group,
                                                 context.config.workspace))
    status = platform.get_job("job-1")
    assert status.status == "queued"
    assert "_emulator/jobs/job-1" in status.log_tail


def test_the_same_job_again_is_the_same_job_and_a_different_one_is_a_conflict(emulated):
    context, _, ml, _, runner = emulated
    ml.jobs.create_or_update(app_job(context, ml))
    again = ml.jobs.create_or_update(app_job(context, ml, tags={"model_name": "diabetes", "extra": "1"}))
    assert again.tags["extra"] == "1" and runner.started == ["job-1"]
    with pytest.raises(HttpResponseError) as excinfo:
        ml.jobs.create_or_update(app_job(context, ml, parameters={"reg_rate": "0.5"}))
    assert excinfo.value.status_code == 409
    assert excinfo.value.error.code == "UserError"
    assert "different definition" in excinfo.value.error.message


def test_a_missing_job_is_not_found(emulated):
    _, _, ml, _, _ = emulated
    with pytest.raises(ResourceNotFoundError):
        ml.jobs.get("nope")


def test_cancel_is_a_long_running_operation_the_sdk_polls_to_the_end(emulated):
    context, _, ml, transport, runner = emulated
    ml.jobs.create_or_update(app_job(context, ml))
    ml.jobs.begin_cancel("job-1").result()
    assert runner.cancelled == ["job-1"]
    assert any("mfeOperationsStatus/jobcancel:job-1" in path for _, path, _ in transport.sent)
    with pytest.raises(ResourceNotFoundError):
        ml.jobs.begin_cancel("nope")


@pytest.mark.parametrize("name, properties, code, inner", [
    ("bad name!", {"jobType": "Command", "command": "echo", "environmentId": "azureml:AzureML-x:1"}, 400, "InvalidJobName"),
    ("j1", {"jobType": "Pipeline", "command": "echo", "environmentId": "e"}, 400, "UnsupportedJobType"),
    ("j2", {"jobType": "Command", "command": "echo ${{inputs.x}}", "environmentId": "azureml:AzureML-x:1"}, 400,
     "InvalidCommandBinding"),
    ("j3", {"jobType": "Command", "command": "echo", "environmentId": "azureml:AzureML-x:1",
            "codeId": "/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w/codes/c/versions/9"},
     400, "AssetNotFound"),
    ("j4", {"jobType": "Command", "command": " ", "environmentId": "azureml:AzureML-x:1"}, 400, "RequiredField"),
    ("j5", {"jobType": "Command", "command": "echo", "environmentId": "azureml:AzureML-x:1", "codeId": 5}, 400,
     "InvalidFieldType"),
    ("j6", {"jobType": "Command", "command": "echo", "environmentId": {"id": "x"}}, 400, "InvalidFieldType"),
    ("j7", {"jobType": "Command", "command": "echo", "environmentId": "azureml:AzureML-x:1",
            "inputs": {"../../x": {"jobInputType": "literal", "value": "1"}}}, 400, "InvalidInputOutputName"),
    ("j8", {"jobType": "Command", "command": "echo", "environmentId": "azureml:AzureML-x:1",
            "outputs": {"a/b": {"jobOutputType": "uri_folder"}}}, 400, "InvalidInputOutputName"),
])
def test_a_job_arm_would_not_run_is_refused_in_arms_shape(emulated, name, properties, code, inner):
    import json

    context, router, _, _, runner = emulated
    path = f"{context.config.workspace_id}/jobs/{name}?api-version=2025-01-01-preview"
    answer = call(router, "PUT", path, json.dumps({"properties": properties}).encode())
    assert answer.status == code
    assert answer.body["error"]["code"] == "UserError" and answer.body["error"]["innerError"]["code"] == inner
    assert runner.started == []


def test_register_wires_the_runner_and_the_state(tmp_path):
    context = make_context(tmp_path)
    context.extras.update(health={}, state={}, stop={})
    router = make_router(context)
    jobs.register(router, context)
    assert context.extras["state"]["jobs"]() == {"jobs": {}, "active": []}
    assert context.extras["health"]["jobs"]() is True
    answer = call(router, "GET", f"{context.config.workspace_id}/jobs?api-version=2025-01-01-preview")
    assert (answer.status, answer.body) == (200, {"value": []})
