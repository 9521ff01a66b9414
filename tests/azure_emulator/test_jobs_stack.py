"""The app's training job on the running emulator process (HTTPS, managed identity, Azurite over
HTTPS): AzureMLPlatform.submit_training_job uploads the code folder and registers the training
set through the real SDK, the emulator runs the app's command (links, checksum, manifest,
`python train.py ...`) with a stand-in train.py, and get_job follows it to completed."""
from __future__ import annotations

import hashlib
import json
import time
import uuid

import pytest
import requests

from shared.adapters.azure_ml.client import build_azure_ml
from shared.adapters.azure_ml.config import AzureMLConfig
from shared.domain.batches import BatchRef
from shared.ports.ml_platform import TrainingJobRequest

pytestmark = pytest.mark.integration

STAND_IN_TRAIN = """
import argparse, json, os, pathlib
parser = argparse.ArgumentParser()
for flag in ("--data", "--model-name", "--training-set", "--job-name", "--experiment", "--reg-rate"):
    parser.add_argument(flag)
args = parser.parse_args()
files = sorted(p.name for p in pathlib.Path(args.data).iterdir())
rows = sum(len(p.read_text().splitlines()) for p in pathlib.Path(args.data).iterdir())
print("STAND-IN", json.dumps({"files": files, "rows": rows, "model": args.model_name, "reg_rate": args.reg_rate,
                             "job": args.job_name, "run": os.environ["MLFLOW_RUN_ID"],
                             "manifest": json.load(open(args.training_set))["id"]}))
"""


@pytest.fixture
def platform(azure_stack, monkeypatch, tmp_path):
    env = azure_stack.app_env()
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "ARM_CLOUD_METADATA_URL", "AZUREML_CURRENT_CLOUD",
                 "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.setenv(name, env[name])
    code = tmp_path / "training"
    (code / "environment").mkdir(parents=True)
    (code / "train.py").write_text(STAND_IN_TRAIN)
    (code / "environment" / "conda.yml").write_text("name: train\ndependencies:\n  - python=3.11\n")
    config = azure_stack.config
    settings = AzureMLConfig(config.subscription_id, config.resource_group, config.workspace,
                             training_code_dir=code, environment="environment/conda.yml")
    from azure.identity import ManagedIdentityCredential

    ml_platform, _ = build_azure_ml(settings, credential=ManagedIdentityCredential())
    return ml_platform


def test_the_apps_training_job_runs_on_the_emulator(azure_stack, platform):
    body = b"age,bmi,target\n50,31.2,1\n41,22.0,0\n"
    sha = hashlib.sha256(body).hexdigest()
    data = azure_stack.blob_service().get_container_client(azure_stack.config.data_container)
    data.upload_blob(f"_accepted/{sha}", body, overwrite=True)
    job_name = f"train-{uuid.uuid4().hex[:8]}"
    request = TrainingJobRequest(job_name, "diabetes", (BatchRef(azure_stack.config.data_container, "in/a.csv",
                                                                "0x1", sha, f"_accepted/{sha}", "0x2"),),
                                 "f" * 64, {"reg_rate": "0.5"})

    assert platform.submit_training_job(request) == job_name
    assert platform.submit_training_job(request) == job_name  # idempotent by name
    deadline, status = time.monotonic() + 180, None
    while time.monotonic() < deadline:
        status = platform.get_job(job_name)
        if status.status in ("completed", "failed", "canceled"):
            break
        time.sleep(0.5)
    page = requests.get(f"{azure_stack.emulator_url}/_emulator/jobs/{job_name}",
                        verify=str(azure_stack.ca_file), timeout=10).json()
    assert status.status == "completed", page
    line = next(line for line in page["logTail"].splitlines() if line.startswith("STAND-IN "))
    assert json.loads(line[len("STAND-IN "):]) == {
        "files": [f"{request.inputs[0].id}.csv"], "rows": 3, "model": "diabetes", "reg_rate": "0.5",
        "job": job_name, "run": job_name, "manifest": "f" * 64}
    assert page["statuses"][-1] == "Completed"
