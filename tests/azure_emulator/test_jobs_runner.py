"""The job runner end to end on a real Azurite (plain HTTP): code snapshot and inputs downloaded
from blobs, the command run as a real process by the training environment's python, statuses and
run events in order, std_log.txt kept and uploaded, the MLflow run created before the process
starts and ended after, the "job_failed" fault, and a cancel that ends the process group."""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from devstack.processes import training_python
from emulators.azure import arm, jobs
from emulators.azure.context import Context, EmulatorConfig
from emulators.azure.faults import Faults
from emulators.azure.http import Router, parse_request
from emulators.azure.identity import TokenIssuer
from emulators.azure.store import ResourceStore

pytestmark = pytest.mark.integration
API = "api-version=2025-01-01-preview"
CHECK_SCRIPT = """
import json, os, shutil, sys
batch, folder, name = sys.argv[1:4]
print("reading", batch)
json.dump({"python": sys.executable, "which": shutil.which("python"), "batch": open(batch).read(),
           "folder": sorted(os.listdir(folder)), "name": name, "cwd": os.getcwd(),
           "env": {k: v for k, v in os.environ.items() if k.startswith(("MLFLOW_", "AZUREML_"))}},
          open("out.json", "w"))
"""


class RecordingEvents:
    def __init__(self):
        self.published: list[tuple[str, dict]] = []

    def publish(self, topic, event):
        self.published.append((topic, event))

    def of(self, job: str) -> list[tuple[str, str]]:
        """(event type, runStatus) of the job's events; RunCompleted carries no runStatus (None)."""
        return [(e["eventType"].rsplit(".", 1)[1], e["data"].get("runStatus")) for _, e in self.published
                if e["data"]["runId"] == job]


class RecordingMlflow:
    """H4's extras["mlflow"] as the runner uses it; notes the job's status at each call."""

    def __init__(self, context):
        self.context, self.calls = context, []

    def _status(self, run_id):
        return self.context.store.get(f"{self.context.config.workspace_id}/jobs/{run_id}")["properties"]["status"]

    def create_job_run(self, experiment_name, run_id, tags):
        self.calls.append(("create", experiment_name, run_id, tags, self._status(run_id)))

    def end_job_run(self, run_id, status):
        self.calls.append(("end", run_id, status))


@pytest.fixture(scope="module")
def blobs(azurite) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(azurite)


@pytest.fixture
def emulated(azurite, blobs, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    config = EmulatorConfig(
        root=tmp_path, repo_root=Path.cwd(), https_port=8443, identity_port=8444, identity_header="h",
        storage_connection=azurite, storage_account="devstoreaccount1", blob_suffix="localhost:10000",
        mlflow_backing_url="http://127.0.0.1:1", training_python=training_python(), host_url="http://127.0.0.1:7071",
        blobs_extension_key="b", eventgrid_extension_key="e", data_container=f"data-{suffix}",
        workspace_container=f"azureml-blobstore-{suffix}", time_scale=0.01, lro_seconds=0.5)
    for container in (config.data_container, config.workspace_container, f"code-{suffix}"):
        blobs.create_container(container)
    context = Context(config=config, store=ResourceStore(), events=RecordingEvents(), scoring=None, faults=Faults(),
                      tokens=TokenIssuer(config.tenant_id), blob_service=lambda: blobs,
                      extras={"health": {}, "state": {}, "stop": {}})
    context.extras["mlflow"] = RecordingMlflow(context)
    router = Router()
    arm.register(router, context)
    jobs.register(router, context)
    code = blobs.get_container_client(f"code-{suffix}")
    code.upload_blob("snap/training/check.py", CHECK_SCRIPT.encode())
    code.upload_blob("snap/training/lib/helper.txt", b"helper")
    code_id = f"{config.workspace_id}/codes/training/versions/1"
    context.store.put(code_id, {"id": code_id, "name": "1", "properties": {
        "codeUri": f"{blobs.url.rstrip('/')}/code-{suffix}/snap/training"}})
    data = blobs.get_container_client(config.data_container)
    data.upload_blob("_accepted/abc", b"age,bmi\n50,31\n")
    data.upload_blob("batches/2026/one.csv", b"1")
    data.upload_blob("batches/2026/two.csv", b"2")
    asset_id = f"{config.workspace_id}/data/diabetes-training-set/versions/1"
    context.store.put(asset_id, {"id": asset_id, "name": "1", "properties": {
        "dataUri": "azureml://datastores/retraindata/paths/batches/2026/", "dataType": "uri_folder"}})
    yield context, router, code_id
    context.extras["stop"]["jobs"]()


def submit(context, router, name, command, code_id, inputs=None):
    properties = {"jobType": "Command", "command": command, "codeId": code_id, "experimentName": "diabetes-training",
                  "environmentId": "azureml:AzureML-sklearn-1.5:1", "tags": {"model_name": "diabetes"},
                  "inputs": inputs or {}, "properties": {"mlflow.source.git.branch": "main"}}
    answer = router.dispatch(parse_request("PUT", f"{context.config.workspace_id}/jobs/{name}?{API}",
                                           {"host": "127.0.0.1:8443"}, json.dumps({"properties": properties}).encode()))
    assert answer.status == 201, answer.body
    return answer


def wait_for(context, name, statuses, within=120.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        status = context.store.get(f"{context.config.workspace_id}/jobs/{name}")["properties"]["status"]
        if status in statuses:
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {name} is still {status}")


def wait_done(context, name):
    run = context.extras["jobs"].get(name)
    assert run.done.wait(120), f"job {name} did not end"
    return context.store.get(f"{context.config.workspace_id}/jobs/{name}")["properties"]["status"]


def alive(pid: int) -> bool:
    """Running (a zombie left for init to reap has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


INPUTS = {
    "batch_000": {"jobInputType": "uri_file", "mode": "ReadOnlyMount", "uri": "azureml://datastores/retraindata/paths/_accepted/abc"},
    "folder": {"jobInputType": "uri_folder", "mode": "Download", "uri": "azureml:diabetes-training-set:1"},
    "training_set": {"jobInputType": "uri_folder", "mode": "Direct", "uri": "azureml:diabetes-training-set:1"},
    "model_name": {"jobInputType": "literal", "value": "diabetes"},
}


def test_a_job_runs_with_its_code_and_inputs_and_reports_every_status(emulated):
    context, router, code_id = emulated
    command = ("ln -s ${{inputs.batch_000}} data.csv && echo direct=${{inputs.training_set}} && "
               "python check.py data.csv ${{inputs.folder}} ${{inputs.model_name}}")
    submit(context, router, "job-ok", command, code_id, INPUTS)
    assert wait_done(context, "job-ok") == "Completed"

    job_dir = context.config.root / "jobs" / "job-ok"
    out = json.loads((job_dir / "code" / "out.json").read_text())
    assert Path(out["which"]).parent == Path(context.config.training_python).parent
    assert (out["batch"], out["folder"], out["name"]) == ("age,bmi\n50,31\n", ["one.csv", "two.csv"], "diabetes")
    assert out["cwd"] == str(job_dir / "code") and (job_dir / "code" / "lib" / "helper.txt").read_text() == "helper"
    env = out["env"]
    assert (env["MLFLOW_RUN_ID"], env["AZUREML_RUN_ID"], env["MLFLOW_EXPERIMENT_NAME"]) == ("job-ok", "job-ok",
                                                                                            "diabetes-training")
    assert env["MLFLOW_TRACKING_URI"] == f"azureml://eastus.api.azureml.localhost:8443/mlflow/v1.0{context.config.workspace_id}"
    assert context.tokens.validate(f"Bearer {env['MLFLOW_TRACKING_TOKEN']}").client == "job"
    assert env["AZUREML_ARM_WORKSPACE_NAME"] == context.config.workspace

    log_text = (job_dir / "user_logs" / "std_log.txt").read_text()
    assert "reading data.csv" in log_text and "direct=azureml://datastores/retraindata/paths/batches/2026/" in log_text
    uploaded = context.blob_service().get_blob_client(context.config.workspace_container,
                                                      "ExperimentRun/dcid.job-ok/user_logs/std_log.txt")
    assert uploaded.download_blob().readall().decode() == log_text

    assert context.events.of("job-ok") == [
        ("RunStatusChanged", s) for s in ("NotStarted", "Queued", "Preparing", "Running", "Finalizing", "Completed")
    ] + [("RunCompleted", None)]
    topic, event = context.events.published[-1]
    assert set(event["data"]) == {"experimentId", "experimentName", "runId", "runType", "runTags", "runProperties"}
    assert topic == event["topic"] == context.config.workspace_id
    assert event["subject"] == f"experiments/{event['data']['experimentId']}/runs/job-ok"
    assert event["data"]["runTags"] == {"model_name": "diabetes"} and event["data"]["experimentName"] == "diabetes-training"
    assert context.extras["mlflow"].calls == [("create", "diabetes-training", "job-ok", {"model_name": "diabetes"}, "Preparing"),
                                              ("end", "job-ok", "FINISHED")]


def test_a_failing_command_and_the_job_failed_fault_end_the_job_failed(emulated):
    context, router, code_id = emulated
    submit(context, router, "job-exit", "echo before; exit 3", code_id)
    assert wait_done(context, "job-exit") == "Failed"
    assert "exited with code 3" in (context.config.root / "jobs/job-exit/user_logs/std_log.txt").read_text()

    context.faults.add({"kind": "job_failed", "match": {"job": "job-fault"}, "times": 1, "message": "disk full"})
    submit(context, router, "job-fault", "touch ran.txt", code_id)
    assert wait_done(context, "job-fault") == "Failed"
    assert not (context.config.root / "jobs/job-fault/code/ran.txt").exists()
    assert "disk full" in (context.config.root / "jobs/job-fault/user_logs/std_log.txt").read_text()
    assert ("RunCompleted", None) not in context.events.of("job-fault")
    assert context.events.of("job-fault")[-1] == ("RunStatusChanged", "Failed")
    assert ("end", "job-fault", "FAILED") in context.extras["mlflow"].calls
    assert context.faults.pending() == []


def test_an_input_that_is_not_there_fails_the_job_before_it_runs(emulated):
    context, router, code_id = emulated
    inputs = {"x": {"jobInputType": "uri_file", "mode": "ReadOnlyMount", "uri": "azureml://datastores/retraindata/paths/none.csv"}}
    submit(context, router, "job-missing", "cat ${{inputs.x}}", code_id, inputs)
    assert wait_done(context, "job-missing") == "Failed"
    assert "Running" not in [s for _, s in context.events.of("job-missing")]
    assert "nothing found at azureml://datastores/retraindata/paths/none.csv" in (
        context.config.root / "jobs/job-missing/user_logs/std_log.txt").read_text()


def test_cancel_ends_the_process_group_and_the_job_is_canceled(emulated):
    context, router, code_id = emulated
    submit(context, router, "job-long", "sleep 60 & echo $! > child.pid; wait", code_id)
    wait_for(context, "job-long", {"Running"})
    pid_file = context.config.root / "jobs/job-long/code/child.pid"
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    answer = router.dispatch(parse_request("POST", f"{context.config.workspace_id}/jobs/job-long/cancel?{API}",
                                           {"host": "127.0.0.1:8443"}, b""))
    assert answer.status == 202 and "mfeOperationResults" in answer.headers["Location"]
    assert wait_done(context, "job-long") == "Canceled"
    assert not alive(child)
    statuses = [s for _, s in context.events.of("job-long")]
    assert statuses[-3:] == ["CancelRequested", "Finalizing", "Canceled"]
    assert ("end", "job-long", "KILLED") in context.extras["mlflow"].calls
    assert context.extras["state"]["jobs"]()["active"] == []
