"""Runs one local command job, as Azure ML runs a command job: download the data inputs, run the
command in the job's environment (the spec's interpreter), record status and outputs, and announce
each status change like Azure ML's RunStatusChanged event.

    python -m emulators.local_ml.job_runner <job_dir>

The job folder's layout is `emulator_formats.job_folder`. Environment: `AzureWebJobsStorage`
(where the inputs are: a connection string, or an https account URL for DefaultAzureCredential),
`LOCAL_JOB_EVENTS_URL` and `LOCAL_JOB_EVENTS_KEY` (where to announce; nothing is sent without a URL).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

from emulator_formats import job_folder


def main(job_dir: Path) -> int:
    spec = job_folder.read_spec(job_dir)
    log_path = job_folder.log_file(job_dir)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    job_folder.write_status(job_dir, {"status": job_folder.RUNNING, "started_at": _now()})
    announce(spec, "Running")
    try:
        download_inputs(spec["inputs"], job_folder.training_data_dir(job_dir))
    except Exception as error:  # noqa: BLE001 - any input failure fails the job, with its reason
        return finish(job_dir, spec, job_folder.FAILED, error=f"could not materialise data inputs: {error}")
    result_file = job_folder.result_file(job_dir)
    result_file.parent.mkdir(exist_ok=True)
    try:
        with open(log_path, "ab") as log:
            exit_code = subprocess.call([spec["python"], *spec["command"]], cwd=job_dir, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    except OSError as error:
        return finish(job_dir, spec, job_folder.FAILED, error=f"cannot start the job's Python {spec['python']}: {error}")
    if exit_code != 0:
        return finish(job_dir, spec, job_folder.FAILED, error=f"training script exited with code {exit_code}")
    result = json.loads(result_file.read_text())
    return finish(
        job_dir, spec, job_folder.COMPLETED,
        model_version=str(result.get("model_version") or "") or None,
        run_id=result.get("run_id"), metrics=result.get("metrics", {}),
    )


def download_inputs(inputs: list[dict], data_dir: Path) -> None:
    """Download each input blob to `<data_dir>/<file>`, as Azure ML's download mode would: by name
    (ETag-checked when the input names one), each file's sha256 checked against the input's."""
    from azure.core import MatchConditions

    service = _blob_service(os.environ["AzureWebJobsStorage"])
    data_dir.mkdir(parents=True, exist_ok=True)
    for batch in inputs:
        target = data_dir / Path(batch["file"]).name
        blob = service.get_blob_client(batch["container"], batch["blob"])
        conditions = {"etag": batch["etag"], "match_condition": MatchConditions.IfNotModified} if batch.get("etag") else {}
        downloader = blob.download_blob(**conditions)
        digest = hashlib.sha256()
        with open(target, "wb") as handle:
            for chunk in downloader.chunks():
                digest.update(chunk)
                handle.write(chunk)
        if batch.get("sha256") and digest.hexdigest() != batch["sha256"]:
            raise ValueError(f"input {batch['file']}: the blob's sha256 is {digest.hexdigest()}, "
                             f"not the accepted {batch['sha256']}")


def finish(job_dir: Path, spec: dict, status: str, **details) -> int:
    job_folder.write_status(job_dir, {"status": status, "finished_at": _now(), **details})
    announce(spec, "Completed" if status == job_folder.COMPLETED else "Failed")
    return 0 if status == job_folder.COMPLETED else 1


def announce(spec: dict, run_status: str) -> None:
    """Event Grid-shaped RunStatusChanged to the local Functions host; best effort (the service also polls)."""
    url = os.environ.get("LOCAL_JOB_EVENTS_URL")
    if not url:
        return
    event = [{
        "id": str(uuid.uuid4()),
        "topic": "/local/ml",
        "subject": f"experiments/{spec['experiment']}/runs/{spec['job_name']}",
        "eventType": "Microsoft.MachineLearningServices.RunStatusChanged",
        "eventTime": _now(),
        "dataVersion": "2",
        "metadataVersion": "1",
        "data": {"runId": spec["job_name"], "experimentName": spec["experiment"], "runStatus": run_status},
    }]
    headers = {"Content-Type": "application/json", "aeg-event-type": "Notification"}
    if os.environ.get("LOCAL_JOB_EVENTS_KEY"):
        headers["x-functions-key"] = os.environ["LOCAL_JOB_EVENTS_KEY"]
    request = urllib.request.Request(url, json.dumps(event).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5):
            pass
    except OSError as error:
        print(f"could not announce {run_status}: {error.__class__.__name__}", file=sys.stderr)


def _blob_service(connection: str):
    from azure.storage.blob import BlobServiceClient

    if connection.startswith("https://"):
        from azure.identity import DefaultAzureCredential

        return BlobServiceClient(connection, credential=DefaultAzureCredential())
    return BlobServiceClient.from_connection_string(connection)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
