"""Contract: the training half of the loop (data asset, command job, status, model registry)
as the real azure-ai-ml SDK sends it over HTTP."""
from __future__ import annotations

import pytest

from shared.domain.batches import BatchRef
from shared.domain.errors import NotFound, PlatformError
from shared.domain.training import CANCELED, COMPLETED, FAILED, QUEUED, RUNNING, training_set_id
from shared.ports import TrainingJobRequest
from tests.contract.fake_arm import WS_PATH

BATCHES = (BatchRef("data", "landing/diabetes-a.csv", '"0x8DA1"', "a" * 64),
           BatchRef("data", "landing/2025/diabetes b.csv", '"0x8DA2"', "b" * 64))
TS_ID = training_set_id(list(BATCHES))


def request(job_name: str = "train-20250101-0001", **parameters) -> TrainingJobRequest:
    return TrainingJobRequest(job_name=job_name, model_name="diabetes-classifier", inputs=BATCHES,
                              training_set_id=TS_ID, parameters=parameters)


def test_submit_registers_the_training_set_then_creates_the_command_job(platform, arm):
    assert platform.submit_training_job(request(algorithm="logistic_regression", reg_rate=0.05)) == "train-20250101-0001"

    steps = [(r.method, r.path[len(WS_PATH):], r.api_version) for r in arm.requests]
    data = f"/data/diabetes-classifier-training-set/versions/{TS_ID[:16]}"
    assert steps[0] == ("GET", "/jobs/train-20250101-0001", "2024-01-01-preview")  # idempotency check
    assert steps[1] == ("GET", data, "2023-04-01-preview")
    assert steps[2] == ("PUT", data, "2023-04-01-preview")
    assert steps[3][0:2] == ("GET", steps[3][1]) and steps[3][1].startswith("/codes/")  # snapshot known by hash
    assert steps[-2] == ("GET", "/environments/diabetes-train-env/versions", "2023-04-01-preview")
    assert steps[-1] == ("PUT", "/jobs/train-20250101-0001", "2025-01-01-preview")
    assert [r.method for r in arm.requests].count("PUT") == 2
    assert all(r.url.startswith("https://management.azure.com/") for r in arm.requests)
    assert all(r.headers["Authorization"] == "Bearer dummy-token" for r in arm.requests)
    assert arm.calls("GET", "/codes/")[0].query["hash"]  # content hash of training/

    asset = arm.calls("PUT", "/data/")[0].body["properties"]
    assert asset["dataType"] == "uri_folder"
    assert asset["dataUri"] == "azureml://datastores/retrain_data/paths/landing/"
    assert asset["tags"]["training_set_id"] == TS_ID
    assert asset["tags"]["files"] == "2"
    assert '"etag":"\\"0x8DA1\\""' in asset["tags"]["batches"]

    job = arm.calls("PUT", "/jobs/")[0].body["properties"]
    assert job["jobType"] == "Command"
    assert job["experimentName"] == "diabetes-training"
    assert job["computeId"] == f"{WS_PATH}/computes/cpu-cluster"
    assert job["environmentId"] == f"{WS_PATH}/environments/diabetes-train-env/versions/3"
    assert job["codeId"].startswith(f"{WS_PATH}/codes/") and job["codeId"].endswith("/versions/1")
    assert job["tags"] == {"model_name": "diabetes-classifier", "training_set_id": TS_ID}
    inputs = job["inputs"]
    assert inputs["training_set"] == {"uri": f"{WS_PATH}{data}", "mode": "Direct", "jobInputType": "uri_folder"}
    assert inputs["batch_000"] == {"uri": "azureml://datastores/retrain_data/paths/landing/diabetes-a.csv",
                                   "mode": "ReadOnlyMount", "jobInputType": "uri_file"}
    assert inputs["batch_001"]["uri"] == "azureml://datastores/retrain_data/paths/landing/2025/diabetes b.csv"
    assert inputs["model_name"] == {"value": "diabetes-classifier", "jobInputType": "literal"}
    assert inputs["algorithm"] == {"value": "logistic_regression", "jobInputType": "literal"}
    command = job["command"]
    assert "ln -s ${{inputs.batch_000}} training_data/landing/diabetes-a.csv" in command
    assert "ln -s ${{inputs.batch_001}} 'training_data/landing/2025/diabetes b.csv'" in command
    assert f'"id":"{TS_ID}"' in command and "> training_set.json" in command
    assert command.endswith(
        "python train.py --data training_data --model-name ${{inputs.model_name}} --training-set training_set.json"
        " --job-name train-20250101-0001 --experiment diabetes-training"
        " --algorithm ${{inputs.algorithm}} --reg-rate ${{inputs.reg_rate}}")


def test_submit_is_idempotent_by_job_name(platform, arm):
    platform.submit_training_job(request())
    arm.reset_log()
    assert platform.submit_training_job(request()) == "train-20250101-0001"
    assert [repr(r) for r in arm.requests] == [f"GET {WS_PATH}/jobs/train-20250101-0001?api-version=2024-01-01-preview"]


def test_a_second_job_on_the_same_training_set_reuses_its_data_asset(platform, arm):
    platform.submit_training_job(request("train-a"))
    platform.submit_training_job(request("train-b"))
    assert len(arm.calls("PUT", "/data/")) == 1
    assert len(arm.calls("PUT", "/jobs/")) == 2


def test_a_409_from_a_concurrent_submit_returns_the_same_job(platform, arm):
    arm.fail("PUT", r"/jobs/train-x$", (409, {"error": {"code": "UserError", "message": "Job train-x already exists"}}))
    assert platform.submit_training_job(request("train-x")) == "train-x"


def test_inline_conda_environment(arm, config):
    from dataclasses import replace

    from shared.adapters.azure_ml import build_azure_ml
    from tests.contract.fake_arm import FakeCredential

    platform, _ = build_azure_ml(replace(config, environment="environment/conda.yml"), FakeCredential(), arm)
    platform.submit_training_job(request())
    environment = arm.calls("PUT", "/environments/")[0]
    assert environment.body["properties"]["image"] == "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
    assert "azureml-mlflow" in environment.body["properties"]["condaFile"]
    job = arm.calls("PUT", "/jobs/")[0].body["properties"]
    assert job["environmentId"].endswith(environment.path[len(WS_PATH):])


@pytest.mark.parametrize("azure_status, ours", [
    ("NotStarted", QUEUED), ("Queued", QUEUED), ("Preparing", QUEUED), ("Starting", QUEUED),
    ("Provisioning", QUEUED), ("Running", RUNNING), ("Finalizing", RUNNING),
    ("CancelRequested", RUNNING), ("Canceled", CANCELED), ("Failed", FAILED),
])
def test_job_status_mapping(platform, arm, azure_status, ours):
    platform.submit_training_job(request())
    arm.set_job_status("train-20250101-0001", azure_status)
    status = platform.get_job("train-20250101-0001")
    assert status.status == ours
    if ours == FAILED:
        assert "Failed" in status.error and "https://ml.azure.com/runs/train-20250101-0001" in status.error
    assert "std_log.txt" in status.log_tail


def test_completed_job_reports_the_version_it_registered(platform, arm):
    platform.submit_training_job(request())
    arm.add_model_version("diabetes-classifier", "6", job="older-job")
    arm.add_model_version("diabetes-classifier", "7", job="train-20250101-0001", training_set_id=TS_ID)
    arm.set_job_status("train-20250101-0001", "Completed")
    arm.reset_log()
    status = platform.get_job("train-20250101-0001")
    assert (status.status, status.model_version, status.run_id) == (COMPLETED, "7", "train-20250101-0001")
    assert status.metrics["auc"] == pytest.approx(0.9531)
    listing = arm.calls("GET", "/models/")[0]
    assert listing.path == f"{WS_PATH}/models/diabetes-classifier/versions"
    assert listing.api_version == "2023-08-01-preview"


def test_completed_job_without_a_registered_version_yet(platform, arm):
    platform.submit_training_job(request())
    arm.set_job_status("train-20250101-0001", "Completed")
    status = platform.get_job("train-20250101-0001")
    assert status.status == COMPLETED and status.model_version is None


def test_unknown_job_is_not_found(platform):
    with pytest.raises(NotFound, match="get Azure ML job 'nope'"):
        platform.get_job("nope")


def test_model_version_tags_metrics_and_run(platform, arm):
    arm.add_model_version("diabetes-classifier", "7", job="train-7", training_set_id=TS_ID)
    info = platform.get_model_version("diabetes-classifier", "7")
    assert (info.name, info.version, info.run_id) == ("diabetes-classifier", "7", "train-7")
    assert info.tags["training_set_id"] == TS_ID
    assert info.metrics == {"accuracy": 0.912, "auc": 0.9531, "precision": 0.88, "recall": 0.85, "f1": 0.865}
    assert info.source.startswith("azureml://jobs/train-7/")
    assert arm.requests[-1].path == f"{WS_PATH}/models/diabetes-classifier/versions/7"


def test_server_error_on_submit_names_the_step(platform, arm):
    arm.fail("PUT", r"/jobs/", *[(400, {"error": {"code": "UserError", "message": "Compute cpu-cluster not found"}})])
    with pytest.raises(PlatformError, match="submit Azure ML training job 'train-20250101-0001' failed: "
                                            "HTTP 400 UserError: Compute cpu-cluster not found"):
        platform.submit_training_job(request())


def test_workspace_tracking_uri_for_mlflow(platform, arm):
    """ARM answers mlFlowTrackingUri with /mlflow/v1.0 (fixtures/workspace.json). With azureml-mlflow
    installed, as it is in the deployed set, azure-ai-ml's Workspace._from_rest_object hands it to
    azureml.mlflow.get_mlflow_tracking_uri_v2, which answers /mlflow/v2.0 for MLflow 2 and 3 and
    registers the client's credential for that URI: what MLClient.workspaces.get() gives on Azure."""
    from azureml.mlflow._internal.service_context_loader import _AzureMLServiceContextLoader

    uri = platform.tracking_uri()
    assert uri == ("azureml://westeurope.api.azureml.ms/mlflow/v2.0" + WS_PATH)
    assert _AzureMLServiceContextLoader.has_service_context(uri), "MLflow calls to it use the app's credential"
    platform.tracking_uri()
    assert len(arm.calls("GET")) == 1  # cached


def kept(name: str, etag: str, sha: str) -> BatchRef:
    return BatchRef("data", name, etag, sha, f"_accepted/{sha}", '"0x8DC0"')


def test_kept_copies_are_the_job_inputs_under_short_names_and_their_hashes_are_checked(platform, arm):
    long_name = "landing/" + "données-模型" * 100 + ".csv"  # 1,008 characters
    batches = (kept("landing/diabetes-a.csv", '"0x8DA1"', "a" * 64), kept(long_name, '"0x8DA2"', "b" * 64))
    platform.submit_training_job(TrainingJobRequest("train-kept", "diabetes-classifier", batches,
                                                    training_set_id(list(batches))))

    asset = arm.calls("PUT", "/data/")[0].body["properties"]
    assert asset["dataUri"] == "azureml://datastores/retrain_data/paths/_accepted/"
    job = arm.calls("PUT", "/jobs/")[0].body["properties"]
    assert job["inputs"]["batch_000"]["uri"] == f"azureml://datastores/retrain_data/paths/_accepted/{'a' * 64}"
    assert job["inputs"]["batch_001"]["uri"] == f"azureml://datastores/retrain_data/paths/_accepted/{'b' * 64}"
    command = job["command"]
    for batch, key in zip(batches, ("batch_000", "batch_001")):
        assert f"ln -s ${{{{inputs.{key}}}}} training_data/{batch.id}.csv" in command
        assert f"'{batch.sha256}  training_data/{batch.id}.csv'" in command
    assert "sha256sum --quiet -c training_data.sha256" in command
    assert "données" not in command and "mkdir -p training_data/" not in command, "no path is made of the name"
    assert "\\u00e9" in command, "the name is kept as data, in the manifest"
    assert command.index("sha256sum") < command.index("python train.py")


def test_the_job_runs_in_the_configured_experiment_the_event_filter_expects(arm):
    """AZUREML_EXPERIMENT names the experiment; the job-status Event Grid subscription passes only
    its runs, so a request that names none must land there, not in a hard-coded one."""
    from shared.adapters.azure_ml import AzureMLConfig, build_azure_ml
    from tests.contract.fake_arm import RG, SUB, WS, FakeCredential

    config = AzureMLConfig(subscription_id=SUB, resource_group=RG, workspace=WS, lro_timeout_seconds=10,
                           data_datastore="retrain_data", experiment="diabetes-nightly")
    platform = build_azure_ml(config, credential=FakeCredential(), transport=arm)[0]
    platform.submit_training_job(request("train-experiment"))  # names no experiment

    job = arm.calls("PUT", "/jobs/")[0].body["properties"]
    assert job["experimentName"] == "diabetes-nightly"
    assert "--experiment diabetes-nightly" in job["command"]
