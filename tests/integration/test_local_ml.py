"""The local ML backend: real job processes training on data from Azurite, registering in a real MLflow server."""
from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import pytest

from devstack.client import upload_file, wait_for
from devstack.processes import training_python
from shared.adapters.local_ml.platform import LocalMLPlatform
from shared.domain.batches import BatchRef
from shared.domain.training import COMPLETED, FAILED, training_set_id
from shared.ports import TrainingJobRequest

pytestmark = pytest.mark.integration
DATA = Path(__file__).resolve().parents[2] / "data"


def sample(rows: int, only_label: str | None = None) -> bytes:
    with open(DATA / "diabetes-dev.csv", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        kept = [r for r in reader if only_label is None or r[-1] == only_label][:rows]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *kept])
    return out.getvalue().encode()


@pytest.fixture
def platform(azurite, mlflow_server, tmp_path):
    return LocalMLPlatform(str(tmp_path / "jobs"), azurite, mlflow_server, events_url="", events_key="",
                           training_python=training_python())


def submit(platform, azurite, data: bytes, model_name: str) -> str:
    import hashlib

    container, name = "data", f"it/{uuid.uuid4().hex[:8]}.csv"
    etag = upload_file(azurite, container, name, data)
    batch = BatchRef(container, name, etag, hashlib.sha256(data).hexdigest())
    job_name = f"train-it-{uuid.uuid4().hex[:8]}"
    request = TrainingJobRequest(job_name, model_name, (batch,), training_set_id([batch]),
                                 {"algorithm": "logistic_regression"})
    assert platform.submit_training_job(request) == job_name
    assert platform.submit_training_job(request) == job_name, "a repeated submit is the same job"
    return job_name


def test_job_trains_and_registers_a_version_with_its_training_set(platform, azurite):
    model_name = f"it-model-{uuid.uuid4().hex[:6]}"
    job_name = submit(platform, azurite, sample(600), model_name)

    status = wait_for("the job to finish", lambda: (s := platform.get_job(job_name)).status in (COMPLETED, FAILED) and s, 120)

    assert status.status == COMPLETED, status.log_tail
    assert status.model_version == "1"
    assert status.metrics["auc"] > 0.7
    version = platform.get_model_version(model_name, "1")
    assert version.tags["job_name"] == job_name
    assert version.run_id == status.run_id
    assert set(version.metrics) >= {"accuracy", "auc", "precision", "recall", "f1"}
    assert len(list((platform.jobs_dir / job_name).glob("runner.pid"))) == 1
    spec = json.loads((platform.jobs_dir / job_name / "spec.json").read_text())
    assert spec["python"] == str(training_python()), "train.py runs in the training environment"


def test_a_failing_job_reports_failed_with_the_log_tail_and_registers_nothing(platform, azurite):
    model_name = f"it-model-{uuid.uuid4().hex[:6]}"
    job_name = submit(platform, azurite, sample(300, only_label="0"), model_name)

    status = wait_for("the job to finish", lambda: (s := platform.get_job(job_name)).status in (COMPLETED, FAILED) and s, 120)

    assert status.status == FAILED
    assert "class" in status.log_tail.lower()
    assert status.model_version is None
    from shared.domain.errors import NotFound

    with pytest.raises(NotFound):
        platform.get_model_version(model_name, "1")


def kept_copy(azurite, name: str, data: bytes) -> BatchRef:
    """An uploaded file and its immutable copy, as ingestion keeps them on acceptance."""
    import hashlib

    from shared.adapters.blob_storage import BlobFileStore, blob_service
    from shared.services.repositories.batches import accepted_copy_name

    etag = upload_file(azurite, "data", name, data)
    sha = hashlib.sha256(data).hexdigest()
    copy = BlobFileStore(blob_service(azurite)).keep_copy("data", name, etag, "data", accepted_copy_name(sha))
    return BatchRef("data", name, etag, sha, copy.name, copy.etag)


def run(platform, batch: BatchRef, model_name: str):
    job_name = f"train-it-{uuid.uuid4().hex[:8]}"
    platform.submit_training_job(TrainingJobRequest(job_name, model_name, (batch,), training_set_id([batch]),
                                                    {"algorithm": "logistic_regression"}))
    return job_name, wait_for("the job to finish",
                              lambda: (s := platform.get_job(job_name)).status in (COMPLETED, FAILED) and s, 120)


def test_a_job_reads_the_kept_copy_under_a_short_name_whatever_the_blob_name(platform, azurite):
    from azure.storage.blob import BlobServiceClient

    name = f"it/{uuid.uuid4().hex[:6]}/" + "données-模型-" * 70 + ".csv"  # 900+ characters, 1,900+ bytes
    data = sample(600)
    batch = kept_copy(azurite, name, data)
    BlobServiceClient.from_connection_string(azurite).get_blob_client("data", name).delete_blob()

    job_name, status = run(platform, batch, f"it-model-{uuid.uuid4().hex[:6]}")

    assert status.status == COMPLETED, status.error + status.log_tail
    [downloaded] = (platform.jobs_dir / job_name / "inputs" / "training_data").iterdir()
    assert downloaded.name == f"{batch.id}.csv" and downloaded.read_bytes() == data


def test_a_copy_changed_by_hand_fails_the_job_naming_the_hash(platform, azurite):
    batch = kept_copy(azurite, f"it/{uuid.uuid4().hex[:8]}.csv", sample(611))  # bytes no other test copies
    upload_file(azurite, "data", batch.copy_name, sample(500))

    _, status = run(platform, batch, f"it-model-{uuid.uuid4().hex[:6]}")

    assert status.status == FAILED and "sha256" in status.error
