"""End to end through the local host's real HTTP and blob polling: data file → registered model."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from devstack.client import ApiClient, upload_file, wait_for
from shared.domain.signatures import mlflow_signature

pytestmark = pytest.mark.e2e
DATA = Path(__file__).resolve().parents[2] / "data"


def batch_named(api: ApiClient, name: str):
    return next((f for f in api.get_json("/api/data")["files"] if f["name"] == name), None)


def jobs_with(api: ApiClient, name: str):
    return [j for j in api.get_json("/api/jobs")["jobs"] if any(b["name"] == name for b in j["batches"])]


def finished(api: ApiClient, job_name: str):
    job = api.get_json(f"/api/jobs/{job_name}")
    return job if job["status"] in ("completed", "failed") else None


def test_a_dropped_file_becomes_a_registered_model_version(local_stack, api):
    name = f"incoming/dev-{uuid.uuid4().hex[:6]}.csv"
    upload_file(local_stack.storage_connection, "data", name, (DATA / "diabetes-dev.csv").read_bytes())

    batch = wait_for("validation", lambda: batch_named(api, name), 30)
    assert batch["status"] == "accepted" and batch["rows"] == 5000
    [job] = wait_for("a training job", lambda: jobs_with(api, name), 30)
    job = wait_for("the job to finish", lambda: finished(api, job["name"]), 180)
    assert job["status"] == "completed", job["log_tail"]
    assert job["metrics"]["auc"] > 0.8

    version = wait_for("the webhook", lambda: next(
        (v for v in api.get_json("/api/models")["versions"] if v["tags"].get("job_name") == job["name"]), None), 30)
    assert version["source"] == "mlflow-webhook"
    assert version["tags"]["training_set_id"] == job["training_set_id"]
    assert api.get_json(f"/api/jobs/{job['name']}")["model_version"] == version["version"]


def test_files_landing_together_lead_to_one_job(local_stack, api):
    rows = (DATA / "diabetes-prod.csv").read_text().splitlines()
    names = [f"incoming/part-{i}-{uuid.uuid4().hex[:6]}.csv" for i in range(3)]
    for i, name in enumerate(names):
        part = "\n".join([rows[0], *rows[1 + i * 400: 1 + (i + 1) * 400]]) + "\n"
        upload_file(local_stack.storage_connection, "data", name, part.encode())

    for name in names:
        wait_for(f"{name} accepted", lambda n=name: (b := batch_named(api, n)) and b["status"] == "accepted", 30)
    wait_for("a job", lambda: jobs_with(api, names[0]), 30)
    time.sleep(3)  # longer than the quiet period: a second job would have been submitted by now

    jobs = {j["name"] for name in names for j in jobs_with(api, name)}
    assert len(jobs) == 1


def test_a_bad_file_is_rejected_quarantined_and_never_trained_on(local_stack, api):
    from azure.storage.blob import BlobServiceClient

    jobs_before = api.get_json("/api/jobs")["count"]
    name = f"incoming/bad-{uuid.uuid4().hex[:6]}.csv"
    body = (DATA / "diabetes-dev.csv").read_text().replace("PlasmaGlucose", "Glucose", 1).encode()
    etag = upload_file(local_stack.storage_connection, "data", name, body)

    batch = wait_for("the verdict", lambda: batch_named(api, name), 30)
    time.sleep(3)

    assert batch["status"] == "rejected"
    assert "PlasmaGlucose" in batch["summary"] and "Glucose" in batch["summary"]
    service = BlobServiceClient.from_connection_string(local_stack.storage_connection)
    copy = service.get_blob_client("quarantine", batch["quarantine"]["copy"]).download_blob().readall()
    reason = json.loads(service.get_blob_client("quarantine", batch["quarantine"]["reason"]).download_blob().readall())
    assert copy == body
    assert reason["summary"] == batch["summary"]
    assert service.get_blob_client("data", name).get_blob_properties().etag == etag, "the original stays"
    assert api.get_json("/api/jobs")["count"] == jobs_before
    assert batch in api.get_json("/api/data?status=rejected")["files"]


def test_the_webhook_refuses_unsigned_forged_and_stale_deliveries(local_stack, api):
    secret = local_stack.values["MLFLOW_WEBHOOK_SECRET"]
    body = json.dumps({"entity": "model_version", "action": "created",
                       "data": {"name": "diabetes-classifier", "version": "999", "tags": {}}}).encode()

    def post(body: bytes, secret: str | None, timestamp: int | None = None):
        ts = str(timestamp or int(time.time()))
        headers = {"X-MLflow-Delivery-Id": "d1", "X-MLflow-Timestamp": ts}
        if secret:
            headers["X-MLflow-Signature"] = mlflow_signature(secret, "d1", ts, body)
        return api.request("POST", "/api/mlflow/webhook", body, headers, key=False)

    assert post(body, None).status == 401
    assert post(body, "forged").status == 401
    assert post(body, secret, int(time.time()) - 3600).status == 401
    malformed = post(b"{not json", secret)
    assert malformed.status == 400 and b"JSON" in malformed.body and b"Traceback" not in malformed.body
    other = json.dumps({"entity": "model_version", "action": "created",
                        "data": {"name": "someone-else", "version": "1"}}).encode()
    assert post(other, secret).json()["outcome"] == "ignored"
    assert all(v["version"] != "999" for v in api.get_json("/api/models")["versions"])


def test_status_routes_need_the_function_key(local_stack):
    anonymous = ApiClient(local_stack.host_url)
    assert anonymous.request("GET", "/api/data").status == 401
    assert anonymous.request("GET", "/api/jobs").status == 401
    bad_query = ApiClient(local_stack.host_url, local_stack.values["LOCAL_HOST_FUNCTION_KEY"]).request("GET", "/api/data?status=nope")
    assert bad_query.status == 400 and b"status" in bad_query.body
